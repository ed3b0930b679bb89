package mobyc.compiler.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GreedyBySizeTest {
    /**
     * a (1 byte, kernel 0), b (2, kernels 0-2), c (2, kernels 1-2): first fit in program order puts a at 0, b at 1
     * and c, which does not fit the 1-byte hole a leaves, at 3 (5 bytes); largest first reaches the peak, 4.
     */
    @Test
    void largestFirstFillsTheHoleFirstFitLeaves() {
        long[] offsets = new long[3];
        long end = GreedyBySize.place(new int[] {0, 1, 2}, new long[] {1, 2, 2}, new int[] {0, 0, 1}, new int[] {0, 2, 2}, offsets);
        assertEquals(4, end);
        assertArrayEquals(new long[] {2, 0, 2}, offsets, "b at 0, c after b, a where c will be");
    }

    @Test
    void buffersAliveTogetherNeverShareBytesAndTheArenaCoversThePeak() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + rnd.nextInt(60);
            long[] size = new long[n], offsets = new long[n];
            int[] from = new int[n], to = new int[n], ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = i;
                size[i] = rnd.nextInt(5) == 0 ? 0 : 64L * (1 + rnd.nextInt(20));
                from[i] = rnd.nextInt(40);
                to[i] = from[i] + rnd.nextInt(10);
            }
            long end = GreedyBySize.place(ids, size, from, to, offsets);
            long peak = 0;
            for (int k = 0; k < 50; k++) {
                long live = 0;
                for (int i = 0; i < n; i++) if (from[i] <= k && k <= to[i]) live += size[i];
                peak = Math.max(peak, live);
            }
            assertTrue(end >= peak, "trial " + trial);
            for (int i = 0; i < n; i++) {
                assertTrue(offsets[i] >= 0 && offsets[i] + size[i] <= end);
                for (int j = i + 1; j < n; j++) {
                    boolean together = from[i] <= to[j] && from[j] <= to[i];
                    boolean overlap = offsets[i] < offsets[j] + size[j] && offsets[j] < offsets[i] + size[i];
                    assertTrue(!(together && overlap), "trial " + trial + ": " + i + " and " + j);
                }
            }
        }
    }
}
