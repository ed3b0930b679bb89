package mobyc.runtime.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir Path dir;

    private List<Path> files() throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void replacesTheTargetAndLeavesNoTemporaryFile() throws IOException {
        Path p = dir.resolve("a.bin");
        Files.writeString(p, "old");
        AtomicFiles.write(p, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap("new".getBytes(StandardCharsets.US_ASCII))));
        assertEquals("new", Files.readString(p));
        assertEquals(List.of(p), files());
    }

    @Test
    void aFailedWriteLeavesTheOldContents() throws IOException {
        Path p = dir.resolve("a.bin");
        Files.writeString(p, "old");
        assertThrows(IOException.class, () -> AtomicFiles.write(p, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full");
        }));
        assertArrayEquals("old".getBytes(StandardCharsets.US_ASCII), Files.readAllBytes(p));
        assertEquals(List.of(p), files());
    }
}
