package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetTest {
    @TempDir Path dir;

    /** The per-class counts scripts/make-fmnist-sample.py printed for the first 5000 and 1000 images. */
    private static final int[] SAMPLE_TRAIN_COUNTS = {457, 556, 504, 501, 488, 493, 493, 512, 490, 506};
    private static final int[] SAMPLE_TEST_COUNTS = {107, 105, 111, 93, 115, 87, 97, 95, 95, 95};

    @Test
    void theEmbeddedSampleLoads() {
        ImageDataset train = ImageDataset.fashionMnistSample("train"), test = ImageDataset.fashionMnistSample("test");
        assertEquals(5000, train.size());
        assertEquals(1000, test.size());
        for (ImageDataset ds : new ImageDataset[] {train, test}) {
            assertEquals(1, ds.channels());
            assertEquals(28, ds.height());
            assertEquals(28, ds.width());
            assertEquals(10, ds.classes());
            assertTrue(ds.source().contains("embedded"), ds.source());
        }
        assertArrayEquals(SAMPLE_TRAIN_COUNTS, train.classCounts());
        assertArrayEquals(SAMPLE_TEST_COUNTS, test.classCounts());
        assertEquals(9, train.label(0)); // Fashion-MNIST's first training image is an ankle boot
        assertEquals(9, test.label(0));
        assertTrue(train.source().contains("5000 of 60000"), train.source());
    }

    @Test
    void theSampleIsTheFallbackWhenNoSystemCopyExists() {
        ImageDataset ds = ImageDataset.fashionMnist(null, "test", dir.resolve("no-such-dir"));
        assertEquals(1000, ds.size());
        assertTrue(ds.source().contains("embedded"), ds.source());
        ImageDataset empty = ImageDataset.fashionMnist(null, "test", dir); // exists but holds nothing
        assertTrue(empty.source().contains("embedded"), empty.source());
    }

    @Test
    void aGivenDirectoryIsUsedAndMustHoldTheFiles() {
        ImageDataset sample = ImageDataset.fashionMnistSample("test").subset(0, 20);
        Idx.write(dir.resolve("t10k-images-idx3-ubyte.gz"), new Idx.Data(new int[] {20, 28, 28}, bytesOf(sample)), true);
        byte[] labels = new byte[20];
        for (int i = 0; i < 20; i++) labels[i] = (byte) sample.label(i);
        Idx.write(dir.resolve("t10k-labels-idx1-ubyte"), new Idx.Data(new int[] {20}, labels), false); // plain is fine too
        ImageDataset ds = ImageDataset.fashionMnist(dir, "test");
        assertEquals(20, ds.size());
        assertArrayEquals(sample.labels(), ds.labels());
        assertArrayEquals(sample.image(7), ds.image(7));
        assertEquals("Fashion-MNIST test from " + dir + " (20 images)", ds.source());

        DataException e = assertThrows(DataException.class, () -> ImageDataset.fashionMnist(dir, "train"));
        assertTrue(e.getMessage().startsWith(dir + ": no Fashion-MNIST train files"), e.getMessage());
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
    }

    @Test
    void labelsOutsideTheClassesAreRefused() {
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz"), labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        Idx.write(images, new Idx.Data(new int[] {2, 1, 1}, new byte[] {1, 2}), true);
        Idx.write(labels, new Idx.Data(new int[] {2}, new byte[] {3, 12}), true);
        DataException e = assertThrows(DataException.class, () -> ImageDataset.fashionMnist(dir, "test"));
        assertTrue(e.getMessage().startsWith(labels + ": label 12 of image 1 is outside [0, 10)"), e.getMessage());
        assertEquals(13, ImageDataset.idx(images, labels).classes()); // generic IDX: largest label + 1
    }

    @Test
    void unknownSplit() {
        assertThrows(IllegalArgumentException.class, () -> ImageDataset.fashionMnist(null, "validation"));
    }

    @Test
    void theDebianCopyIsPreferredWhenInstalled() {
        assumeTrue(Files.isRegularFile(ImageDataset.DEBIAN_FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz")),
                "dataset-fashion-mnist is not installed");
        ImageDataset full = ImageDataset.fashionMnist(null, "test");
        assertEquals(10000, full.size());
        assertEquals("Fashion-MNIST test from /usr/share/datasets/fashion-mnist (10000 images)", full.source());
        ImageDataset sample = ImageDataset.fashionMnistSample("test");
        assertArrayEquals(sample.labels(), full.subset(0, 1000).labels());
        assertArrayEquals(bytesOf(sample), bytesOf(full.subset(0, 1000)));
    }

    @Test
    void subsetsShareTheDataAndKeepTheClassCount() {
        ImageDataset ds = ImageDataset.fashionMnistSample("test");
        ImageDataset sub = ds.subset(100, 110);
        assertEquals(10, sub.size());
        assertEquals(10, sub.classes());
        assertEquals(ds.label(105), sub.label(5));
        assertArrayEquals(ds.image(105), sub.image(5));
        assertEquals(ds.pixel(105, 400), sub.pixel(5, 400));
        assertArrayEquals(Arrays.copyOfRange(ds.labels(), 100, 110), sub.labels());
        ImageDataset subSub = sub.subset(2, 4);
        assertEquals(ds.label(103), subSub.label(1));
        assertThrows(IndexOutOfBoundsException.class, () -> ds.subset(10, 1001));
        assertThrows(IndexOutOfBoundsException.class, () -> sub.label(10));
    }

    @Test
    void channelImagesFromMemory() {
        byte[] pixels = new byte[2 * 3 * 2 * 2];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) i;
        ImageDataset ds = ImageDataset.of(pixels, new int[] {1, 0}, 3, 2, 2, 2, "memory");
        assertEquals(12, ds.imageBytes());
        assertEquals(12 + 5, ds.pixel(1, 5));
        assertThrows(DataException.class, () -> ImageDataset.of(pixels, new int[] {1, 2}, 3, 2, 2, 2, "memory"));
        assertThrows(IllegalArgumentException.class, () -> ImageDataset.of(pixels, new int[] {1}, 3, 2, 2, 2, "memory"));
    }

    static byte[] bytesOf(ImageDataset ds) {
        byte[] all = new byte[ds.size() * ds.imageBytes()];
        for (int i = 0; i < ds.size(); i++) System.arraycopy(ds.image(i), 0, all, i * ds.imageBytes(), ds.imageBytes());
        return all;
    }
}
