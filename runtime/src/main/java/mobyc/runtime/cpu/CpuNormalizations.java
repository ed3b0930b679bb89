package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.D;
import static mobyc.runtime.cpu.Simd.DL;
import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.H;
import static mobyc.runtime.cpu.Simd.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * softmax, log_softmax, layer_norm, batch_norm, l2_normalize and cross_entropy, vectorised along the normalised
 * axis when it is the last one (the common case) and across the trailing axes otherwise, in parallel over rows.
 * Statistics accumulate in double as interp's do (layer_norm's and layer_norm_grad's from float lanes of partial
 * sums); batch_norm and l2_normalize also compute their outputs in double and round once, so they agree with interp
 * to an ulp; layer_norm and layer_norm_grad compute theirs in float vectors (a few ulps); softmax and cross_entropy
 * use {@link CpuMath}'s exp (an ulp or two).
 *
 * <p>Ops along one axis view the tensor as [outer, n, inner]: element (o, k, i) is at (o * n + k) * inner + i.
 */
final class CpuNormalizations {
    private CpuNormalizations() {}

    // ---- softmax ----------------------------------------------------------------------------------------------

    static void softmax(int axis, Tensor x, Tensor out, boolean log) {
        Shapes.AxisView v = Shapes.AxisView.of(x.shape(), axis);
        MemorySegment xs = x.segment(), os = out.segment();
        long n = v.n(), inner = v.inner();
        if (inner == 1) {
            Parallel.forItems(v.outer(), 4 * n, (from, to) -> {
                for (long o = from; o < to; o++) softmaxRow(xs, os, o * n, n, log);
            });
        } else {
            Parallel.forItems(v.outer(), 6 * n * inner, (from, to) -> {
                float[] max = new float[(int) inner], shift = new float[(int) inner];
                double[] sum = new double[(int) inner];
                for (long o = from; o < to; o++) softmaxSlab(xs, os, o * n * inner, (int) n, (int) inner, log, max, sum, shift);
            });
        }
    }

    /** One row: out = exp(x - max) / sum, or x - max - log(sum). */
    private static void softmaxRow(MemorySegment xs, MemorySegment os, long at, long n, boolean log) {
        float max = Simd.max(xs, at, n);
        long i = CpuMath.expShifted(xs, os, at, at + n, max);
        for (; i < at + n; i++) Simd.set(os, i, (float) Math.exp((double) Simd.get(xs, i) - max));
        double sum = Simd.sum(os, at, n);
        if (log) {
            Simd.subtract(xs, at, n, max, os, at);
            Simd.subtract(os, at, n, (float) Math.log(sum), os, at);
        } else {
            Simd.scale(os, at, n, (float) (1.0 / sum), os, at);
        }
    }

    /** Softmax along k of one [n, inner] slab, vectorised across its columns i. */
    private static void softmaxSlab(MemorySegment xs, MemorySegment os, long at, int n, int inner, boolean log,
                                     float[] max, double[] sum, float[] shift) {
        java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(sum, 0);
        for (int k = 0; k < n; k++) columnMax(xs, at + (long) k * inner, inner, max);
        for (int k = 0; k < n; k++) columnSubtract(xs, at + (long) k * inner, inner, max, os);
        Simd.elementwise(CpuMath::exp, os, os, at, at + (long) n * inner);
        for (int k = 0; k < n; k++) columnSum(os, at + (long) k * inner, inner, sum);
        for (int i = 0; i < inner; i++) shift[i] = log ? (float) Math.log(sum[i]) : (float) (1.0 / sum[i]);
        for (int k = 0; k < n; k++) {
            if (log) {
                columnSubtract(xs, at + (long) k * inner, inner, max, os);
                columnSubtract(os, at + (long) k * inner, inner, shift, os);
            } else {
                columnScale(os, at + (long) k * inner, inner, shift);
            }
        }
    }

    /** max[i] = max(max[i], x[at + i]). */
    private static void columnMax(MemorySegment xs, long at, int inner, float[] max) {
        int i = 0;
        for (; i + FL <= inner; i += FL)
            FloatVector.fromArray(F, max, i).max(FloatVector.fromMemorySegment(F, xs, (at + i) << 2, LE)).intoArray(max, i);
        for (; i < inner; i++) max[i] = Math.max(max[i], Simd.get(xs, at + i));
    }

    /** out[at + i] = x[at + i] - shift[i]. */
    private static void columnSubtract(MemorySegment xs, long at, int inner, float[] shift, MemorySegment os) {
        int i = 0;
        for (; i + FL <= inner; i += FL)
            FloatVector.fromMemorySegment(F, xs, (at + i) << 2, LE).sub(FloatVector.fromArray(F, shift, i)).intoMemorySegment(os, (at + i) << 2, LE);
        for (; i < inner; i++) Simd.set(os, at + i, Simd.get(xs, at + i) - shift[i]);
    }

    /** sum[i] += e[at + i], in double. */
    private static void columnSum(MemorySegment es, long at, int inner, double[] sum) {
        int i = 0;
        for (; i + DL <= inner; i += DL)
            DoubleVector.fromArray(D, sum, i).add(FloatVector.fromMemorySegment(H, es, (at + i) << 2, LE).convertShape(VectorOperators.F2D, D, 0))
                    .intoArray(sum, i);
        for (; i < inner; i++) sum[i] += Simd.get(es, at + i);
    }

    /** e[at + i] *= scale[i]. */
    private static void columnScale(MemorySegment es, long at, int inner, float[] scale) {
        int i = 0;
        for (; i + FL <= inner; i += FL)
            FloatVector.fromMemorySegment(F, es, (at + i) << 2, LE).mul(FloatVector.fromArray(F, scale, i)).intoMemorySegment(es, (at + i) << 2, LE);
        for (; i < inner; i++) Simd.set(es, at + i, Simd.get(es, at + i) * scale[i]);
    }

    // ---- layer_norm -------------------------------------------------------------------------------------------

    /**
     * Over the last axis: (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance. Per row: the mean
     * in double (float lanes widened), split into floats hi + lo; d = (x - hi) - lo in float (exact, or one rounding,
     * when the row's values are close to its mean); the variance from float lanes of d^2 summed in double; the output
     * fma(d * rstd, w, b) in float vectors.
     */
    static void layerNorm(double eps, Tensor x, Tensor weight, Tensor bias, Tensor out) {
        long c = weight.numel(), rows = c == 0 ? 0 : x.numel() / c;
        MemorySegment xs = x.segment(), ws = weight.segment(), bs = bias.segment(), os = out.segment();
        int n = (int) c;
        Parallel.forItems(rows, 4 * c, (from, to) -> {
            long r = from;
            if (LayerNormRows.fits(c)) {
                LayerNormRows.Scratch s = LayerNormRows.SCRATCH.get();
                for (; r + LayerNormRows.ROWS <= to; r += LayerNormRows.ROWS) {
                    LayerNormRows.statistics(xs, r * c, n, eps, s);
                    for (int k = 0; k < LayerNormRows.ROWS; k++) normalizeRow(xs, ws, bs, os, (r + k) * c, n, s.hi[k], s.lo[k], s.rstd[k]);
                }
            }
            float[] lanes = new float[FL + 3];
            for (; r < to; r++) {
                rowStatistics(xs, r * c, n, eps, lanes);
                normalizeRow(xs, ws, bs, os, r * c, n, lanes[FL], lanes[FL + 1], lanes[FL + 2]);
            }
        });
    }

    /** out = fma((x - hi - lo) rstd, w, b) over one row. */
    private static void normalizeRow(MemorySegment xs, MemorySegment ws, MemorySegment bs, MemorySegment os, long base, int c,
                                     float hi, float lo, float rstd) {
        FloatVector vhi = FloatVector.broadcast(F, hi), vlo = FloatVector.broadcast(F, lo), vr = FloatVector.broadcast(F, rstd);
        int j;
        for (j = 0; j + FL <= c; j += FL) {
            FloatVector d = FloatVector.fromMemorySegment(F, xs, (base + j) << 2, LE).sub(vhi).sub(vlo);
            d.mul(vr).fma(FloatVector.fromMemorySegment(F, ws, (long) j << 2, LE), FloatVector.fromMemorySegment(F, bs, (long) j << 2, LE))
                    .intoMemorySegment(os, (base + j) << 2, LE);
        }
        for (; j < c; j++) Simd.set(os, base + j, Math.fma((Simd.get(xs, base + j) - hi - lo) * rstd, Simd.get(ws, j), Simd.get(bs, j)));
    }

    /**
     * A row's statistics into {@code lanes[FL..FL+2]}: its mean (summed in double) split into floats hi + lo, and
     * 1 / sqrt(var + eps) ({@link #rowRstd}); {@code lanes[0..FL)} is scratch.
     */
    private static void rowStatistics(MemorySegment xs, long base, int c, double eps, float[] lanes) {
        double mean = rowSum(xs, base, c) / c;
        float hi = (float) mean, lo = (float) (mean - hi);
        lanes[FL + 2] = rowRstd(xs, base, c, hi, lo, eps, lanes);
        lanes[FL] = hi;
        lanes[FL + 1] = lo;
    }

    /** 1 / sqrt(var + eps) of a row whose mean is hi + lo: d = (x - hi) - lo in float, float lanes of d^2 summed in double. */
    private static float rowRstd(MemorySegment xs, long base, int c, float hi, float lo, double eps, float[] lanes) {
        FloatVector vhi = FloatVector.broadcast(F, hi), vlo = FloatVector.broadcast(F, lo), acc = FloatVector.zero(F);
        int j = 0;
        for (; j + FL <= c; j += FL) {
            FloatVector d = FloatVector.fromMemorySegment(F, xs, (base + j) << 2, LE).sub(vhi).sub(vlo);
            acc = d.fma(d, acc);
        }
        double var = laneSum(acc);
        for (; j < c; j++) {
            float d = Simd.get(xs, base + j) - hi - lo;
            var += d * d;
        }
        return (float) (1.0 / Math.sqrt(var / c + eps));
    }

    /** Rearrangements that fold a double vector onto itself at distance DL/2, DL/4, ..., 1 (index = distance). */
    private static final VectorShuffle<Double>[] FOLD = folds();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Double>[] folds() {
        VectorShuffle<Double>[] f = new VectorShuffle[DL];
        for (int d = 1; d < DL; d *= 2) {
            int distance = d;
            f[d] = VectorShuffle.fromOp(D, i -> i ^ distance);
        }
        return f;
    }

    /**
     * The sum in double of a float vector's lanes: its two halves widened and added, then folded in halves by
     * rearranges (a fixed tree, the same bits compiled or interpreted). Sixteen floats summed in double are exact
     * unless their exponents span more than 29 bits, so the order rarely shows; a row's statistics no longer go
     * through memory and a scalar loop, which for Swin's rows of 48 cost more than the arithmetic.
     */
    private static double laneSum(FloatVector v) {
        DoubleVector lo = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0), hi = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 1);
        return treeSum(lo.add(hi));
    }

    /** The lanes of {@code v} added in a fixed tree: halves, quarters, ... */
    private static double treeSum(DoubleVector v) {
        if (DL == 8) { // written out for the common width: C2 then keeps it all in registers
            v = v.add(v.rearrange(FOLD[4]));
            v = v.add(v.rearrange(FOLD[2]));
            return v.add(v.rearrange(FOLD[1])).lane(0);
        }
        for (int d = DL / 2; d >= 1; d /= 2) v = v.add(v.rearrange(FOLD[d]));
        return v.lane(0);
    }

    /** The sum of a row of {@code c} floats in double: lanes widened, two accumulators, then one tree. */
    private static double rowSum(MemorySegment xs, long base, int c) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
        int j = 0;
        for (; j + 2 * DL <= c; j += 2 * DL) {
            if (FL == 2 * DL) { // one float vector, its halves widened: the lanes of the two half-vector loads below
                FloatVector v = FloatVector.fromMemorySegment(F, xs, (base + j) << 2, LE);
                a0 = a0.add(v.convertShape(VectorOperators.F2D, D, 0));
                a1 = a1.add(v.convertShape(VectorOperators.F2D, D, 1));
                continue;
            }
            a0 = a0.add(FloatVector.fromMemorySegment(H, xs, (base + j) << 2, LE).convertShape(VectorOperators.F2D, D, 0));
            a1 = a1.add(FloatVector.fromMemorySegment(H, xs, (base + j + DL) << 2, LE).convertShape(VectorOperators.F2D, D, 0));
        }
        double sum = treeSum(a0.add(a1));
        for (; j < c; j++) sum += Simd.get(xs, base + j);
        return sum;
    }

    /**
     * The input gradient of layer_norm (see Op.LayerNormGrad), rows in parallel. Per row: the mean as in layerNorm;
     * one float-vector pass for the sums of d^2, g w and g w d (each lane's partial sums added in double); then
     * rstd (g w - m1 - d rstd m2) in float vectors, with rstd, m1 and rstd m2 from the double sums.
     */
    static void layerNormGrad(double eps, Tensor x, Tensor weight, Tensor g, Tensor addend, Tensor out) {
        long c = weight.numel(), rows = c == 0 ? 0 : x.numel() / c;
        MemorySegment xs = x.segment(), ws = weight.segment(), gs = g.segment(), os = out.segment();
        MemorySegment as = addend == null ? null : addend.segment();
        int n = (int) c;
        Parallel.forItems(rows, 8 * c, (from, to) -> {
            long r = from;
            if (LayerNormRows.fits(c)) {
                LayerNormRows.Scratch s = LayerNormRows.SCRATCH.get();
                for (; r + LayerNormRows.ROWS <= to; r += LayerNormRows.ROWS) layerNormGradRows(xs, ws, gs, as, os, r * c, n, eps, s, null, 0);
            }
            for (; r < to; r++) layerNormGradRow(xs, ws, gs, as, os, r * c, n, eps, null, 0);
        });
    }

    /**
     * layer_norm_grad into {@code out} and layer_norm_param_grad of the same x and g into {@code paramOut}, in one
     * pass over the rows: each row's statistics and sums once, then its input gradient and its share of the
     * parameter gradients. Blocks of {@value #PARAM_GRAD_ROWS} rows in parallel; every sum is the one the two
     * kernels make apart, so the bits are the same (the executable pairs the two ops when they read the same x and g).
     */
    static void layerNormGrads(double eps, Tensor x, Tensor weight, Tensor g, Tensor addend, Tensor out, Tensor paramOut) {
        long c = weight.numel(), rows = c == 0 ? 0 : x.numel() / c, blocks = (rows + PARAM_GRAD_ROWS - 1) / PARAM_GRAD_ROWS;
        MemorySegment xs = x.segment(), ws = weight.segment(), gs = g.segment(), os = out.segment();
        MemorySegment as = addend == null ? null : addend.segment();
        int n = (int) c;
        float[] partial = new float[(int) (blocks * 2 * c)];
        Parallel.forItems(blocks, (long) PARAM_GRAD_ROWS * 14 * c, (from, to) -> {
            LayerNormRows.Scratch s = LayerNormRows.fits(c) ? LayerNormRows.SCRATCH.get() : null;
            for (long blk = from; blk < to; blk++) {
                int at = (int) (blk * 2 * c);
                long r = blk * PARAM_GRAD_ROWS, end = Math.min(rows, (blk + 1) * PARAM_GRAD_ROWS);
                for (; s != null && r + LayerNormRows.ROWS <= end; r += LayerNormRows.ROWS)
                    layerNormGradRows(xs, ws, gs, as, os, r * c, n, eps, s, partial, at);
                for (; r < end; r++) layerNormGradRow(xs, ws, gs, as, os, r * c, n, eps, partial, at);
            }
        });
        sumBlocks(partial, blocks, n, paramOut.segment());
    }

    /**
     * {@link LayerNormRows#ROWS} rows of {@link #layerNormGrad}, their sums folded together (the same bits as row by
     * row); with {@code partial} not null, also their parameter gradients added to the block sums at {@code pat}.
     */
    private static void layerNormGradRows(MemorySegment xs, MemorySegment ws, MemorySegment gs, MemorySegment as, MemorySegment os,
                                          long base, int c, double eps, LayerNormRows.Scratch s, float[] partial, int pat) {
        int rows = LayerNormRows.ROWS, stat = rows * rows;
        LayerNormRows.means(xs, base, c, s);
        for (int r = 0; r < rows; r++) {
            long at = base + (long) r * c;
            FloatVector vhi = FloatVector.broadcast(F, s.hi[r]), vlo = FloatVector.broadcast(F, s.lo[r]);
            FloatVector sq = FloatVector.zero(F), s1 = sq, s2 = sq;
            for (int j = 0; j < c; j += FL) {
                FloatVector d = FloatVector.fromMemorySegment(F, xs, (at + j) << 2, LE).sub(vhi).sub(vlo);
                FloatVector gh = FloatVector.fromMemorySegment(F, gs, (at + j) << 2, LE).mul(FloatVector.fromMemorySegment(F, ws, (long) j << 2, LE));
                sq = d.fma(d, sq);
                s1 = s1.add(gh);
                s2 = gh.fma(d, s2);
            }
            sq.intoArray(s.fpart, r * FL);
            s1.intoArray(s.fpart, (rows + r) * FL);
            s2.intoArray(s.fpart, (2 * rows + r) * FL);
        }
        for (int k = 0; k < 3; k++) {
            LayerNormRows.widen(s.fpart, k * rows * FL, s.part, k * stat);
            LayerNormRows.fold(s.part, k * stat, s.sums, k * rows);
        }
        LayerNormRows.rstd(s, 0, c, eps);
        for (int r = 0; r < rows; r++) {
            long row = base + (long) r * c;
            double rstd = s.rstdD[r];
            gradOutputRow(xs, ws, gs, as, os, row, c, s.hi[r], s.lo[r], (float) rstd, (float) (s.sums[rows + r] / c),
                    (float) (rstd * rstd * s.sums[2 * rows + r] / c));
            if (partial != null) paramGradAdd(xs, gs, row, c, s.hi[r], s.lo[r], s.rstd[r], partial, pat);
        }
    }

    /** One row of {@link #layerNormGrad}; {@code as} (the addend) may be null; {@code partial} as {@link #layerNormGradRows}. */
    private static void layerNormGradRow(MemorySegment xs, MemorySegment ws, MemorySegment gs, MemorySegment as, MemorySegment os,
                                         long base, int c, double eps, float[] partial, int at) {
        double mean = rowSum(xs, base, c) / c;
        float hi = (float) mean, lo = (float) (mean - hi);
        FloatVector vhi = FloatVector.broadcast(F, hi), vlo = FloatVector.broadcast(F, lo);
        FloatVector sq = FloatVector.zero(F), s1 = sq, s2 = sq;
        int j = 0;
        for (; j + FL <= c; j += FL) {
            FloatVector d = FloatVector.fromMemorySegment(F, xs, (base + j) << 2, LE).sub(vhi).sub(vlo);
            FloatVector gh = FloatVector.fromMemorySegment(F, gs, (base + j) << 2, LE).mul(FloatVector.fromMemorySegment(F, ws, (long) j << 2, LE));
            sq = d.fma(d, sq);
            s1 = s1.add(gh);
            s2 = gh.fma(d, s2);
        }
        double var = laneSum(sq), sum1 = laneSum(s1), sum2 = laneSum(s2);
        for (int k = j; k < c; k++) {
            float d = Simd.get(xs, base + k) - hi - lo, gh = Simd.get(gs, base + k) * Simd.get(ws, k);
            var += d * d;
            sum1 += gh;
            sum2 += (double) gh * d;
        }
        double rstd = 1.0 / Math.sqrt(var / c + eps);
        gradOutputRow(xs, ws, gs, as, os, base, c, hi, lo, (float) rstd, (float) (sum1 / c), (float) (rstd * rstd * sum2 / c));
        if (partial != null) paramGradAdd(xs, gs, base, c, hi, lo, (float) rstd, partial, at);
    }

    /**
     * The input gradient of one row, rstd (gh - m1 - d k) with d = x - hi - lo, from its statistics: r = rstd,
     * m1 = the mean of g w, k = rstd^2 times the mean of g w d (the cancelling terms are combined before the possibly
     * large rstd scales them).
     */
    private static void gradOutputRow(MemorySegment xs, MemorySegment ws, MemorySegment gs, MemorySegment as, MemorySegment os,
                                      long base, int c, float hi, float lo, float r, float m1, float k) {
        FloatVector vhi = FloatVector.broadcast(F, hi), vlo = FloatVector.broadcast(F, lo);
        FloatVector vr = FloatVector.broadcast(F, r), vm1 = FloatVector.broadcast(F, m1), vk = FloatVector.broadcast(F, -k);
        int j;
        for (j = 0; j + FL <= c; j += FL) {
            FloatVector d = FloatVector.fromMemorySegment(F, xs, (base + j) << 2, LE).sub(vhi).sub(vlo);
            FloatVector gh = FloatVector.fromMemorySegment(F, gs, (base + j) << 2, LE).mul(FloatVector.fromMemorySegment(F, ws, (long) j << 2, LE));
            FloatVector gx = d.fma(vk, gh.sub(vm1)).mul(vr);
            if (as != null) gx = gx.add(FloatVector.fromMemorySegment(F, as, (base + j) << 2, LE));
            gx.intoMemorySegment(os, (base + j) << 2, LE);
        }
        for (; j < c; j++) {
            float d = Simd.get(xs, base + j) - hi - lo, gh = Simd.get(gs, base + j) * Simd.get(ws, j);
            float gx = Math.fma(d, -k, gh - m1) * r;
            Simd.set(os, base + j, as == null ? gx : gx + Simd.get(as, base + j));
        }
    }

    /** Rows per block of {@link #layerNormParamGrad}: fixed, so the sums do not depend on the thread count. */
    private static final int PARAM_GRAD_ROWS = 64;

    /**
     * layer_norm's weight and bias gradients (see Op.LayerNormParamGrad): out[0, j] = sum over rows of g xhat,
     * out[1, j] = sum of g. Blocks of {@value #PARAM_GRAD_ROWS} rows in parallel, each summing its rows in float
     * vectors (xhat from the row's statistics as layer_norm computes them); the blocks' sums are added in double,
     * in block order.
     */
    static void layerNormParamGrad(double eps, Tensor x, Tensor g, Tensor out) {
        int c = (int) (out.numel() / 2);
        long rows = c == 0 ? 0 : x.numel() / c, blocks = (rows + PARAM_GRAD_ROWS - 1) / PARAM_GRAD_ROWS;
        MemorySegment xs = x.segment(), gs = g.segment(), os = out.segment();
        float[] partial = new float[(int) (blocks * 2 * c)];
        Parallel.forItems(blocks, (long) PARAM_GRAD_ROWS * 6 * c, (from, to) -> {
            float[] lanes = new float[FL + 3];
            LayerNormRows.Scratch s = LayerNormRows.fits(c) ? LayerNormRows.SCRATCH.get() : null;
            for (long blk = from; blk < to; blk++) {
                int at = (int) (blk * 2 * c);
                long r = blk * PARAM_GRAD_ROWS, end = Math.min(rows, (blk + 1) * PARAM_GRAD_ROWS);
                for (; s != null && r + LayerNormRows.ROWS <= end; r += LayerNormRows.ROWS) {
                    LayerNormRows.statistics(xs, r * c, c, eps, s);
                    for (int k = 0; k < LayerNormRows.ROWS; k++) paramGradAdd(xs, gs, (r + k) * c, c, s.hi[k], s.lo[k], s.rstd[k], partial, at);
                }
                for (; r < end; r++) {
                    rowStatistics(xs, r * c, c, eps, lanes);
                    paramGradAdd(xs, gs, r * c, c, lanes[FL], lanes[FL + 1], lanes[FL + 2], partial, at);
                }
            }
        });
        sumBlocks(partial, blocks, c, os);
    }

    /** out[j] = the blocks' partial sums of the two gradient rows added in double, in block order. */
    private static void sumBlocks(float[] partial, long blocks, int c, MemorySegment os) {
        for (int j = 0; j < 2 * c; j++) {
            double s = 0;
            for (long blk = 0; blk < blocks; blk++) s += partial[(int) (blk * 2 * c) + j];
            Simd.set(os, j, (float) s);
        }
    }

    /** acc[at + j] += g xhat and acc[at + c + j] += g over one row, xhat = (x - hi - lo) rstd. */
    private static void paramGradAdd(MemorySegment xs, MemorySegment gs, long base, int c, float hi, float lo, float rstd,
                                     float[] acc, int at) {
        FloatVector vhi = FloatVector.broadcast(F, hi), vlo = FloatVector.broadcast(F, lo), vr = FloatVector.broadcast(F, rstd);
        int j;
        for (j = 0; j + FL <= c; j += FL) {
            FloatVector xhat = FloatVector.fromMemorySegment(F, xs, (base + j) << 2, LE).sub(vhi).sub(vlo).mul(vr);
            FloatVector gv = FloatVector.fromMemorySegment(F, gs, (base + j) << 2, LE);
            gv.fma(xhat, FloatVector.fromArray(F, acc, at + j)).intoArray(acc, at + j);
            gv.add(FloatVector.fromArray(F, acc, at + c + j)).intoArray(acc, at + c + j);
        }
        for (; j < c; j++) {
            float gj = Simd.get(gs, base + j);
            acc[at + j] = Math.fma(gj, (Simd.get(xs, base + j) - hi - lo) * rstd, acc[at + j]);
            acc[at + c + j] += gj;
        }
    }

    // ---- batch_norm -------------------------------------------------------------------------------------------

    /** (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c], c the index along the channel axis. */
    static void batchNorm(Op.BatchNorm op, Tensor x, Tensor mean, Tensor var, Tensor weight, Tensor bias, Tensor out) {
        Shapes.AxisView v = Shapes.AxisView.of(x.shape(), op.axis());
        int channels = (int) v.n();
        double[] m = new double[channels], scale = new double[channels], shift = new double[channels];
        for (int c = 0; c < channels; c++) {
            m[c] = mean.getFloat(c);
            scale[c] = weight.getFloat(c) / Math.sqrt(var.getFloat(c) + op.eps());
            shift[c] = bias.getFloat(c);
        }
        MemorySegment xs = x.segment(), os = out.segment();
        long inner = v.inner();
        if (inner == 1) { // channels last: vectorise across channels
            Parallel.forItems(v.outer(), channels, (from, to) -> {
                for (long o = from; o < to; o++) {
                    long base = o * channels;
                    int c = 0;
                    for (; c + DL <= channels; c += DL) {
                        DoubleVector y = ((DoubleVector) FloatVector.fromMemorySegment(H, xs, (base + c) << 2, LE).convertShape(VectorOperators.F2D, D, 0))
                                .sub(DoubleVector.fromArray(D, m, c)).mul(DoubleVector.fromArray(D, scale, c)).add(DoubleVector.fromArray(D, shift, c));
                        y.convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(os, (base + c) << 2, LE);
                    }
                    for (; c < channels; c++) Simd.set(os, base + c, (float) ((Simd.get(xs, base + c) - m[c]) * scale[c] + shift[c]));
                }
            });
        } else {
            Parallel.forItems(v.outer() * channels, inner, (from, to) -> {
                for (long row = from; row < to; row++) {
                    int c = (int) (row % channels);
                    long base = row * inner;
                    DoubleVector vm = DoubleVector.broadcast(D, m[c]), vs = DoubleVector.broadcast(D, scale[c]), vb = DoubleVector.broadcast(D, shift[c]);
                    long i = 0;
                    for (; i + DL <= inner; i += DL)
                        ((DoubleVector) FloatVector.fromMemorySegment(H, xs, (base + i) << 2, LE).convertShape(VectorOperators.F2D, D, 0))
                                .sub(vm).mul(vs).add(vb).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(os, (base + i) << 2, LE);
                    for (; i < inner; i++) Simd.set(os, base + i, (float) ((Simd.get(xs, base + i) - m[c]) * scale[c] + shift[c]));
                }
            });
        }
    }

    // ---- l2_normalize -----------------------------------------------------------------------------------------

    /** x / max(||x||_2, eps) along the axis. */
    static void l2Normalize(Op.L2Normalize op, Tensor x, Tensor out) {
        Shapes.AxisView v = Shapes.AxisView.of(x.shape(), op.axis());
        MemorySegment xs = x.segment(), os = out.segment();
        long n = v.n(), inner = v.inner();
        double eps = op.eps();
        if (inner == 1) {
            Parallel.forItems(v.outer(), 2 * n, (from, to) -> {
                for (long o = from; o < to; o++) {
                    long base = o * n;
                    divideRow(xs, os, base, n, Math.max(Math.sqrt(Simd.sumSquares(xs, base, n, 0)), eps));
                }
            });
        } else {
            Parallel.forItems(v.outer(), 2 * n * inner, (from, to) -> {
                double[] norm = new double[(int) inner];
                for (long o = from; o < to; o++) {
                    long at = o * n * inner;
                    java.util.Arrays.fill(norm, 0);
                    for (long k = 0; k < n; k++) columnSquares(xs, at + k * inner, (int) inner, norm);
                    for (int i = 0; i < inner; i++) norm[i] = Math.max(Math.sqrt(norm[i]), eps);
                    for (long k = 0; k < n; k++) columnDivide(xs, os, at + k * inner, (int) inner, norm);
                }
            });
        }
    }

    /** out = (float) (x / norm) in double. */
    private static void divideRow(MemorySegment xs, MemorySegment os, long base, long n, double norm) {
        DoubleVector vn = DoubleVector.broadcast(D, norm);
        long k = 0;
        for (; k + DL <= n; k += DL)
            ((DoubleVector) FloatVector.fromMemorySegment(H, xs, (base + k) << 2, LE).convertShape(VectorOperators.F2D, D, 0)).div(vn)
                    .convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(os, (base + k) << 2, LE);
        for (; k < n; k++) Simd.set(os, base + k, (float) (Simd.get(xs, base + k) / norm));
    }

    /** sum[i] += x[at + i]^2, in double. */
    private static void columnSquares(MemorySegment xs, long at, int inner, double[] sum) {
        int i = 0;
        for (; i + DL <= inner; i += DL) {
            DoubleVector e = (DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + i) << 2, LE).convertShape(VectorOperators.F2D, D, 0);
            e.fma(e, DoubleVector.fromArray(D, sum, i)).intoArray(sum, i);
        }
        for (; i < inner; i++) {
            double e = Simd.get(xs, at + i);
            sum[i] += e * e;
        }
    }

    /** out[at + i] = (float) (x[at + i] / norm[i]). */
    private static void columnDivide(MemorySegment xs, MemorySegment os, long at, int inner, double[] norm) {
        int i = 0;
        for (; i + DL <= inner; i += DL)
            ((DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + i) << 2, LE).convertShape(VectorOperators.F2D, D, 0))
                    .div(DoubleVector.fromArray(D, norm, i)).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(os, (at + i) << 2, LE);
        for (; i < inner; i++) Simd.set(os, at + i, (float) (Simd.get(xs, at + i) / norm[i]));
    }

    // ---- cross_entropy ----------------------------------------------------------------------------------------

    /** Per thread: room for one row of exponentials. */
    private static final ThreadLocal<MemorySegment[]> ROW = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    /** Per example: logsumexp(logits[n]) - logits[n, label[n]]. A label outside [0, C) is an error (checked first). */
    static void crossEntropy(Tensor logits, Tensor labels, Tensor out) {
        long n = logits.dim(0), c = logits.dim(1);
        MemorySegment ls = logits.segment(), ys = labels.segment(), os = out.segment();
        for (long e = 0; e < n; e++) {
            int label = Simd.bits(ys, e);
            if (label < 0 || label >= c)
                throw new IllegalArgumentException("cross_entropy: label " + label + " of example " + e + " is out of range [0, " + c + ")");
        }
        Parallel.forItems(n, 4 * c, (from, to) -> {
            MemorySegment[] holder = ROW.get();
            if (holder[0].byteSize() < c * 4) holder[0] = Arena.ofAuto().allocate(Math.max(c, FL) * 4, 64);
            MemorySegment row = holder[0];
            for (long e = from; e < to; e++) {
                long base = e * c;
                float max = Simd.max(ls, base, c);
                long k = CpuMath.expShifted(ls.asSlice(base << 2, c << 2), row, 0, c, max);
                double sum = Simd.sum(row, 0, k);
                for (; k < c; k++) sum += Math.exp((double) Simd.get(ls, base + k) - max);
                Simd.set(os, e, (float) (max + Math.log(sum) - Simd.get(ls, base + Simd.bits(ys, e))));
            }
        });
    }
}
