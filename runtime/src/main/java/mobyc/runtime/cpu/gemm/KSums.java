package mobyc.runtime.cpu.gemm;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sums over k of one operand of a product, added up from its packed blocks while they are in cache: op(A)'s rows
 * ({@code ofB} false; A stored k x m, the k-major layout of {@link Packing#packA}) or op(B)'s columns ({@code ofB};
 * B's k x NR panels). A weight's gradient dY^T X and its bias's gradient, dY summed over the tokens, read the same
 * dY: the GEMM reads it once for both. Each element is added exactly once (by the parts that start at column 0, or
 * row 0 for B, and the first block of the other operand), into double accumulators indexed like op(A)'s rows or
 * op(B)'s columns; a product cut along k adds each slice into its own and then the slices in order, so the sums do
 * not depend on the thread count.
 */
record KSums(double[] acc, boolean ofB) {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> H = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    /** The same sums into fresh accumulators: a slice of k other than the first. */
    KSums fresh() { return new KSums(new double[acc.length], ofB); }

    /** Adds the k-major block {@code kc x mc} (element (i, p) at {@code p * mc + i}) into {@code acc[i0 ..)}. */
    void addRuns(float[] block, int kc, int mc, int i0) { addRows(block, 0, mc, kc, mc, i0); }

    /** Adds the panels of a packed B block ({@code kc x nc} from {@code at}, NR columns a panel) into {@code acc[j0 ..)}. */
    void addPanels(float[] packed, int at, int kc, int nc, int j0) {
        int nr = MicroKernel.NR;
        for (int q = 0; q * nr < nc; q++) addRows(packed, at + q * kc * nr, nr, kc, Math.min(nr, nc - q * nr), j0 + q * nr);
    }

    /**
     * {@code acc[to + c] += sum_p x[from + p * stride + c]} for {@code c < cols}, {@code p < rows}, in double: four
     * vectors of columns at a time held in registers down the rows (a store and a load per vector per row made the
     * sums cost about what reading dy again did).
     */
    private void addRows(float[] x, int from, int stride, int rows, int cols, int to) {
        int dl = D.length(), c = 0;
        for (; c + 4 * dl <= cols; c += 4 * dl) {
            DoubleVector s0 = DoubleVector.fromArray(D, acc, to + c), s1 = DoubleVector.fromArray(D, acc, to + c + dl);
            DoubleVector s2 = DoubleVector.fromArray(D, acc, to + c + 2 * dl), s3 = DoubleVector.fromArray(D, acc, to + c + 3 * dl);
            for (int p = 0, at = from + c; p < rows; p++, at += stride) {
                s0 = s0.add(FloatVector.fromArray(H, x, at).convertShape(VectorOperators.F2D, D, 0));
                s1 = s1.add(FloatVector.fromArray(H, x, at + dl).convertShape(VectorOperators.F2D, D, 0));
                s2 = s2.add(FloatVector.fromArray(H, x, at + 2 * dl).convertShape(VectorOperators.F2D, D, 0));
                s3 = s3.add(FloatVector.fromArray(H, x, at + 3 * dl).convertShape(VectorOperators.F2D, D, 0));
            }
            s0.intoArray(acc, to + c);
            s1.intoArray(acc, to + c + dl);
            s2.intoArray(acc, to + c + 2 * dl);
            s3.intoArray(acc, to + c + 3 * dl);
        }
        for (; c + dl <= cols; c += dl) {
            DoubleVector s0 = DoubleVector.fromArray(D, acc, to + c);
            for (int p = 0, at = from + c; p < rows; p++, at += stride) s0 = s0.add(FloatVector.fromArray(H, x, at).convertShape(VectorOperators.F2D, D, 0));
            s0.intoArray(acc, to + c);
        }
        for (; c < cols; c++) {
            double s0 = acc[to + c];
            for (int p = 0, at = from + c; p < rows; p++, at += stride) s0 += x[at];
            acc[to + c] = s0;
        }
    }

    /** The sums added in order: {@code acc += other}. */
    void addAll(KSums other) {
        for (int i = 0; i < acc.length; i++) acc[i] += other.acc[i];
    }
}
