package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The cpu pool stays at its parallelism under nested fork/join work (a plain ForkJoinPool(2) grows a third worker). */
class CpuPoolTest {
    @Test
    void nestedSplitsNeverAddSpareWorkers() {
        ForkJoinPool pool = CpuPool.bounded(2);
        try {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            AtomicLong sum = new AtomicLong();
            for (int r = 0; r < 300; r++)
                pool.invoke(new java.util.concurrent.RecursiveAction() {
                    @Override protected void compute() { split(0, 16, threads, sum); }
                });
            assertEquals(300L * 120, sum.get(), "every item ran once");
            assertTrue(pool.getPoolSize() <= 2, "pool grew to " + pool.getPoolSize() + " workers: " + threads);
            assertTrue(threads.size() <= 2, "ran on " + threads);
        } finally {
            pool.close();
        }
    }

    private static void split(int from, int to, Set<String> threads, AtomicLong sum) {
        if (to - from == 1) {
            threads.add(Thread.currentThread().getName());
            long x = 0;
            for (int i = 0; i < 200_000; i++) x += (i * 31L) ^ x;
            if (x == 42) System.out.print("");
            sum.addAndGet(from);
            return;
        }
        int mid = (from + to) / 2;
        java.util.concurrent.ForkJoinTask.invokeAll(
                java.util.concurrent.ForkJoinTask.adapt(() -> split(from, mid, threads, sum)),
                java.util.concurrent.ForkJoinTask.adapt(() -> split(mid, to, threads, sum)));
    }
}
