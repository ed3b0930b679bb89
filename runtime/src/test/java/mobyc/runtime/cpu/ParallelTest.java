package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Parallel's guided chunks cover their range once, shrink, and a team's loop visits every item once. */
class ParallelTest {
    @Test
    void guidedChunksCoverTheRangeInShrinkingSteps() {
        for (long n : new long[] {1, 2, 3, 7, 100, 1000, 12345, 1 << 20})
            for (long floor : new long[] {1, 5, 1000})
                for (int threads : new int[] {2, 3, 8}) {
                    long[] at = Parallel.guided(n, floor, threads);
                    String what = "n " + n + ", floor " + floor + ", threads " + threads;
                    assertEquals(0, at[0], what);
                    assertEquals(n, at[at.length - 1], what);
                    assertEquals(Math.min(n, Math.max(floor, Parallel.ceilDiv(n, 2L * threads))), at[1], what + ": the first chunk");
                    for (int c = 1; c < at.length; c++) {
                        long size = at[c] - at[c - 1];
                        assertTrue(size > 0, what + ": chunk " + c + " is empty");
                        if (c < at.length - 1) assertTrue(size >= floor, what + ": chunk " + c + " of " + size + " is under the floor");
                        if (c > 1) assertTrue(size <= at[c - 1] - at[c - 2], what + ": chunk " + c + " grew");
                    }
                }
        assertEquals(10, Parallel.guided(1 << 20, 1 << 16, 2).length, "nine chunks: 1/4, 3/16 ... of 2^20 down to the floor of 2^16");
    }

    @Test
    void aTeamsLoopVisitsEveryItemOnce() {
        int n = 100_003;
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        Team.lead(true, () -> {
            Parallel.forRange(n, 64, (from, to) -> {
                for (long i = from; i < to; i++) seen.incrementAndGet((int) i);
            });
            return null;
        });
        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "item " + i);
    }
}
