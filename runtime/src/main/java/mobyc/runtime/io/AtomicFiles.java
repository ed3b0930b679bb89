package mobyc.runtime.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

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

    /**
     * Writes {@code target} through {@code body}: to a new temporary file next to it, forced to disk, then
     * renamed over it atomically. If anything fails the target is untouched and the temporary file removed.
     */
    public static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        // CREATE_NEW with a random name rather than Files.createTempFile, whose 0600 mode the target would keep
        Path tmp = dir.resolve("." + absolute.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        boolean done = false;
        try {
            try (FileChannel ch = channel) {
                body.writeTo(ch);
                ch.force(true);
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
        forceDirectory(dir);
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
