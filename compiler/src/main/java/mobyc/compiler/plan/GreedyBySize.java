package mobyc.compiler.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Offline placement of buffers whose lifetimes are all known before the first kernel runs (TensorFlow Lite's
 * "greedy by size" planner): the largest buffer first, each at the smallest gap between the already placed buffers
 * whose lives overlap its own that fits it, else after the last of them. It packs large buffers tightly where first
 * fit, in program order, leaves holes that later, larger buffers cannot use.
 */
final class GreedyBySize {
    private GreedyBySize() {}

    /**
     * Places buffers {@code ids}: {@code size[id]} bytes, alive from kernel {@code from[id]} to kernel {@code to[id]}
     * (both included). Writes each offset to {@code offsets[id]} and returns the arena's end.
     */
    static long place(int[] ids, long[] size, int[] from, int[] to, long[] offsets) {
        Integer[] order = Arrays.stream(ids).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingLong(id -> -size[id]).thenComparingInt(id -> from[id]).thenComparingInt(id -> id));
        List<Integer> placed = new ArrayList<>(ids.length); // by offset
        long end = 0;
        for (int id : order) {
            long best = -1, bestGap = Long.MAX_VALUE, reached = 0;
            for (int other : placed) {
                if (to[other] < from[id] || to[id] < from[other]) continue; // never alive together
                long gap = offsets[other] - reached;
                if (gap >= size[id] && gap < bestGap) {
                    best = reached;
                    bestGap = gap;
                }
                reached = Math.max(reached, offsets[other] + size[other]);
            }
            offsets[id] = best >= 0 ? best : reached;
            int at = 0;
            while (at < placed.size() && offsets[placed.get(at)] <= offsets[id]) at++;
            placed.add(at, id);
            end = Math.max(end, offsets[id] + size[id]);
        }
        return end;
    }
}
