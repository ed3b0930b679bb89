package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.LockSupport;
import mobyc.data.Batches.Batch;
import org.junit.jupiter.api.Test;

class PrefetcherTest {
    private static void assertSameBatch(Batch expected, Batch actual) {
        assertArrayEquals(expected.indices(), actual.indices());
        assertArrayEquals(expected.images().toFloatArray(), actual.images().toFloatArray());
        assertArrayEquals(expected.labels().toIntArray(), actual.labels().toIntArray());
    }

    @Test
    void givesTheSameBatchesAsDirectAccessAcrossEpochs() {
        ImageDataset ds = BatchesTest.synthetic(103, 2);
        Batches direct = new Batches(ds, 10, true, false, 11), prefetched = new Batches(ds, 10, true, false, 11);
        int per = direct.batchesPerEpoch(); // 11, the last one of 3 images
        try (Prefetcher p = new Prefetcher(prefetched, 7, 3 * per)) { // from epoch 0 index 7 into epoch 3
            for (long step = 7; step < 7 + 3 * per; step++) {
                assertTrue(p.hasNext());
                Batch b = p.next();
                assertSameBatch(direct.get(step / per, (int) (step % per)), b);
                // the caller's batch stays intact while the worker runs ahead
                LockSupport.parkNanos(200_000);
                assertSameBatch(direct.get(step / per, (int) (step % per)), b);
            }
            assertFalse(p.hasNext());
            assertThrows(NoSuchElementException.class, p::next);
        }
    }

    @Test
    void oneEpochOfTheSample() {
        ImageDataset ds = ImageDataset.fashionMnistSample("test");
        Batches direct = new Batches(ds, 128, true, false, 5), prefetched = new Batches(ds, 128, true, false, 5);
        int n = 0;
        try (Prefetcher p = new Prefetcher(prefetched, 4)) {
            while (p.hasNext()) assertSameBatch(direct.get(4, n++), p.next());
        }
        assertEquals(8, n);
    }

    @Test
    void workerErrorsReachTheCallerInOrder() {
        List<Long> filled = new ArrayList<>();
        Batches b = new Batches(BatchesTest.synthetic(40, 1), 10, false, false, 0);
        Prefetcher.Filler failing = (step, slot) -> {
            if (step == 2) throw new DataException("disk", "went away at step " + step);
            synchronized (filled) {
                filled.add(step);
            }
            return b.fill(0, (int) step, slot);
        };
        try (Prefetcher p = new Prefetcher(0, 4, failing)) {
            assertArrayEquals(b.get(0, 0).indices(), p.next().indices());
            assertArrayEquals(b.get(0, 1).indices(), p.next().indices());
            DataException e = assertThrows(DataException.class, p::next);
            assertEquals("disk: went away at step 2", e.getMessage());
            assertFalse(p.hasNext());
        }
        assertEquals(List.of(0L, 1L), filled);
    }

    @Test
    void closeStopsTheWorkerEvenWhenItWaits() {
        Batches b = new Batches(BatchesTest.synthetic(1000, 1), 10, true, false, 1);
        Prefetcher p = new Prefetcher(b, 0, 1_000_000);
        Batch first = p.next();
        assertEquals(10, first.size());
        p.close();
        assertFalse(p.workerAlive());
        assertFalse(p.hasNext());
        assertThrows(IllegalStateException.class, p::next);
        p.close(); // idempotent
    }

    @Test
    void slotsAreRecycled() {
        Batches b = new Batches(BatchesTest.synthetic(100, 1), 10, false, false, 1);
        List<Object> tensors = new ArrayList<>();
        try (Prefetcher p = new Prefetcher(b, 0, 10)) {
            while (p.hasNext()) {
                Object t = p.next().images();
                if (tensors.stream().noneMatch(x -> x == t)) tensors.add(t);
            }
        }
        assertTrue(tensors.size() <= 4, tensors.size() + " distinct buffers");
    }
}
