package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.DL;
import static mobyc.runtime.cpu.Simd.FL;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Float reduce_sum, reduce_mean and reduce_max over any set of axes. The input's axes are collapsed into
 * alternating groups of reduced and kept axes, leaving three shapes of work:
 * <ul>
 *   <li>everything reduced: fixed 64K-element chunks reduced in parallel, then combined in order;</li>
 *   <li>the last group reduced: each output is a sum of contiguous runs (a vector loop each), in parallel over outputs;</li>
 *   <li>the last group kept: each output row accumulates input rows, vectorised across its columns, in parallel over
 *       rows and column blocks; where that leaves too few items to share (a bias gradient: one output row, a few
 *       column blocks, tens of thousands of input rows) the input rows are cut into fixed chunks instead, each
 *       chunk's column sums taken along whole rows, and the chunks added in order.</li>
 * </ul>
 * Sums accumulate in double as interp's do, so results agree to the last bit or two whatever the order; max
 * propagates NaN.
 */
final class CpuReductions {
    private CpuReductions() {}

    private static final long CHUNK = 1 << 16;
    /** Columns accumulated together in the last-group-kept case. */
    private static final int SUM_BLOCK = 4 * DL, MAX_BLOCK = 2 * FL;
    /**
     * Input rows a chunk of {@link #byRowChunks} sums, and the fewest (output row, column block) items below which it
     * is used: both from the shape alone, so the sums do not depend on the number of threads.
     */
    private static final int ROW_CHUNK = 512, FEW_ITEMS = 8;

    static void reduce(Op.Reduce r, Tensor x, Tensor out) {
        long[] shape = x.shape();
        boolean[] reduced = new boolean[shape.length];
        for (int a : r.axes()) reduced[Shapes.axis(a, shape.length)] = true;
        long count = 1;
        for (int i = 0; i < shape.length; i++) if (reduced[i]) count *= shape[i];
        Op.ReduceFn fn = r.fn();
        if (count == 0 && fn == Op.ReduceFn.MAX && out.numel() > 0)
            throw new IllegalArgumentException("reduce_max over an empty axis of a tensor of shape " + x.shapeString());
        MemorySegment xs = x.segment(), os = out.segment();
        if (out.numel() == 0) return;
        if (count == 0) {
            Simd.fill(os, 0, out.numel(), Float.floatToRawIntBits(fn == Op.ReduceFn.MEAN ? Float.NaN : 0f));
            return;
        }
        // Groups of neighbouring axes alike in being reduced or kept; size-1 axes dropped.
        List<long[]> groups = new ArrayList<>(); // {size, reduced ? 1 : 0, stride}
        long[] strides = Shapes.strides(shape);
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) continue;
            long flag = reduced[i] ? 1 : 0;
            if (!groups.isEmpty() && groups.getLast()[1] == flag) {
                long[] g = groups.getLast();
                g[0] *= shape[i];
                g[2] = strides[i];
            } else {
                groups.add(new long[] {shape[i], flag, strides[i]});
            }
        }
        if (groups.isEmpty() || (groups.size() == 1 && groups.getFirst()[1] == 0)) { // nothing to combine
            CpuMovement.copy(x, out);
            return;
        }
        if (groups.size() == 1) {
            whole(fn, xs, x.numel(), os);
            return;
        }
        boolean lastReduced = groups.getLast()[1] == 1;
        long[][] kept = pick(groups, 0, lastReduced ? groups.size() : groups.size() - 1);
        long[][] red = pick(groups, 1, lastReduced ? groups.size() - 1 : groups.size());
        long length = groups.getLast()[0];
        if (lastReduced) byRuns(fn, xs, os, out.numel(), kept, red, length, count);
        else byColumns(fn, xs, os, out.numel() / length, kept, red, length, count);
    }

    /** The shape and strides of the groups with the given flag among the first {@code end}. */
    private static long[][] pick(List<long[]> groups, long flag, int end) {
        List<long[]> chosen = groups.subList(0, end).stream().filter(g -> g[1] == flag).toList();
        long[] shape = new long[chosen.size()], strides = new long[chosen.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = chosen.get(i)[0];
            strides[i] = chosen.get(i)[2];
        }
        return new long[][] {shape, strides};
    }

    private static void whole(Op.ReduceFn fn, MemorySegment xs, long n, MemorySegment os) {
        int chunks = (int) Parallel.ceilDiv(n, CHUNK);
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, 1, (from, to) -> {
            for (long c = from; c < to; c++) {
                long at = c * CHUNK, len = Math.min(CHUNK, n - at);
                partial[(int) c] = fn == Op.ReduceFn.MAX ? Simd.max(xs, at, len) : Simd.sum(xs, at, len);
            }
        });
        if (fn == Op.ReduceFn.MAX) {
            float m = Float.NEGATIVE_INFINITY;
            for (double p : partial) m = Math.max(m, (float) p);
            Simd.set(os, 0, m);
        } else {
            double sum = 0;
            for (double p : partial) sum += p;
            Simd.set(os, 0, (float) (fn == Op.ReduceFn.MEAN ? sum / n : sum));
        }
    }

    /** Output o is the reduction of runs of {@code length} at kept(o) + red(q) for every q. */
    private static void byRuns(Op.ReduceFn fn, MemorySegment xs, MemorySegment os, long outputs,
                               long[][] kept, long[][] red, long length, long count) {
        long runs = Shapes.numel(red[0]);
        Parallel.forItems(outputs, runs * length, (from, to) -> {
            Odometer outer = new Odometer(kept[0], kept[1]), inner = new Odometer(red[0], red[1]);
            long base = outer.seek(from);
            for (long o = from; o < to; o++, base = outer.next()) {
                long off = inner.seek(0);
                if (fn == Op.ReduceFn.MAX) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (long q = 0; q < runs; q++, off = inner.next()) m = Math.max(m, Simd.max(xs, base + off, length));
                    Simd.set(os, o, m);
                } else {
                    double sum = 0;
                    for (long q = 0; q < runs; q++, off = inner.next()) sum += Simd.sum(xs, base + off, length);
                    Simd.set(os, o, (float) (fn == Op.ReduceFn.MEAN ? sum / count : sum));
                }
            }
        });
    }

    /** Output row p (of {@code length} columns) accumulates the input rows at kept(p) + red(q) for every q. */
    private static void byColumns(Op.ReduceFn fn, MemorySegment xs, MemorySegment os, long rows,
                                  long[][] kept, long[][] red, long length, long count) {
        long q = Shapes.numel(red[0]);
        int block = fn == Op.ReduceFn.MAX ? MAX_BLOCK : SUM_BLOCK;
        long blocks = Parallel.ceilDiv(length, block);
        if (fn != Op.ReduceFn.MAX && rows * blocks < FEW_ITEMS && q >= 2L * ROW_CHUNK) {
            byRowChunks(fn, xs, os, rows, kept, red, length, count);
            return;
        }
        Parallel.forItems(rows * blocks, q * block, (from, to) -> {
            Odometer outer = new Odometer(kept[0], kept[1]), inner = new Odometer(red[0], red[1]);
            for (long item = from; item < to; item++) {
                long p = item / blocks, c0 = item % blocks * block, width = Math.min(block, length - c0);
                long base = outer.seek(p) + c0, dst = p * length + c0;
                if (fn == Op.ReduceFn.MAX) maxColumns(xs, base, inner, q, width, os, dst);
                else sumColumns(xs, base, inner, q, width, os, dst, fn == Op.ReduceFn.MEAN ? count : 0);
            }
        });
    }

    /**
     * byColumns for a few output rows gathering many input rows: the q input rows of each output row in chunks of
     * {@link #ROW_CHUNK}, in parallel over (output row, chunk); a chunk adds whole input rows (contiguous reads,
     * every column at once) into its own row of double partial sums, and the chunks are then added in order. Split by
     * column blocks instead, every thread would stream through the whole input for a slice of each row: a [32768, 48]
     * bias gradient made two items, one of 32 columns and one of 16.
     */
    private static void byRowChunks(Op.ReduceFn fn, MemorySegment xs, MemorySegment os, long rows,
                                    long[][] kept, long[][] red, long length, long count) {
        long q = Shapes.numel(red[0]);
        int chunks = (int) Parallel.ceilDiv(q, ROW_CHUNK), len = (int) length;
        double[] partial = new double[Math.toIntExact(rows * chunks * len)];
        Parallel.forItems(rows * chunks, (long) ROW_CHUNK * length, (from, to) -> {
            Odometer outer = new Odometer(kept[0], kept[1]), inner = new Odometer(red[0], red[1]);
            for (long item = from; item < to; item++) {
                long p = item / chunks, k0 = item % chunks * ROW_CHUNK, k1 = Math.min(q, k0 + ROW_CHUNK);
                long base = outer.seek(p), off = inner.seek(k0);
                for (long k = k0; k < k1; k++, off = inner.next()) addRow(xs, base + off, partial, (int) item * len, len);
            }
        });
        for (long p = 0; p < rows; p++)
            for (int c = 0; c < len; c++) {
                double sum = 0;
                for (int ch = 0; ch < chunks; ch++) sum += partial[(int) (p * chunks + ch) * len + c];
                Simd.set(os, p * length + c, (float) (fn == Op.ReduceFn.MEAN ? sum / count : sum));
            }
    }

    /** {@code acc[at .. at + len) += x[from .. from + len)}, in double. */
    private static void addRow(MemorySegment xs, long from, double[] acc, int at, int len) {
        int c = 0;
        for (; c + DL <= len; c += DL)
            DoubleVector.fromArray(Simd.D, acc, at + c)
                    .add(FloatVector.fromMemorySegment(Simd.H, xs, (from + c) << 2, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0))
                    .intoArray(acc, at + c);
        for (; c < len; c++) acc[at + c] += Simd.get(xs, from + c);
    }

    /** Column sums of {@code width} columns over q rows; divided by {@code divisor} when it is not 0. */
    private static void sumColumns(MemorySegment xs, long base, Odometer rows, long q, long width,
                                   MemorySegment os, long dst, long divisor) {
        long off = rows.seek(0);
        if (width == SUM_BLOCK) {
            DoubleVector a0 = DoubleVector.zero(Simd.D), a1 = a0, a2 = a0, a3 = a0;
            for (long k = 0; k < q; k++, off = rows.next()) {
                long at = (base + off) << 2;
                a0 = a0.add(FloatVector.fromMemorySegment(Simd.H, xs, at, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
                a1 = a1.add(FloatVector.fromMemorySegment(Simd.H, xs, at + 4L * DL, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
                a2 = a2.add(FloatVector.fromMemorySegment(Simd.H, xs, at + 8L * DL, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
                a3 = a3.add(FloatVector.fromMemorySegment(Simd.H, xs, at + 12L * DL, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
            }
            if (divisor != 0) {
                double d = divisor;
                a0 = a0.div(d);
                a1 = a1.div(d);
                a2 = a2.div(d);
                a3 = a3.div(d);
            }
            long at = dst << 2;
            a0.convertShape(VectorOperators.D2F, Simd.H, 0).intoMemorySegment(os, at, Simd.LE);
            a1.convertShape(VectorOperators.D2F, Simd.H, 0).intoMemorySegment(os, at + 4L * DL, Simd.LE);
            a2.convertShape(VectorOperators.D2F, Simd.H, 0).intoMemorySegment(os, at + 8L * DL, Simd.LE);
            a3.convertShape(VectorOperators.D2F, Simd.H, 0).intoMemorySegment(os, at + 12L * DL, Simd.LE);
            return;
        }
        // A last, narrower block: two vectors of columns at a time, then one, then what is left one by one (left
        // scalar, the 16 columns that 48 and 144 leave ran at a third of the memory speed of the rest).
        int c = 0;
        for (; c + 2 * DL <= width; c += 2 * DL) {
            DoubleVector a0 = DoubleVector.zero(Simd.D), a1 = a0;
            off = rows.seek(0);
            for (long k = 0; k < q; k++, off = rows.next()) {
                long at = (base + off + c) << 2;
                a0 = a0.add(FloatVector.fromMemorySegment(Simd.H, xs, at, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
                a1 = a1.add(FloatVector.fromMemorySegment(Simd.H, xs, at + 4L * DL, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
            }
            storeSums(a0, os, dst + c, divisor);
            storeSums(a1, os, dst + c + DL, divisor);
        }
        for (; c + DL <= width; c += DL) {
            DoubleVector a0 = DoubleVector.zero(Simd.D);
            off = rows.seek(0);
            for (long k = 0; k < q; k++, off = rows.next())
                a0 = a0.add(FloatVector.fromMemorySegment(Simd.H, xs, (base + off + c) << 2, Simd.LE).convertShape(VectorOperators.F2D, Simd.D, 0));
            storeSums(a0, os, dst + c, divisor);
        }
        if (c == width) return;
        double[] acc = new double[(int) width - c];
        off = rows.seek(0);
        for (long k = 0; k < q; k++, off = rows.next())
            for (int i = 0; i < acc.length; i++) acc[i] += Simd.get(xs, base + off + c + i);
        for (int i = 0; i < acc.length; i++) Simd.set(os, dst + c + i, (float) (divisor != 0 ? acc[i] / divisor : acc[i]));
    }

    /** Stores DL column sums as floats at {@code dst}, divided by {@code divisor} when it is not 0. */
    private static void storeSums(DoubleVector sums, MemorySegment os, long dst, long divisor) {
        if (divisor != 0) sums = sums.div((double) divisor);
        sums.convertShape(VectorOperators.D2F, Simd.H, 0).intoMemorySegment(os, dst << 2, Simd.LE);
    }

    private static void maxColumns(MemorySegment xs, long base, Odometer rows, long q, long width, MemorySegment os, long dst) {
        long off = rows.seek(0);
        if (width == MAX_BLOCK) {
            FloatVector m0 = FloatVector.broadcast(Simd.F, Float.NEGATIVE_INFINITY), m1 = m0;
            for (long k = 0; k < q; k++, off = rows.next()) {
                long at = (base + off) << 2;
                m0 = m0.max(FloatVector.fromMemorySegment(Simd.F, xs, at, Simd.LE));
                m1 = m1.max(FloatVector.fromMemorySegment(Simd.F, xs, at + 4L * FL, Simd.LE));
            }
            m0.intoMemorySegment(os, dst << 2, Simd.LE);
            m1.intoMemorySegment(os, (dst + FL) << 2, Simd.LE);
            return;
        }
        float[] m = new float[(int) width];
        java.util.Arrays.fill(m, Float.NEGATIVE_INFINITY);
        for (long k = 0; k < q; k++, off = rows.next())
            for (int c = 0; c < width; c++) m[c] = Math.max(m[c], Simd.get(xs, base + off + c));
        for (int c = 0; c < width; c++) Simd.set(os, dst + c, m[c]);
    }
}
