package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.D;
import static mobyc.runtime.cpu.Simd.DL;
import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The row sums of layer_norm and its gradients {@value #ROWS} rows at a time. Folding one row's vector of partial
 * sums to a scalar is a chain of dependent rearranges, which for Swin's short rows (48 floats: three vectors) cost
 * more than the arithmetic. Here the partial-sum vectors of {@value #ROWS} rows are folded together: at each level
 * two rows' vectors are blended and added to each other's rearrangement, so one fold tree of 7 steps leaves row r's
 * sum in lane r. Each lane adds exactly the pairs a row's own tree adds ({@code CpuNormalizations.treeSum}: halves,
 * quarters, neighbours), so the sums, and everything computed from them, have the same bits as the row-by-row code.
 * Used when the double vector has {@value #ROWS} lanes (512-bit vectors) and rows are whole float vectors; the
 * callers fall back to one row at a time otherwise, and for a block's leftover rows.
 */
final class LayerNormRows {
    private LayerNormRows() {}

    static final int ROWS = 8;
    /** Whether rows of {@code c} floats go through the blocked sums on this machine. */
    static boolean fits(long c) { return DL == ROWS && FL == 2 * DL && c > 0 && c % FL == 0; }

    private static final VectorMask<Double> M4 = mask(0xF0), M2 = mask(0xCC), M1 = mask(0xAA);
    private static final VectorShuffle<Double> X4 = xor(4), X2 = xor(2), X1 = xor(1);

    private static VectorMask<Double> mask(long bits) { return DL == ROWS ? VectorMask.fromLong(D, bits) : null; }

    private static VectorShuffle<Double> xor(int d) { return DL == ROWS ? VectorShuffle.fromOp(D, i -> i ^ d) : null; }

    /** Scratch of one thread: the rows' partial-sum vectors (up to three statistics) and the folded sums. */
    static final class Scratch {
        final double[] part = new double[3 * ROWS * ROWS], sums = new double[3 * ROWS];
        final float[] hi = new float[ROWS], lo = new float[ROWS], rstd = new float[ROWS];
    }

    static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * The mean of each of the rows starting at {@code base} (rows {@code c} apart), split into floats hi + lo, as
     * {@code CpuNormalizations.rowSum} sums them: half vectors widened into two double accumulators.
     */
    static void means(MemorySegment xs, long base, int c, Scratch s) {
        for (int r = 0; r < ROWS; r++) {
            long at = base + (long) r * c;
            DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
            for (int j = 0; j < c; j += FL) { // one float vector, its halves widened: the lanes of two half-vector loads
                FloatVector v = FloatVector.fromMemorySegment(F, xs, (at + j) << 2, LE);
                a0 = a0.add(v.convertShape(VectorOperators.F2D, D, 0));
                a1 = a1.add(v.convertShape(VectorOperators.F2D, D, 1));
            }
            a0.add(a1).intoArray(s.part, r * ROWS);
        }
        fold(s.part, 0, s.sums, 0);
        for (int r = 0; r < ROWS; r++) {
            double mean = s.sums[r] / c;
            s.hi[r] = (float) mean;
            s.lo[r] = (float) (mean - s.hi[r]);
        }
    }

    /** Means (as {@link #means}) and 1 / sqrt(var + eps) of each row, var from float lanes of d^2 summed in double. */
    static void statistics(MemorySegment xs, long base, int c, double eps, Scratch s) {
        means(xs, base, c, s);
        for (int r = 0; r < ROWS; r++) {
            long at = base + (long) r * c;
            FloatVector vhi = FloatVector.broadcast(F, s.hi[r]), vlo = FloatVector.broadcast(F, s.lo[r]), acc = FloatVector.zero(F);
            for (int j = 0; j < c; j += FL) {
                FloatVector d = FloatVector.fromMemorySegment(F, xs, (at + j) << 2, LE).sub(vhi).sub(vlo);
                acc = d.fma(d, acc);
            }
            store(acc, s.part, r * ROWS);
        }
        fold(s.part, 0, s.sums, 0);
        for (int r = 0; r < ROWS; r++) s.rstd[r] = (float) (1.0 / Math.sqrt(s.sums[r] / c + eps));
    }

    /** A float vector's two halves widened and added, stored as row vector {@code at} of {@code part}. */
    static void store(FloatVector v, double[] part, int at) {
        ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).add(v.convertShape(VectorOperators.F2D, D, 1)).intoArray(part, at);
    }

    /** sums[to + r] = the fixed-tree sum of the lanes of row vector r of part (from {@code at}), r < {@value #ROWS}. */
    static void fold(double[] part, int at, double[] sums, int to) {
        DoubleVector v0 = DoubleVector.fromArray(D, part, at), v1 = DoubleVector.fromArray(D, part, at + ROWS);
        DoubleVector v2 = DoubleVector.fromArray(D, part, at + 2 * ROWS), v3 = DoubleVector.fromArray(D, part, at + 3 * ROWS);
        DoubleVector v4 = DoubleVector.fromArray(D, part, at + 4 * ROWS), v5 = DoubleVector.fromArray(D, part, at + 5 * ROWS);
        DoubleVector v6 = DoubleVector.fromArray(D, part, at + 6 * ROWS), v7 = DoubleVector.fromArray(D, part, at + 7 * ROWS);
        // lanes with bit 2 set now hold row r + 4, then bit 1 adds 2, bit 0 adds 1
        DoubleVector w0 = pair(v0, v4, M4, X4), w1 = pair(v1, v5, M4, X4), w2 = pair(v2, v6, M4, X4), w3 = pair(v3, v7, M4, X4);
        DoubleVector x0 = pair(w0, w2, M2, X2), x1 = pair(w1, w3, M2, X2);
        pair(x0, x1, M1, X1).intoArray(sums, to);
    }

    /** Lanes of a outside m and of b inside it, each plus its partner lane (index xor d) of the same vector. */
    private static DoubleVector pair(DoubleVector a, DoubleVector b, VectorMask<Double> m, VectorShuffle<Double> partner) {
        return a.blend(b, m).add(b.blend(a, m).rearrange(partner));
    }
}
