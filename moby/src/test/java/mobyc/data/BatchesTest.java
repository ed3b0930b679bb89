package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import mobyc.compiler.ir.DType;
import mobyc.data.Batches.Batch;
import org.junit.jupiter.api.Test;

class BatchesTest {
    /** N images of C x 3 x 2 whose pixels are (7 * image + pixel) mod 256, labels image mod 4. */
    static ImageDataset synthetic(int n, int channels) {
        int per = channels * 3 * 2;
        byte[] pixels = new byte[n * per];
        for (int i = 0; i < n; i++) for (int p = 0; p < per; p++) pixels[i * per + p] = (byte) (7 * i + p);
        int[] labels = new int[n];
        Arrays.setAll(labels, i -> i % 4);
        return ImageDataset.of(pixels, labels, channels, 3, 2, 4, "synthetic");
    }

    private static void assertPermutation(int[] order, int n) {
        assertEquals(n, order.length);
        boolean[] seen = new boolean[n];
        for (int i : order) {
            assertFalse(seen[i], "index " + i + " twice");
            seen[i] = true;
        }
    }

    /** The indices of every batch of an epoch, concatenated. */
    private static int[] epochIndices(Batches b, long epoch) {
        int[] all = new int[0];
        for (int i = 0; i < b.batchesPerEpoch(); i++) {
            int[] idx = b.get(epoch, i).indices();
            int at = all.length;
            all = Arrays.copyOf(all, at + idx.length);
            System.arraycopy(idx, 0, all, at, idx.length);
        }
        return all;
    }

    @Test
    void batchCounts() {
        ImageDataset ds = synthetic(103, 1);
        assertEquals(11, new Batches(ds, 10, true, false, 1).batchesPerEpoch());
        assertEquals(10, new Batches(ds, 10, true, true, 1).batchesPerEpoch());
        assertEquals(3, new Batches(ds, 10, true, false, 1).sizeOf(10));
        assertEquals(0, new Batches(ds, 200, false, true, 1).batchesPerEpoch());
        assertEquals(1, new Batches(ds, 200, false, false, 1).batchesPerEpoch());
        assertThrows(IllegalArgumentException.class, () -> new Batches(ds, 0, true, false, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> new Batches(ds, 10, true, true, 1).get(0, 10));
    }

    @Test
    void eachShuffledEpochCoversEveryIndexOnce() {
        ImageDataset ds = synthetic(103, 1);
        Batches b = new Batches(ds, 10, true, false, 42);
        for (long epoch = 0; epoch < 5; epoch++) {
            int[] all = epochIndices(b, epoch);
            assertPermutation(all, 103);
            assertArrayEquals(b.order(epoch), all);
            assertEquals(3, b.get(epoch, 10).size());
        }
    }

    @Test
    void sameSeedAndEpochGiveTheSameBatchesOtherwiseDifferent() {
        ImageDataset ds = synthetic(500, 1);
        Batches a = new Batches(ds, 32, true, true, 7), again = new Batches(ds, 32, true, true, 7);
        assertArrayEquals(epochIndices(a, 3), epochIndices(again, 3));
        // random access: any (epoch, index), in any order, gives the same batch
        int[] late = a.get(9, 4).indices().clone();
        a.get(2, 0);
        assertArrayEquals(late, again.get(9, 4).indices());
        assertNotEquals(Arrays.toString(a.order(0)), Arrays.toString(a.order(1)));
        assertNotEquals(Arrays.toString(a.order(0)), Arrays.toString(new Batches(ds, 32, true, true, 8).order(0)));
        assertArrayEquals(Batches.permutation(7, 5, 500), a.order(5));
        assertEquals(500, Arrays.stream(a.order(0)).distinct().count());
    }

    @Test
    void theShuffleMovesMostElements() {
        int[] order = Batches.permutation(123, 0, 10000);
        int fixed = 0;
        for (int i = 0; i < order.length; i++) if (order[i] == i) fixed++;
        assertTrue(fixed < 10, fixed + " fixed points"); // about 1 expected
    }

    @Test
    void withoutShuffleTheOrderIsTheDataSetOrder() {
        Batches b = new Batches(synthetic(25, 1), 10, false, false, 5);
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, b.get(4, 1).indices());
        assertArrayEquals(new int[] {20, 21, 22, 23, 24}, b.get(0, 2).indices());
    }

    @Test
    void dropLastSkipsOnlyTheTail() {
        Batches b = new Batches(synthetic(103, 1), 10, true, true, 42);
        int[] all = epochIndices(b, 2);
        assertEquals(100, all.length);
        assertArrayEquals(Arrays.copyOf(b.order(2), 100), all);
        assertEquals(100, Arrays.stream(all).distinct().count());
    }

    @Test
    void imagesAreNormalisedAndLabelsFollowTheIndices() {
        ImageDataset ds = synthetic(20, 1);
        Batches b = new Batches(ds, 8, true, false, 3);
        Batch batch = b.get(1, 1);
        assertEquals(DType.F32, batch.images().dtype());
        assertArrayEquals(new long[] {8, 1, 3, 2}, batch.images().shape());
        assertEquals(DType.I32, batch.labels().dtype());
        assertArrayEquals(new long[] {8}, batch.labels().shape());
        float[] x = batch.images().toFloatArray();
        for (int k = 0; k < 8; k++) {
            int i = batch.indices()[k];
            assertEquals(ds.label(i), batch.labels().getInt(k));
            for (int p = 0; p < 6; p++) {
                float expected = (ds.pixel(i, p) / 255f - 0.2860f) / 0.3530f;
                assertEquals(expected, x[k * 6 + p], 1e-6f);
            }
        }
        // the extremes, by hand
        Batches plain = new Batches(ImageDataset.of(new byte[] {0, (byte) 255}, new int[] {0, 1}, 1, 1, 1, 2, "two"), 2, false, false, 0);
        assertArrayEquals(new float[] {-0.2860f / 0.3530f, (1 - 0.2860f) / 0.3530f}, plain.get(0, 0).images().toFloatArray(), 1e-6f);
        Batches unit = new Batches(ImageDataset.of(new byte[] {0, (byte) 51}, new int[] {0, 1}, 1, 1, 1, 2, "two"), 2, false, false, 0, 0f, 1f);
        assertArrayEquals(new float[] {0f, 0.2f}, unit.get(0, 0).images().toFloatArray(), 1e-7f);
    }

    @Test
    void perChannelMeanAndStd() {
        ImageDataset ds = synthetic(4, 3);
        Batches b = new Batches(ds, 4, false, false, 0, new float[] {0.1f, 0.2f, 0.3f}, new float[] {1f, 2f, 4f});
        float[] x = b.get(0, 0).images().toFloatArray();
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 6; p++) {
                    float mean = 0.1f * (c + 1), std = 1 << c;
                    assertEquals((ds.pixel(i, c * 6 + p) / 255f - mean) / std, x[i * 18 + c * 6 + p], 1e-6f);
                }
        assertThrows(IllegalArgumentException.class, () -> new Batches(ds, 4, false, false, 0, new float[2], new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new Batches(ds, 4, false, false, 0, 0f, 0f));
    }

    @Test
    void outputTensorsAreReused() {
        Batches b = new Batches(synthetic(25, 1), 10, true, false, 9);
        Batch first = b.get(0, 0), second = b.get(3, 1), tail = b.get(0, 2), tailAgain = b.get(1, 2);
        assertSame(first.images(), second.images());
        assertSame(first.labels(), second.labels());
        assertSame(tail.images(), tailAgain.images());
        assertEquals(5, tail.size());
        Batch kept = b.get(0, 0).copy();
        b.get(5, 0);
        assertArrayEquals(kept.indices(), new Batches(synthetic(25, 1), 10, true, false, 9).get(0, 0).indices());
    }

    @Test
    void globalSteps() {
        Batches b = new Batches(synthetic(25, 1), 10, true, true, 9); // 2 batches per epoch
        int[] byStep = b.atStep(5).indices().clone();
        assertArrayEquals(b.get(2, 1).indices(), byStep);
    }

    @Test
    void theEmbeddedSampleBatches() {
        ImageDataset ds = ImageDataset.fashionMnistSample("train");
        Batches b = new Batches(ds, 256, true, true, 2024);
        assertEquals(19, b.batchesPerEpoch());
        Batch batch = b.get(0, 0);
        assertArrayEquals(new long[] {256, 1, 28, 28}, batch.images().shape());
        double sum = 0;
        for (float v : batch.images().toFloatArray()) sum += v;
        double mean = sum / batch.images().numel();
        assertTrue(Math.abs(mean) < 0.25, "normalised mean " + mean); // Fashion-MNIST's mean, so near 0
    }
}
