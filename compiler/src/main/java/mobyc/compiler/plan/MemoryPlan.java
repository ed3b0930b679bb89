package mobyc.compiler.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Program;

/**
 * Memory planning: the liveness of every temporary buffer of a program (from the kernel that writes it to the last
 * kernel that reads it; outputs and state updates live to the end) and an offset for each in one arena, so that
 * buffers whose lives do not overlap share bytes. Two placements are made and the smaller arena kept: kernels
 * visited in order, a buffer placed in the lowest-offset free block that fits (first fit, freed blocks coalesce) and
 * freed after its last reader; and {@link GreedyBySize}, largest buffers first. (On the small32 MoBY step first fit
 * alone left the arena 9% above the most bytes ever alive together.)
 * A reshape or stop_gradient of a temporary, and a step-1 slice of one whose range is contiguous (every axis
 * before the sliced one has size 1), is a view: it takes (some of) its operand's bytes, no copy and no kernel, and
 * the operand lives as long as its last view is needed. A view may be a state update, not an output. Bound buffers (inputs, parameters, state) are not in the
 * arena; with {@code outputsInArena} false neither are outputs (an executor hands those out as fresh tensors).
 * A kernel's {@link Siblings sibling} (written by the kernel before it) is live from that kernel.
 *
 * @param offsets    arena offset of each buffer id, -1 for buffers outside the arena
 * @param bytes      size of each buffer id in bytes (aligned)
 * @param first      index of the kernel that writes each temporary (-1 for bound buffers)
 * @param last       index of the last kernel that needs it (kernels.size() when it is an output or update)
 * @param aliasOf    for each buffer, the buffer whose bytes it views (never itself a view), or -1
 * @param viewOffset for each view, its first byte within that buffer
 * @param arenaBytes the arena: the peak bytes of temporaries
 * @param naiveBytes the sum of all temporaries (one buffer per kernel, no reuse)
 * @param boundBytes inputs, parameters and state
 */
public record MemoryPlan(long[] offsets, long[] bytes, int[] first, int[] last, int[] aliasOf, long[] viewOffset, long arenaBytes, long naiveBytes, long boundBytes) {
    public static final int ALIGN = 64;

    /** Plans {@code p} with its symbolic sizes bound ({@code B -> 64}), outputs in the arena (the peak to report). */
    public static MemoryPlan of(Program p, Map<String, Long> bindings) { return of(p, bindings, true); }

    /** Plans {@code p}; with {@code outputsInArena} false the outputs are left to the executor. */
    public static MemoryPlan of(Program p, Map<String, Long> bindings, boolean outputsInArena) {
        int nb = p.buffers().size(), nk = p.kernels().size();
        long[] bytes = new long[nb], offsets = new long[nb];
        int[] first = new int[nb], last = new int[nb], alias = new int[nb];
        long[] viewOffset = new long[nb];
        Arrays.fill(offsets, -1);
        Arrays.fill(first, -1);
        Arrays.fill(last, -1);
        Arrays.fill(alias, -1);
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
        Set<Integer> outputs = new HashSet<>(p.outputs().values());
        boolean[] sibling = Siblings.withPrevious(p);
        for (int k = 0; k < nk; k++) {
            Program.Kernel kernel = p.kernels().get(k);
            int out = kernel.output();
            first[out] = sibling[k] ? k - 1 : k; // a sibling's output is written by the kernel before it
            last[out] = Math.max(last[out], k);
            int in = kernel.inputs().isEmpty() ? -1 : kernel.inputs().getFirst();
            long at = in < 0 ? -1 : viewStart(kernel.op(), p.buffer(in), bindings);
            if (at >= 0 && plain(p, in, outputs) && plain(p, out, outputs)) {
                alias[out] = root(alias, in);
                viewOffset[out] = (alias[in] >= 0 ? viewOffset[in] : 0) + at;
            }
            for (int i : kernel.inputs()) last[root(alias, i)] = Math.max(last[root(alias, i)], k);
        }
        for (int id : p.outputs().values()) last[id] = nk;
        for (int id : p.updates().values()) last[root(alias, id)] = last[id] = nk;

        List<List<Integer>> freeAfter = new ArrayList<>(nk + 1);
        for (int k = 0; k <= nk; k++) freeAfter.add(new ArrayList<>());
        for (Program.Buffer b : p.buffers())
            if (b.kind() == Program.Kind.TEMP && first[b.id()] >= 0 && alias[b.id()] < 0)
                freeAfter.get(Math.max(last[b.id()], first[b.id()])).add(b.id());

        FreeList free = new FreeList();
        Set<Integer> outside = outputsInArena ? Set.of() : new HashSet<>(p.outputs().values());
        List<Integer> placed = new ArrayList<>();
        for (int k = 0; k < nk; k++) {
            for (int w = k; w < nk && (w == k ? !sibling[k] : sibling[w]); w++) { // kernel k's output, and its siblings'
                int out = p.kernels().get(w).output();
                if (alias[out] >= 0) offsets[out] = offsets[alias[out]] + viewOffset[out];
                else if (!outside.contains(out)) {
                    offsets[out] = free.allocate(bytes[out]);
                    placed.add(out);
                }
            }
            for (int id : freeAfter.get(k)) if (offsets[id] >= 0) free.release(offsets[id], bytes[id]);
        }
        // The same buffers placed largest first (GreedyBySize); the smaller arena wins.
        long[] greedy = offsets.clone();
        int[] until = new int[nb];
        for (int id : placed) until[id] = Math.max(last[id], first[id]);
        long greedyEnd = GreedyBySize.place(placed.stream().mapToInt(Integer::intValue).toArray(), bytes, first, until, greedy);
        if (greedyEnd >= free.end) return new MemoryPlan(offsets, bytes, first, last, alias, viewOffset, free.end, naive, bound);
        for (int k = 0; k < nk; k++) {
            int out = p.kernels().get(k).output();
            if (alias[out] >= 0) greedy[out] = greedy[alias[out]] + viewOffset[out];
        }
        return new MemoryPlan(greedy, bytes, first, last, alias, viewOffset, greedyEnd, naive, bound);
    }

    /**
     * Where the output of {@code op} starts within its operand {@code in}, in bytes, when it is a view of it (reshape,
     * stop_gradient: 0; a step-1 slice with only size-1 axes before the sliced one: start x the bytes of one step along
     * that axis); -1 when it is not a view.
     */
    public static long viewStart(Op op, Program.Buffer in, Map<String, Long> bindings) {
        if (op instanceof Op.Reshape || op instanceof Op.StopGradient) return 0;
        if (!(op instanceof Op.Slice s) || s.step() != 1) return -1;
        long[] shape = in.shape().evaluate(bindings);
        int axis = s.axis() < 0 ? s.axis() + shape.length : s.axis();
        for (int i = 0; i < axis; i++) if (shape[i] != 1) return -1;
        long inner = in.dtype().bytes();
        for (int i = axis + 1; i < shape.length; i++) inner *= shape[i];
        long start = Math.max(0, Math.min(s.start() < 0 ? s.start() + shape[axis] : s.start(), shape[axis]));
        return start * inner;
    }

    private static boolean plain(Program p, int b, Set<Integer> outputs) {
        return p.buffer(b).kind() == Program.Kind.TEMP && !outputs.contains(b);
    }

    private static int root(int[] alias, int b) { return alias[b] >= 0 ? alias[b] : b; }

    private static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

    /** Free blocks of the arena by offset; the arena grows at its end when nothing fits. */
    private static final class FreeList {
        final TreeMap<Long, Long> blocks = new TreeMap<>();
        long end;

        long allocate(long size) {
            if (size == 0) return 0;
            for (var e : blocks.entrySet()) {
                // read both before removing: TreeMap may reuse the removed entry for its successor
                long at = e.getKey(), length = e.getValue();
                if (length >= size) {
                    blocks.remove(at);
                    if (length > size) blocks.put(at + size, length - size);
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
