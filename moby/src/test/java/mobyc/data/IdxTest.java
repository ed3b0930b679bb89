package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxTest {
    @TempDir Path dir;

    private static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 37 + 11);
        return b;
    }

    /** An IDX file's bytes built by hand: magic, big-endian dims, then data. */
    private static byte[] raw(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        return b.put(data).array();
    }

    private static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(plain);
        }
        return out.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException { return Files.write(dir.resolve(name), bytes); }

    private DataException fails(Path file) { return assertThrows(DataException.class, () -> Idx.readImages(file)); }

    private static void assertMessage(DataException e, Path file, String... parts) {
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void roundTripsImagesLabelsAndChannelImages(boolean gzip) {
        Idx.Data images = new Idx.Data(new int[] {3, 4, 5}, ramp(60));
        Idx.Data labels = new Idx.Data(new int[] {3}, new byte[] {0, 9, (byte) 255});
        Idx.Data channels = new Idx.Data(new int[] {2, 3, 4, 5}, ramp(120));
        Path pi = dir.resolve("i"), pl = dir.resolve("l"), pc = dir.resolve("c");
        Idx.write(pi, images, gzip);
        Idx.write(pl, labels, gzip);
        Idx.write(pc, channels, gzip);
        for (Path p : new Path[] {pi, pl, pc}) assertEquals(gzip, isGzip(p), p.toString());

        Idx.Data ri = Idx.readImages(pi), rl = Idx.readLabels(pl), rc = Idx.readImages(pc);
        assertArrayEquals(images.dims(), ri.dims());
        assertArrayEquals(images.bytes(), ri.bytes());
        assertEquals(Idx.IMAGES_MAGIC, ri.magic());
        assertArrayEquals(labels.bytes(), rl.bytes());
        assertEquals(Idx.LABELS_MAGIC, rl.magic());
        assertArrayEquals(new int[] {2, 3, 4, 5}, rc.dims());
        assertArrayEquals(channels.bytes(), rc.bytes());
        assertArrayEquals(images.bytes(), Idx.read(pi).bytes());
    }

    private static boolean isGzip(Path p) {
        try {
            byte[] b = Files.readAllBytes(p);
            return (b[0] & 0xFF) == 0x1f && (b[1] & 0xFF) == 0x8b;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void plainFilesHaveTheExactLayout() throws IOException {
        Path p = dir.resolve("labels");
        Idx.write(p, new Idx.Data(new int[] {2}, new byte[] {7, 8}), false);
        assertArrayEquals(new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 7, 8}, Files.readAllBytes(p));
    }

    @Test
    void gzipIsToldByItsMagicNotTheName() throws IOException {
        byte[] plain = raw(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Idx.readLabels(file("plain.gz", plain)).bytes());
        assertArrayEquals(new byte[] {1, 2, 3}, Idx.readLabels(file("packed-idx1-ubyte", gzip(plain))).bytes());
    }

    @Test
    void gzipWritesAreDeterministic() throws IOException {
        Idx.Data d = new Idx.Data(new int[] {4, 2, 2}, ramp(16));
        Idx.write(dir.resolve("a.gz"), d, true);
        Idx.write(dir.resolve("b.gz"), d, true);
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.gz")), Files.readAllBytes(dir.resolve("b.gz")));
    }

    @Test
    void emptyFile() throws IOException {
        Path p = file("empty", new byte[0]);
        assertMessage(fails(p), p, "empty");
    }

    @Test
    void truncatedMagic() throws IOException {
        Path p = file("short", new byte[] {0, 0, 8});
        assertMessage(fails(p), p, "truncated", "3 bytes");
    }

    @Test
    void truncatedDimensions() throws IOException {
        Path p = file("dims", Arrays.copyOf(raw(Idx.IMAGES_MAGIC, new int[] {1, 2, 2}, new byte[4]), 10));
        assertMessage(fails(p), p, "truncated header", "3 dimensions need 12 bytes", "has 6");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] whole = raw(Idx.IMAGES_MAGIC, new int[] {2, 3, 3}, ramp(18));
        Path p = file("cut", Arrays.copyOf(whole, whole.length - 5));
        assertMessage(fails(p), p, "truncated", "[2, 3, 3]", "18 bytes of data", "only 13");
    }

    @Test
    void truncatedDataInsideGzip() throws IOException {
        byte[] whole = raw(Idx.IMAGES_MAGIC, new int[] {2, 3, 3}, ramp(18));
        Path p = file("cut.gz", gzip(Arrays.copyOf(whole, whole.length - 5)));
        assertMessage(fails(p), p, "truncated", "decompressed file has only 13");
    }

    @Test
    void truncatedGzipStream() throws IOException {
        byte[] packed = gzip(raw(Idx.IMAGES_MAGIC, new int[] {50, 10, 10}, ramp(5000)));
        Path p = file("cut-stream.gz", Arrays.copyOf(packed, packed.length / 2));
        assertMessage(fails(p), p, "truncated", "gzip");
    }

    @Test
    void corruptGzip() throws IOException {
        byte[] packed = gzip(raw(Idx.IMAGES_MAGIC, new int[] {50, 10, 10}, ramp(5000)));
        for (int i = 12; i < packed.length - 8; i++) packed[i] ^= 0x5A;
        Path p = file("bad.gz", packed);
        assertMessage(fails(p), p, "gzip");
    }

    @Test
    void trailingData() throws IOException {
        byte[] whole = raw(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {1, 2, 3});
        Path p = file("long", Arrays.copyOf(whole, whole.length + 2));
        DataException e = assertThrows(DataException.class, () -> Idx.readLabels(p));
        assertMessage(e, p, "trailing data", "[3] (3 bytes of data)", "the file has 5 bytes after the header");
    }

    @Test
    void labelsGivenAsImagesIsTheWrongMagic() throws IOException {
        Path p = file("labels", raw(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {1, 2, 3}));
        assertMessage(fails(p), p, "wrong magic 0x00000801", "labels", "expected 0x00000803");
        Path q = file("images", raw(Idx.IMAGES_MAGIC, new int[] {1, 1, 1}, new byte[] {1}));
        assertMessage(assertThrows(DataException.class, () -> Idx.readLabels(q)), q, "wrong magic 0x00000803", "expected 0x00000801");
    }

    @Test
    void notIdxAtAll() throws IOException {
        Path p = file("png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        assertMessage(fails(p), p, "not an IDX file", "0x89504e47");
    }

    @Test
    void otherElementTypesAreRefused() throws IOException {
        Path p = file("floats", raw(0x00000D01, new int[] {1}, new byte[4]));
        assertMessage(assertThrows(DataException.class, () -> Idx.read(p)), p, "unsupported element type 0x0d", "f32");
    }

    @Test
    void absurdDimensionsAreRefusedBeforeAllocating() throws IOException {
        Path p = file("huge", raw(Idx.IMAGES_MAGIC, new int[] {60000, 28, 28}, new byte[10]));
        assertMessage(fails(p), p, "truncated", "47040000 bytes of data", "only 10");
        Path q = file("overflow", raw(Idx.IMAGES_MAGIC, new int[] {100000, 100000, 100000}, new byte[0]));
        assertMessage(fails(q), q, "more than 2^31 bytes");
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("nothing-here");
        assertMessage(fails(p), p, "no such file");
    }

    @Test
    void countMismatchBetweenImagesAndLabels() {
        Path images = dir.resolve("images.gz"), labels = dir.resolve("labels.gz");
        Idx.write(images, new Idx.Data(new int[] {3, 2, 2}, ramp(12)), true);
        Idx.write(labels, new Idx.Data(new int[] {2}, new byte[] {0, 1}), true);
        DataException e = assertThrows(DataException.class, () -> ImageDataset.idx(images, labels));
        assertMessage(e, images, "count mismatch", "3 images", labels.toString(), "2 labels");
    }
}
