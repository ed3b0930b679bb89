package mobyc.runtime.cpu.codegen;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The on-disk cache of compiled kernel classes: one file per class, named by the hash of its source, holding a
 * header, the SHA-256 of the class bytes and the bytes. Writes are atomic (temporary file, then rename; no fsync: a lost entry is only recompiled); a file that
 * is short, foreign or fails its checksum reads as absent, so a corrupted entry is simply rebuilt.
 */
final class KernelCache {
    private static final byte[] MAGIC = "mobyc-kernel-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST = 32;

    private final Path dir;

    KernelCache(Path dir) { this.dir = dir; }

    Path dir() { return dir; }

    Path file(String hash) { return dir.resolve(hash + ".kclass"); }

    /** The class bytes stored for {@code hash}, or null when absent or damaged. */
    byte[] read(String hash) {
        Path f = file(hash);
        byte[] all;
        try {
            if (!Files.isRegularFile(f)) return null;
            all = Files.readAllBytes(f);
        } catch (IOException e) {
            return null;
        }
        int head = MAGIC.length + DIGEST;
        if (all.length <= head || !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) return null;
        byte[] bytes = Arrays.copyOfRange(all, head, all.length);
        if (!Arrays.equals(sha256(bytes), 0, DIGEST, all, MAGIC.length, head)) return null;
        return bytes;
    }

    /** Stores the class bytes for {@code hash}; a cache that cannot be written is not an error (false). */
    boolean write(String hash, byte[] bytes) {
        try {
            Files.createDirectories(dir);
            byte[] all = ByteBuffer.allocate(MAGIC.length + DIGEST + bytes.length).put(MAGIC).put(sha256(bytes)).put(bytes).array();
            // a cache needs no fsync (a lost entry is recompiled), only that readers never see half a file
            Path tmp = dir.resolve("." + hash + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.write(tmp, all, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                Files.move(tmp, file(hash), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hash(String text) {
        return HexFormat.of().formatHex(sha256(text.getBytes(StandardCharsets.UTF_8)), 0, 16);
    }
}
