package mobyc.runtime.interp;

import java.util.Arrays;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/** matmul with NumPy batch broadcasting and direct-loop conv2d; sums accumulate in double (long for i32). */
final class Contractions {
    private Contractions() {}

    /** [..., M, K] @ [..., K, N]: the batch axes broadcast against each other; either operand may be stored transposed. */
    /** A matmul's addend among its inputs (after the two operands, before the activation's inputs), or null. */
    public static Tensor addend(Op.MatMul op, Tensor[] in) {
        return in.length > 2 + op.activation().extraInputs() ? in[2] : null;
    }

    /** The activation's inputs (the last {@link Op.Activation#extraInputs} of the matmul's). */
    public static Tensor[] extras(Op.MatMul op, Tensor[] in) {
        return Arrays.copyOfRange(in, in.length - op.activation().extraInputs(), in.length);
    }

    /**
     * The product (plus the addend), rounded to float, then the activation, each operation rounded as the unfused
     * ops compute it: GELU of it; GELU's derivative at it; it times the gate's element (mul); it times GELU's derivative of the gate's element (mul(dgelu(gate), product)); it
     * plus the residual's element (add); it times the sample's scale, plus the residual's element (mul, then add).
     */
    static void matmul(Op.MatMul op, Tensor a, Tensor b, Tensor addend, Tensor[] extras, Tensor out) {
        long[] as = a.shape(), bs = b.shape(), os = out.shape();
        int ra = as.length, rb = bs.length, ro = os.length;
        long m = op.transA() ? as[ra - 1] : as[ra - 2], k = op.transA() ? as[ra - 2] : as[ra - 1], n = op.transB() ? bs[rb - 2] : bs[rb - 1];
        // element (i, q) of A and (q, j) of B: strides by storage order
        long ai = op.transA() ? 1 : k, aq = op.transA() ? m : 1, bq = op.transB() ? 1 : n, bj = op.transB() ? k : 1;
        long[] batch = Arrays.copyOf(os, ro - 2);
        long[] aBatch = Layout.broadcastStrides(Arrays.copyOf(as, ra - 2), Arrays.copyOf(Layout.strides(as), ra - 2), batch);
        long[] bBatch = Layout.broadcastStrides(Arrays.copyOf(bs, rb - 2), Arrays.copyOf(Layout.strides(bs), rb - 2), batch);
        boolean floating = a.dtype() == DType.F32;
        long[] cStrides = addend == null ? null : Layout.broadcastStrides(addend.shape(), Layout.strides(addend.shape()), os);
        Tensor last = extras.length > 0 ? extras[extras.length - 1] : null, scale = extras.length > 1 ? extras[0] : null; // the gate or residual; the scale
        long perSample = os.length == 0 || scale == null ? 1 : Layout.numel(os) / os[0], scaleStride = scale != null && scale.dim(0) > 1 ? 1 : 0;
        for (long p = 0, batches = Layout.numel(batch); p < batches; p++) {
            long aBase = Layout.offset(p, batch, aBatch), bBase = Layout.offset(p, batch, bBatch), oBase = p * m * n;
            for (long i = 0; i < m; i++) {
                for (long j = 0; j < n; j++) {
                    long at = oBase + i * n + j;
                    if (floating) {
                        double sum = addend == null ? 0 : addend.getFloat(Layout.offset(at, os, cStrides));
                        for (long q = 0; q < k; q++) sum += (double) a.getFloat(aBase + i * ai + q * aq) * b.getFloat(bBase + q * bq + j * bj);
                        float v = (float) sum;
                        out.setFloat(at, switch (op.activation()) {
                            case NONE -> v;
                            case GELU -> Elementwise.apply(Op.UnaryFn.GELU, v);
                            case DGELU -> Elementwise.apply(Op.UnaryFn.DGELU, v);
                            case GATE -> v * last.getFloat(at);
                            case DGELU_GATE -> v * Elementwise.apply(Op.UnaryFn.DGELU, last.getFloat(at));
                            case RESIDUAL -> v + last.getFloat(at);
                            case SCALED_RESIDUAL -> v * scale.getFloat(at / perSample * scaleStride) + last.getFloat(at);
                        });
                    } else {
                        long sum = addend == null ? 0 : addend.getInt(Layout.offset(at, os, cStrides));
                        for (long q = 0; q < k; q++) sum += (long) a.getInt(aBase + i * ai + q * aq) * b.getInt(bBase + q * bq + j * bj);
                        out.setInt(at, (int) sum);
                    }
                }
            }
        }
    }

    /** x [N, C, H, W] and weight [O, C, KH, KW], zero padding, no bias. */
    static void conv2d(Op.Conv2d op, Tensor x, Tensor w, Tensor out) {
        long batch = x.dim(0), channels = x.dim(1), h = x.dim(2), wd = x.dim(3);
        long outChannels = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        long oh = out.dim(2), ow = out.dim(3);
        for (long nb = 0; nb < batch; nb++)
            for (long o = 0; o < outChannels; o++)
                for (long y = 0; y < oh; y++)
                    for (long z = 0; z < ow; z++) {
                        double sum = 0;
                        for (long c = 0; c < channels; c++)
                            for (long i = 0; i < kh; i++) {
                                long row = y * op.strideH() - op.padH() + i;
                                if (row < 0 || row >= h) continue;
                                for (long j = 0; j < kw; j++) {
                                    long col = z * op.strideW() - op.padW() + j;
                                    if (col < 0 || col >= wd) continue;
                                    sum += (double) x.getFloat(((nb * channels + c) * h + row) * wd + col)
                                            * w.getFloat(((o * channels + c) * kh + i) * kw + j);
                                }
                            }
                        out.setFloat(((nb * outChannels + o) * oh + y) * ow + z, (float) sum);
                    }
    }

    /** gx[n, c, row, col] = sum over (o, y, z, i, j) hitting (row, col) of gy[n, o, y, z] * w[o, c, i, j]. */
    static void conv2dInputGrad(Op.Conv2dInputGrad op, Tensor gy, Tensor w, Tensor out) {
        long batch = out.dim(0), channels = out.dim(1), h = out.dim(2), wd = out.dim(3);
        long outChannels = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        long oh = gy.dim(2), ow = gy.dim(3);
        double[] acc = new double[Math.toIntExact(out.numel())];
        for (long nb = 0; nb < batch; nb++)
            for (long o = 0; o < outChannels; o++)
                for (long y = 0; y < oh; y++)
                    for (long z = 0; z < ow; z++) {
                        double g = gy.getFloat(((nb * outChannels + o) * oh + y) * ow + z);
                        for (long c = 0; c < channels; c++)
                            for (long i = 0; i < kh; i++) {
                                long row = y * op.strideH() - op.padH() + i;
                                if (row < 0 || row >= h) continue;
                                for (long j = 0; j < kw; j++) {
                                    long col = z * op.strideW() - op.padW() + j;
                                    if (col < 0 || col >= wd) continue;
                                    acc[(int) (((nb * channels + c) * h + row) * wd + col)] += g * w.getFloat(((o * channels + c) * kh + i) * kw + j);
                                }
                            }
                    }
        for (int i = 0; i < acc.length; i++) out.setFloat(i, (float) acc[i]);
    }

    /** gw[o, c, i, j] = sum over (n, y, z) of gy[n, o, y, z] * x[n, c, y*s - p + i, z*s - p + j]. */
    static void conv2dWeightGrad(Op.Conv2dWeightGrad op, Tensor x, Tensor gy, Tensor out) {
        long batch = x.dim(0), channels = x.dim(1), h = x.dim(2), wd = x.dim(3);
        long outChannels = out.dim(0), kh = out.dim(2), kw = out.dim(3);
        long oh = gy.dim(2), ow = gy.dim(3);
        for (long o = 0; o < outChannels; o++)
            for (long c = 0; c < channels; c++)
                for (long i = 0; i < kh; i++)
                    for (long j = 0; j < kw; j++) {
                        double sum = 0;
                        for (long nb = 0; nb < batch; nb++)
                            for (long y = 0; y < oh; y++) {
                                long row = y * op.strideH() - op.padH() + i;
                                if (row < 0 || row >= h) continue;
                                for (long z = 0; z < ow; z++) {
                                    long col = z * op.strideW() - op.padW() + j;
                                    if (col < 0 || col >= wd) continue;
                                    sum += (double) gy.getFloat(((nb * outChannels + o) * oh + y) * ow + z)
                                            * x.getFloat(((nb * channels + c) * h + row) * wd + col);
                                }
                            }
                        out.setFloat(((o * channels + c) * kh + i) * kw + j, (float) sum);
                    }
    }
}
