package mobyc.runtime.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either the old or the complete new contents: a temporary file in the same
 * directory, forced to disk, then renamed over the target atomically.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the body of a file to an open channel. */
    @FunctionalInterface
    public interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    public static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.writeTo(ch);
                ch.force(true);
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            forceDirectory(dir);
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /** Writes all of {@code bytes}. */
    public static void writeFully(FileChannel ch, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) ch.write(bytes);
    }

    /** Writes all of {@code segment}, in chunks small enough for a ByteBuffer. */
    public static void writeFully(FileChannel ch, MemorySegment segment) throws IOException {
        final long chunk = 1L << 30;
        for (long off = 0; off < segment.byteSize(); off += chunk)
            writeFully(ch, segment.asSlice(off, Math.min(chunk, segment.byteSize() - off)).asByteBuffer());
    }

    /** Makes the rename durable where the platform allows syncing a directory (Linux does; others may not). */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort: the file itself is already on disk
        }
    }
}
