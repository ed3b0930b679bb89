package mobyc.data;

import java.io.BufferedInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import mobyc.runtime.io.AtomicFiles;

/**
 * The IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, an element type, the rank, then
 * one 32-bit size per dimension) followed by the elements, row-major. Only unsigned bytes (type 0x08) are read:
 * images are {@code 0x00000803} ({@code u8 [N, rows, cols]}), labels {@code 0x00000801} ({@code u8 [N]}); a rank-4
 * {@code 0x00000804} ({@code u8 [N, channels, rows, cols]}) is accepted as images too.
 *
 * <p>A file may be plain or gzip-compressed; which is told by the gzip magic {@code 1f 8b}, not by the name. Every
 * problem (wrong magic, truncated header or data, trailing bytes, corrupt gzip) is a {@link DataException} whose
 * message starts with the file.
 */
public final class Idx {
    private Idx() {}

    public static final int LABELS_MAGIC = 0x00000801;
    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int CHANNEL_IMAGES_MAGIC = 0x00000804;

    private static final int U8 = 0x08;
    private static final int BUFFER = 1 << 16;
    /** The largest Java array the JVM reliably allocates. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    /**
     * The contents of an IDX file of unsigned bytes: its dimensions and its elements, row-major. The arrays are
     * shared, not copied.
     */
    public record Data(int[] dims, byte[] bytes) {
        public Data {
            if (dims.length < 1 || dims.length > 255)
                throw new IllegalArgumentException("an IDX array has 1 to 255 dimensions, not " + dims.length);
            long n = 1;
            for (int d : dims) {
                if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
                n *= d;
                if (n > MAX_BYTES) throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " are too large");
            }
            if (n != bytes.length)
                throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " need " + n + " bytes, " + bytes.length + " given");
        }

        /** The first dimension: the number of images or labels. */
        public int count() { return dims[0]; }

        /** The magic number this array is written with: {@code 0x0000_08_rank}. */
        public int magic() { return (U8 << 8) | dims.length; }

        @Override public String toString() { return "u8" + Arrays.toString(dims); }
    }

    /** Reads an IDX file of unsigned bytes of any rank. */
    public static Data read(Path file) { return read(file, new int[0]); }

    /** Reads an images file: {@code u8 [N, rows, cols]} (magic 0x00000803) or {@code u8 [N, C, rows, cols]} (0x00000804). */
    public static Data readImages(Path file) { return read(file, IMAGES_MAGIC, CHANNEL_IMAGES_MAGIC); }

    /** Reads a labels file: {@code u8 [N]} (magic 0x00000801). */
    public static Data readLabels(Path file) { return read(file, LABELS_MAGIC); }

    /** Reads an images file from a stream (a classpath resource); {@code name} is what messages call it. */
    public static Data readImages(String name, InputStream in) { return read(name, in, -1, IMAGES_MAGIC, CHANNEL_IMAGES_MAGIC); }

    /** Reads a labels file from a stream (a classpath resource); {@code name} is what messages call it. */
    public static Data readLabels(String name, InputStream in) { return read(name, in, -1, LABELS_MAGIC); }

    private static Data read(Path file, int... magics) {
        String name = file.toString();
        try (InputStream in = Files.newInputStream(file)) {
            return read(name, in, Files.size(file), magics);
        } catch (NoSuchFileException e) {
            throw new DataException(name, "no such file");
        } catch (IOException e) {
            throw new DataException(name, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Reads one IDX array from {@code raw}, which holds {@code size} bytes ({@code -1}: unknown); {@code magics}
     * lists the magic numbers allowed (none: any unsigned-byte array). Does not close {@code raw}.
     */
    static Data read(String name, InputStream raw, long size, int... magics) {
        try {
            BufferedInputStream buffered = new BufferedInputStream(raw, BUFFER);
            buffered.mark(2);
            boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
            buffered.reset();
            InputStream in = gzip ? new GZIPInputStream(buffered, BUFFER) : buffered;
            String what = gzip ? "the decompressed file has " : "the file has ";
            return parse(name, in, what, gzip ? -1 : size, magics);
        } catch (EOFException e) {
            throw new DataException(name, "truncated: the gzip stream ends early (" + e.getMessage() + ")", e);
        } catch (ZipException e) {
            throw new DataException(name, "corrupt gzip data: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new DataException(name, "cannot read: " + e.getMessage(), e);
        }
    }

    private static Data parse(String name, InputStream in, String what, long size, int[] magics) throws IOException {
        byte[] head = in.readNBytes(4);
        if (head.length == 0) throw new DataException(name, "empty: an IDX file starts with a 4-byte magic number");
        if (head.length < 4) throw new DataException(name, "truncated: " + what + head.length + " bytes, the magic number needs 4");
        int magic = bigEndian(head, 0);
        if ((magic >>> 16) != 0)
            throw new DataException(name, "not an IDX file: it starts with " + hex(magic) + ", not with the two zero bytes of an IDX magic number");
        int type = (magic >>> 8) & 0xFF, rank = magic & 0xFF;
        if (magics.length > 0 && Arrays.stream(magics).noneMatch(m -> m == magic)) {
            StringBuilder expected = new StringBuilder();
            for (int m : magics) expected.append(expected.isEmpty() ? "" : " or ").append(hex(m)).append(" (").append(describe(m)).append(')');
            throw new DataException(name, "wrong magic " + hex(magic) + " (" + describe(magic) + "), expected " + expected);
        }
        if (type != U8)
            throw new DataException(name, "unsupported element type 0x" + String.format("%02x", type) + " (" + describe(magic)
                    + "): only unsigned bytes (0x08) are read");
        if (rank == 0) throw new DataException(name, "an IDX array of rank 0 (magic " + hex(magic) + ") holds nothing");
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank)
            throw new DataException(name, "truncated header: " + rank + " dimensions need " + 4 * rank + " bytes after the magic, "
                    + what + dimBytes.length);
        int[] dims = new int[rank];
        long n = 1;
        for (int i = 0; i < rank; i++) {
            int d = bigEndian(dimBytes, 4 * i);
            if (d < 0) throw new DataException(name, "dimension " + i + " is " + Integer.toUnsignedString(d) + ", over 2^31-1");
            dims[i] = d;
            n = Math.min(n * d, MAX_BYTES + 1);
        }
        String shape = Arrays.toString(dims);
        if (n > MAX_BYTES) throw new DataException(name, "dimensions " + shape + " need more than 2^31 bytes of data");
        long header = 4 + 4L * rank;
        if (size >= 0 && size - header < n) // a plain file: refuse before allocating what a bad header asks for
            throw new DataException(name, truncated(shape, n, what, size - header));
        byte[] bytes = in.readNBytes((int) n);
        if (bytes.length < n) throw new DataException(name, truncated(shape, n, what, bytes.length));
        if (in.read() != -1)
            throw new DataException(name, "trailing data: the header declares " + shape + " (" + n + " bytes of data), "
                    + what + (size >= 0 ? (size - header) + " bytes after the header" : "more"));
        return new Data(dims, bytes);
    }

    private static String truncated(String shape, long need, String what, long have) {
        return "truncated: the header declares " + shape + " (" + need + " bytes of data), " + what + "only " + have
                + " bytes after the header";
    }

    /** Writes {@code data} as an IDX file, gzip-compressed (level 9, no name, mtime 0) or plain; atomically. */
    public static void write(Path file, Data data, boolean gzip) {
        try {
            AtomicFiles.write(file, ch -> {
                OutputStream channel = Channels.newOutputStream(ch); // not closed: AtomicFiles forces and closes ch
                GZIPOutputStream gz = gzip ? new Level9GzipStream(channel) : null;
                DataOutputStream out = new DataOutputStream(gz != null ? gz : channel);
                out.writeInt(data.magic());
                for (int d : data.dims()) out.writeInt(d);
                out.write(data.bytes());
                out.flush();
                if (gz != null) gz.finish();
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static final class Level9GzipStream extends GZIPOutputStream {
        Level9GzipStream(OutputStream out) throws IOException {
            super(out, BUFFER);
            def.setLevel(Deflater.BEST_COMPRESSION);
        }
    }

    /** What a magic number means, as {@code u8 [N, rows, cols]}. */
    static String describe(int magic) {
        if ((magic >>> 16) != 0) return "not IDX";
        int rank = magic & 0xFF;
        String type = switch ((magic >>> 8) & 0xFF) {
            case 0x08 -> "u8";
            case 0x09 -> "i8";
            case 0x0B -> "i16";
            case 0x0C -> "i32";
            case 0x0D -> "f32";
            case 0x0E -> "f64";
            default -> "unknown type";
        };
        String dims = switch (rank) {
            case 1 -> "[N]";
            case 3 -> "[N, rows, cols]";
            case 4 -> "[N, channels, rows, cols]";
            default -> "rank " + rank;
        };
        String role = switch (magic) {
            case LABELS_MAGIC -> ", labels";
            case IMAGES_MAGIC, CHANNEL_IMAGES_MAGIC -> ", images";
            default -> "";
        };
        return type + " " + dims + role;
    }

    private static String hex(int magic) { return String.format("0x%08x", magic); }

    private static int bigEndian(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }
}
