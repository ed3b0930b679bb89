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
import jdk.incubator.vector.VectorSpecies;

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
        /** Float partial-sum vectors of the rows (up to three statistics), before {@link #widen}. */
        final float[] fpart = new float[3 * ROWS * FL];
        final float[] hi = new float[ROWS], lo = new float[ROWS], rstd = new float[ROWS];
        final double[] rstdD = new double[ROWS];
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
        // the rows' (float) (sum / c) and (float) (mean - hi), lane by lane: the same IEEE operations as row by row
        DoubleVector mean = DoubleVector.fromArray(D, s.sums, 0).div(c);
        FloatVector hi = (FloatVector) mean.convertShape(VectorOperators.D2F, F8, 0);
        hi.intoArray(s.hi, 0);
        ((FloatVector) mean.sub(hi.convertShape(VectorOperators.F2D, D, 0)).convertShape(VectorOperators.D2F, F8, 0)).intoArray(s.lo, 0);
    }

    /** Floats of 256 bits: the {@value #ROWS} rows' float statistics, one lane each (used only where {@link #fits}). */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    /**
     * s.rstd[r] = (float) (1 / sqrt(sums[at + r] / c + eps)) for the {@value #ROWS} rows, in double lanes (correctly
     * rounded division and square root: the bits of the scalar expression); also kept in double in {@code s.rstdD}.
     */
    static void rstd(Scratch s, int at, int c, double eps) {
        DoubleVector r = DoubleVector.broadcast(D, 1.0).div(DoubleVector.fromArray(D, s.sums, at).div(c).add(eps).sqrt());
        r.intoArray(s.rstdD, 0);
        ((FloatVector) r.convertShape(VectorOperators.D2F, F8, 0)).intoArray(s.rstd, 0);
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
            acc.intoArray(s.fpart, r * FL);
        }
        widen(s.fpart, 0, s.part, 0);
        fold(s.part, 0, s.sums, 0);
        rstd(s, 0, c, eps);
    }

    /**
     * The {@value #ROWS} float vectors at {@code fpart[from + r FL]}, each's two halves widened and added, into row
     * vectors {@code part[to + r ROWS]}. The callers store their vectors in an array first: a helper taking a vector
     * was past C2's inlining budget in them (NodeCountInliningCutoff), and every vector passed to it was boxed.
     */
    static void widen(float[] fpart, int from, double[] part, int to) {
        for (int r = 0; r < ROWS; r++) {
            FloatVector v = FloatVector.fromArray(F, fpart, from + r * FL);
            ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).add(v.convertShape(VectorOperators.F2D, D, 1)).intoArray(part, to + r * ROWS);
        }
    }

    /** sums[to + r] = the fixed-tree sum of the lanes of row vector r of part (from {@code at}), r < {@value #ROWS}. */
    static void fold(double[] part, int at, double[] sums, int to) {
        DoubleVector v0 = DoubleVector.fromArray(D, part, at), v1 = DoubleVector.fromArray(D, part, at + ROWS);
        DoubleVector v2 = DoubleVector.fromArray(D, part, at + 2 * ROWS), v3 = DoubleVector.fromArray(D, part, at + 3 * ROWS);
        DoubleVector v4 = DoubleVector.fromArray(D, part, at + 4 * ROWS), v5 = DoubleVector.fromArray(D, part, at + 5 * ROWS);
        DoubleVector v6 = DoubleVector.fromArray(D, part, at + 6 * ROWS), v7 = DoubleVector.fromArray(D, part, at + 7 * ROWS);
        // Each step pairs two vectors a, b: lanes of a outside the mask and of b inside it, each plus its partner lane
        // (index xor d) of the same vector. Lanes with bit 2 set now hold row r + 4, then bit 1 adds 2, bit 0 adds 1.
        // Written out: a helper taking vectors was not always inlined here (NodeCountInliningCutoff), and boxed them.
        DoubleVector w0 = v0.blend(v4, M4).add(v4.blend(v0, M4).rearrange(X4)), w1 = v1.blend(v5, M4).add(v5.blend(v1, M4).rearrange(X4));
        DoubleVector w2 = v2.blend(v6, M4).add(v6.blend(v2, M4).rearrange(X4)), w3 = v3.blend(v7, M4).add(v7.blend(v3, M4).rearrange(X4));
        DoubleVector x0 = w0.blend(w2, M2).add(w2.blend(w0, M2).rearrange(X2)), x1 = w1.blend(w3, M2).add(w3.blend(w1, M2).rearrange(X2));
        x0.blend(x1, M1).add(x1.blend(x0, M1).rearrange(X1)).intoArray(sums, to);
    }
}
