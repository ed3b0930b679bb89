package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import mobyc.data.TwoViewLoader.Batch;
import mobyc.data.aug.Augment;
import mobyc.data.aug.Image;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TwoViewLoaderTest {
    @TempDir Path dir;

    /** {@code n} random 1x12x12 images, labels {@code i mod 5}. */
    static ImageDataset grayImages(int n) {
        SplittableRandom r = new SplittableRandom(42);
        byte[] pixels = new byte[n * 144];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) r.nextInt(256);
        int[] labels = new int[n];
        Arrays.setAll(labels, i -> i % 5);
        return ImageDataset.of(pixels, labels, 1, 12, 12, 5, "synthetic");
    }

    /** A source whose images {@code bad} fail to read, counting reads. */
    record Flaky(ImageSource inner, Set<Integer> bad) implements ImageSource {
        @Override public int size() { return inner.size(); }
        @Override public int label(int i) { return inner.label(i); }
        @Override public int classes() { return inner.classes(); }
        @Override public int channels() { return inner.channels(); }
        @Override public String source() { return "flaky " + inner.source(); }

        @Override public Image read(int i) {
            if (bad.contains(i)) throw new DataException("img" + i + ".jpg", "truncated image");
            return inner.read(i);
        }
    }

    static final Augment.Views GRAY = Augment.mobyGray(8, 0.5f, 0.25f);

    /** {@code count} batches from {@code first}, copied. */
    static List<Batch> take(ImageSource src, int batch, long seed, int workers, long first, int count, List<String> log) {
        List<Batch> out = new ArrayList<>();
        try (TwoViewLoader l = new TwoViewLoader(src, GRAY, batch, seed, workers, log == null ? null : log::add)) {
            l.start(first, count);
            while (l.hasNext()) out.add(l.next().copy());
        }
        return out;
    }

    static void assertSameBatches(List<Batch> expected, List<Batch> actual) {
        assertEquals(expected.size(), actual.size());
        for (int k = 0; k < expected.size(); k++) {
            Batch e = expected.get(k), a = actual.get(k);
            assertEquals(e.step(), a.step());
            assertArrayEquals(e.indices(), a.indices(), "indices of step " + e.step());
            assertArrayEquals(e.labels(), a.labels(), "labels of step " + e.step());
            assertArrayEquals(e.x1().toFloatArray(), a.x1().toFloatArray(), "x1 of step " + e.step());
            assertArrayEquals(e.x2().toFloatArray(), a.x2().toFloatArray(), "x2 of step " + e.step());
        }
    }

    @Test
    void anImageDatasetIsAnImageSource() {
        ImageSource ds = grayImages(3);
        Image img = ds.read(2);
        assertEquals("1x12x12", img.sizeString());
        for (int p = 0; p < 144; p++) assertEquals(((ImageDataset) ds).pixel(2, p) / 255f, img.data()[p]);
        assertEquals(5, ds.classes());
        assertEquals(1, ds.channels());
        assertEquals(2, ds.label(2));
        assertThrows(IndexOutOfBoundsException.class, () -> ds.read(3));
    }

    @Test
    void sameSeedGivesTheSameBatchesWithOneOrThreeWorkers() {
        ImageDataset ds = grayImages(50);
        List<Batch> one = take(ds, 8, 7, 1, 0, 13, null), three = take(ds, 8, 7, 3, 0, 13, null); // 6 per epoch: into epoch 2
        assertSameBatches(one, three);
        assertFalse(Arrays.equals(one.get(0).x1().toFloatArray(), take(ds, 8, 8, 3, 0, 1, null).get(0).x1().toFloatArray()),
                "another seed, other views");
    }

    @Test
    void resumingAtAStepGivesWhatAnUninterruptedRunGivesThere() {
        ImageDataset ds = grayImages(50);
        List<Batch> full = take(ds, 8, 3, 2, 0, 15, null);
        assertSameBatches(full.subList(7, 15), take(ds, 8, 3, 3, 7, 8, null));
        // a second start on the same loader: a new run, same batches
        try (TwoViewLoader l = new TwoViewLoader(ds, GRAY, 8, 3, 2, null)) {
            l.start(0, 2);
            l.next();
            l.start(11, 2);
            assertSameBatches(full.subList(11, 13), List.of(l.next().copy(), l.next().copy()));
            assertFalse(l.hasNext());
        }
    }

    @Test
    void batchesFollowTheEpochOrderAndTheDocumentedGenerators() {
        ImageDataset ds = grayImages(30);
        long seed = 11;
        List<Batch> batches = take(ds, 7, seed, 2, 0, 8, null); // 4 per epoch, 2 images dropped
        int per = 4, c = 1, s = 8;
        for (Batch b : batches) {
            long epoch = b.step() / per;
            int start = (int) (b.step() % per) * 7;
            assertArrayEquals(Arrays.copyOfRange(Batches.permutation(seed, epoch, 30), start, start + 7), b.indices());
            assertArrayEquals(new long[] {7, c, s, s}, b.x1().shape());
            float[] x1 = b.x1().toFloatArray(), x2 = b.x2().toFloatArray();
            for (int j = 0; j < 7; j++) {
                int i = b.indices()[j];
                assertEquals(ds.label(i), b.labels()[j]);
                Image v1 = GRAY.view1().apply(ds.read(i), TwoViewLoader.random(seed, epoch, i, 0));
                Image v2 = GRAY.view2().apply(ds.read(i), TwoViewLoader.random(seed, epoch, i, 1));
                assertArrayEquals(v1.data(), Arrays.copyOfRange(x1, j * 64, j * 64 + 64));
                assertArrayEquals(v2.data(), Arrays.copyOfRange(x2, j * 64, j * 64 + 64));
                assertFalse(Arrays.equals(v1.data(), v2.data()), "two different views");
            }
        }
        // the same image gets other views in another epoch
        assertFalse(Arrays.equals(
                GRAY.view1().apply(ds.read(0), TwoViewLoader.random(seed, 0, 0, 0)).data(),
                GRAY.view1().apply(ds.read(0), TwoViewLoader.random(seed, 1, 0, 0)).data()));
    }

    @Test
    void unreadableImagesAreReplacedDeterministicallyCountedAndLoggedOnce() {
        ImageDataset ds = grayImages(40);
        long seed = 5;
        int[] order0 = Batches.permutation(seed, 0, 40);
        // two bad images in batch 0 of epoch 0, one in batch 2
        Flaky flaky = new Flaky(ds, Set.of(order0[1], order0[4], order0[17]));
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        List<Batch> one = take(flaky, 8, seed, 1, 0, 10, log), three = take(flaky, 8, seed, 3, 0, 10, null);
        assertSameBatches(one, three);
        assertSameBatches(one.subList(2, 10), take(flaky, 8, seed, 2, 2, 8, null));
        // batch 0: slots 1 and 4 take the next images of the order after the batch, order0[8] and order0[9]
        int[] expected = Arrays.copyOfRange(order0, 0, 8);
        expected[1] = order0[8];
        expected[4] = order0[9];
        assertArrayEquals(expected, one.get(0).indices());
        for (Batch b : one) for (int i : b.indices()) assertFalse(flaky.bad().contains(i), "unreadable image " + i + " in step " + b.step());
        assertEquals(3, log.size(), log.toString());
        assertTrue(log.stream().allMatch(l -> l.startsWith("warning: skipping unreadable image ")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("img" + order0[17] + ".jpg: truncated image")), log.toString());
        try (TwoViewLoader l = new TwoViewLoader(flaky, GRAY, 8, seed, 2, null)) {
            l.start(0, 1);
            l.next();
            assertEquals(2, l.skipped());
        }
    }

    @Test
    void moreThanHalfOfABatchUnreadableIsFatal() {
        ImageDataset ds = grayImages(20);
        int[] order0 = Batches.permutation(1, 0, 20);
        Flaky flaky = new Flaky(ds, Set.of(order0[0], order0[1], order0[2]));
        try (TwoViewLoader l = new TwoViewLoader(flaky, GRAY, 4, 1, 2, null)) {
            l.start(0, 5);
            DataException e = assertThrows(DataException.class, l::next);
            assertTrue(e.getMessage().contains("3 of the 4 images of step 0 are unreadable, more than half"), e.getMessage());
            assertFalse(l.hasNext());
        }
        // exactly half is not
        Flaky half = new Flaky(ds, Set.of(order0[0], order0[1]));
        assertEquals(4, take(half, 4, 1, 2, 0, 1, null).getFirst().size());
    }

    @Test
    void anImageFolderWithBrokenFiles() throws IOException {
        for (int k = 0; k < 6; k++)
            ImageFolderTest.write(dir.resolve((k % 2 == 0 ? "even" : "odd") + "/img" + k + ".png"), ImageFolderTest.noise(20 + k, 17, k), "png");
        Files.write(dir.resolve("even/trunc.jpg"), ImageFolderTest.truncatedJpeg());
        Files.writeString(dir.resolve("odd/text.png"), "not a png");
        ImageFolder f = ImageFolder.open(dir);
        assertEquals(8, f.size());
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (TwoViewLoader l = new TwoViewLoader(f, Augment.mobyRgb(16), 2, 9, 2, log::add)) {
            assertEquals(4, l.batchesPerEpoch());
            l.start(0, 8); // two epochs
            while (l.hasNext()) {
                Batch b = l.next();
                assertArrayEquals(new long[] {2, 3, 16, 16}, b.x2().shape());
                for (int i : b.indices()) assertTrue(f.path(i).toString().endsWith(".png") && !f.path(i).endsWith("text.png"), f.path(i).toString());
            }
            assertEquals(2, l.skipped());
        }
        assertEquals(2, log.size(), log.toString());
        assertTrue(log.stream().anyMatch(s -> s.contains(dir.resolve("even/trunc.jpg").toString())), log.toString());
        assertTrue(log.stream().anyMatch(s -> s.contains(dir.resolve("odd/text.png").toString())), log.toString());
    }

    @Test
    void transformErrorsReachTheCallerAndSettingsAreChecked() {
        ImageDataset ds = grayImages(12);
        Augment broken = new Augment("broken", 8, List.of((img, r) -> { throw new IllegalStateException("transform bug"); }),
                GRAY.view1().normalize());
        try (TwoViewLoader l = new TwoViewLoader(ds, broken, GRAY.view2(), 4, 8, 0, 2, null)) {
            l.start(0, 3);
            assertEquals("transform bug", assertThrows(IllegalStateException.class, l::next).getMessage());
        }
        Augment wrongSize = new Augment("no crop", 0, List.of(), GRAY.view1().normalize());
        try (TwoViewLoader l = new TwoViewLoader(ds, wrongSize, wrongSize, 4, 8, 0, 1, null)) {
            l.start(0, 1);
            assertTrue(assertThrows(IllegalStateException.class, l::next).getMessage().contains("made a 1x12x12 view"));
        }
        assertThrows(IllegalArgumentException.class, () -> new TwoViewLoader(ds, GRAY, 13, 0, 1, null));
        assertThrows(IllegalArgumentException.class, () -> new TwoViewLoader(ds, Augment.mobyGray(10, 0.5f, 0.25f).view1(), GRAY.view2(), 4, 8, 0, 1, null));
        TwoViewLoader l = new TwoViewLoader(ds, GRAY, 4, 0, 0, null);
        assertEquals(TwoViewLoader.defaultWorkers(), l.workers());
        assertThrows(IllegalStateException.class, l::next);
        l.start(0, Long.MAX_VALUE);
        l.next();
        l.close();
        l.close();
        assertThrows(IllegalStateException.class, l::next);
        assertThrows(IllegalStateException.class, () -> l.start(0, 1));
    }
}
