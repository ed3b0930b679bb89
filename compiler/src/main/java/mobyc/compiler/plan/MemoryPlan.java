package mobyc.compiler.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mobyc.compiler.lower.Program;

/**
 * Memory planning: the liveness of every temporary buffer of a program (from the kernel that writes it to the last
 * kernel that reads it; outputs and state updates live to the end) and an offset for each in one arena, so that
 * buffers whose lives do not overlap share bytes. Kernels are visited in order; a buffer is placed in the
 * lowest-offset free block that fits (first fit, freed blocks coalesce), and freed after its last reader.
 * Bound buffers (inputs, parameters, state) are not in the arena.
 *
 * @param offsets    arena offset of each buffer id, -1 for bound buffers
 * @param bytes      size of each buffer id in bytes (aligned)
 * @param first      index of the kernel that writes each temporary (-1 for bound buffers)
 * @param last       index of the last kernel that needs it (kernels.size() when it is an output or update)
 * @param arenaBytes the arena: the peak bytes of temporaries
 * @param naiveBytes the sum of all temporaries (one buffer per kernel, no reuse)
 * @param boundBytes inputs, parameters and state
 */
public record MemoryPlan(long[] offsets, long[] bytes, int[] first, int[] last, long arenaBytes, long naiveBytes, long boundBytes) {
    public static final int ALIGN = 64;

    /** Plans {@code p} with its symbolic sizes bound ({@code B -> 64}). */
    public static MemoryPlan of(Program p, Map<String, Long> bindings) {
        int nb = p.buffers().size(), nk = p.kernels().size();
        long[] bytes = new long[nb], offsets = new long[nb];
        int[] first = new int[nb], last = new int[nb];
        Arrays.fill(offsets, -1);
        Arrays.fill(first, -1);
        Arrays.fill(last, -1);
        long bound = 0, naive = 0;
        for (Program.Buffer b : p.buffers()) {
            long n = 1;
            for (long d : b.shape().evaluate(bindings)) n = Math.multiplyExact(n, d);
            long size = Math.multiplyExact(n, (long) b.dtype().bytes());
            if (b.kind() == Program.Kind.TEMP) {
                bytes[b.id()] = align(size);
                naive += bytes[b.id()];
            } else {
                bytes[b.id()] = size;
                bound += size;
            }
        }
        for (int k = 0; k < nk; k++) {
            Program.Kernel kernel = p.kernels().get(k);
            first[kernel.output()] = k;
            last[kernel.output()] = Math.max(last[kernel.output()], k);
            for (int in : kernel.inputs()) last[in] = Math.max(last[in], k);
        }
        for (int id : p.outputs().values()) last[id] = nk;
        for (int id : p.updates().values()) last[id] = nk;

        List<List<Integer>> freeAfter = new ArrayList<>(nk + 1);
        for (int k = 0; k <= nk; k++) freeAfter.add(new ArrayList<>());
        for (Program.Buffer b : p.buffers())
            if (b.kind() == Program.Kind.TEMP && first[b.id()] >= 0) freeAfter.get(Math.max(last[b.id()], first[b.id()])).add(b.id());

        FreeList free = new FreeList();
        for (int k = 0; k < nk; k++) {
            int out = p.kernels().get(k).output();
            offsets[out] = free.allocate(bytes[out]);
            for (int id : freeAfter.get(k)) free.release(offsets[id], bytes[id]);
        }
        return new MemoryPlan(offsets, bytes, first, last, free.end, naive, bound);
    }

    private static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

    /** Free blocks of the arena by offset; the arena grows at its end when nothing fits. */
    private static final class FreeList {
        final TreeMap<Long, Long> blocks = new TreeMap<>();
        long end;

        long allocate(long size) {
            if (size == 0) return 0;
            for (var e : blocks.entrySet()) {
                if (e.getValue() >= size) {
                    long at = e.getKey();
                    blocks.remove(at);
                    if (e.getValue() > size) blocks.put(at + size, e.getValue() - size);
                    return at;
                }
            }
            var lastBlock = blocks.lastEntry();
            if (lastBlock != null && lastBlock.getKey() + lastBlock.getValue() == end) {
                long at = lastBlock.getKey();
                blocks.remove(at);
                end = at + size;
                return at;
            }
            long at = end;
            end += size;
            return at;
        }

        void release(long at, long size) {
            if (size == 0) return;
            long start = at, len = size;
            var before = blocks.floorEntry(at);
            if (before != null && before.getKey() + before.getValue() == at) {
                start = before.getKey();
                len += before.getValue();
                blocks.remove(before.getKey());
            }
            var after = blocks.get(at + size);
            if (after != null) {
                blocks.remove(at + size);
                len += after;
            }
            blocks.put(start, len);
        }
    }

    /** A one-paragraph summary, e.g. for {@code mobyc compile}. */
    public String summary(int temporaries) {
        return String.format(java.util.Locale.ROOT, "memory: %d temporaries, %s without reuse, arena (peak of temporaries) %s; inputs, parameters and state %s",
                temporaries, human(naiveBytes), human(arenaBytes), human(boundBytes));
    }

    public static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
