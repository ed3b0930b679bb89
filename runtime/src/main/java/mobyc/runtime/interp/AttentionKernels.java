package mobyc.runtime.interp;

import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * The reference kernels of fused multi-head (window) attention: {@link Op.Attention} and its two gradient ops, as
 * plain loops over (window, head) in double, every result rounded once to float. Layouts: qkv [Bw, n, 3 * dim] with
 * q, k, v of token i of window w, head h, channel d at {@code (w * n + i) * 3 dim + part * dim + h * hd + d};
 * bias [heads, n, n]; mask [nW, n, n], window w adding {@code mask[w % nW]}; the output and its gradient [Bw, n, dim]
 * with heads merged ({@code h * hd + d}); with the op's windows, qkv [B, H, W, 3 * dim] and the output [B, H, W, dim]
 * hold token i of window w at row {@link Op.Windows#row} instead of {@code w * n + i}. The scale is applied as the f32 value the unfused graph's constant holds.
 * The gradient kernels recompute the probabilities of one (window, head) at a time; nothing of size
 * [Bw, heads, n, n] exists.
 */
final class AttentionKernels {
    private AttentionKernels() {}

    /** The sizes of one call, read off the tensors and the op's windows (null: qkv [Bw, n, 3 dim]). */
    private record Geo(int windows, int n, int heads, int hd, int dim, int nW, Op.Windows layout) {
        static Geo of(Tensor qkv, int heads, Tensor mask, Op.Windows layout) {
            int dim = (int) (qkv.dim(qkv.rank() - 1) / 3);
            int n = layout == null ? (int) qkv.dim(1) : layout.tokens();
            int windows = (int) (layout == null ? qkv.dim(0) : qkv.dim(0) * layout.perImage());
            return new Geo(windows, n, heads, dim / heads, dim, mask == null ? 1 : (int) mask.dim(0), layout);
        }

        /** The row of token i of window w. */
        long row(int w, int i) { return layout == null ? (long) w * n + i : layout.row(w, i); }

        /** Element (w, i, part, h, d) of qkv. */
        long qkv(int w, int i, int part, int h, int d) { return row(w, i) * 3L * dim + (long) part * dim + (long) h * hd + d; }

        /** Element (w, i, h, d) of the merged-heads output (and of its gradient). */
        long out(int w, int i, int h, int d) { return row(w, i) * dim + (long) h * hd + d; }
    }

    /** The operands of any of the three ops: qkv, then bias and mask where present, then the output gradient. */
    private record Operands(Tensor qkv, Tensor bias, Tensor mask, Tensor grad) {
        static Operands of(Tensor[] in, boolean hasBias, boolean hasMask) {
            int k = 1;
            Tensor bias = hasBias ? in[k++] : null, mask = hasMask ? in[k++] : null;
            return new Operands(in[0], bias, mask, k < in.length ? in[k] : null);
        }
    }

    static void forward(Op.Attention op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, op.hasBias(), op.hasMask());
        Geo g = Geo.of(x.qkv, op.heads(), x.mask, op.windows());
        double[][] p = new double[g.n][g.n];
        for (int w = 0; w < g.windows; w++)
            for (int h = 0; h < g.heads; h++) {
                probabilities(g, x, (float) op.scale(), w, h, p);
                for (int i = 0; i < g.n; i++)
                    for (int d = 0; d < g.hd; d++) {
                        double sum = 0;
                        for (int j = 0; j < g.n; j++) sum += p[i][j] * x.qkv.getFloat(g.qkv(w, j, 2, h, d));
                        out.setFloat(g.out(w, i, h, d), (float) sum);
                    }
            }
    }

    /** d qkv: dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO, with dS = P * (dP - rowsum(P * dP)), dP = dO V^T. */
    static void grad(Op.AttentionGrad op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, op.hasBias(), op.hasMask());
        Geo g = Geo.of(x.qkv, op.heads(), x.mask, op.windows());
        double scale = (float) op.scale();
        double[][] p = new double[g.n][g.n], ds = new double[g.n][g.n];
        for (int w = 0; w < g.windows; w++)
            for (int h = 0; h < g.heads; h++) {
                probabilities(g, x, (float) op.scale(), w, h, p);
                scoreGrad(g, x, w, h, p, ds);
                for (int i = 0; i < g.n; i++)
                    for (int d = 0; d < g.hd; d++) {
                        double dq = 0, dk = 0, dv = 0;
                        for (int j = 0; j < g.n; j++) {
                            dq += ds[i][j] * x.qkv.getFloat(g.qkv(w, j, 1, h, d));
                            dk += ds[j][i] * x.qkv.getFloat(g.qkv(w, j, 0, h, d));
                            dv += p[j][i] * x.grad.getFloat(g.out(w, j, h, d));
                        }
                        out.setFloat(g.qkv(w, i, 0, h, d), (float) (scale * dq));
                        out.setFloat(g.qkv(w, i, 1, h, d), (float) (scale * dk));
                        out.setFloat(g.qkv(w, i, 2, h, d), (float) dv);
                    }
            }
    }

    /** d bias[h] = the sum over windows of dS. */
    static void biasGrad(Op.AttentionBiasGrad op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, true, op.hasMask());
        Geo g = Geo.of(x.qkv, op.heads(), x.mask, op.windows());
        double[][] p = new double[g.n][g.n], ds = new double[g.n][g.n];
        double[] acc = new double[g.heads * g.n * g.n];
        for (int w = 0; w < g.windows; w++)
            for (int h = 0; h < g.heads; h++) {
                probabilities(g, x, (float) op.scale(), w, h, p);
                scoreGrad(g, x, w, h, p, ds);
                for (int i = 0; i < g.n; i++)
                    for (int j = 0; j < g.n; j++) acc[(h * g.n + i) * g.n + j] += ds[i][j];
            }
        for (int k = 0; k < acc.length; k++) out.setFloat(k, (float) acc[k]);
    }

    /** p = softmax over j of scale q_i . k_j + bias[h, i, j] + mask[w % nW, i, j]. */
    private static void probabilities(Geo g, Operands x, double scale, int w, int h, double[][] p) {
        long nn = (long) g.n * g.n;
        for (int i = 0; i < g.n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < g.n; j++) {
                double dot = 0;
                for (int d = 0; d < g.hd; d++) dot += (double) x.qkv.getFloat(g.qkv(w, i, 0, h, d)) * x.qkv.getFloat(g.qkv(w, j, 1, h, d));
                double s = scale * dot;
                if (x.bias != null) s += x.bias.getFloat(h * nn + (long) i * g.n + j);
                if (x.mask != null) s += x.mask.getFloat((w % g.nW) * nn + (long) i * g.n + j);
                p[i][j] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int j = 0; j < g.n; j++) sum += p[i][j] = Math.exp(p[i][j] - max);
            for (int j = 0; j < g.n; j++) p[i][j] /= sum;
        }
    }

    /** ds = p * (dP - rowsum(p * dP)) with dP[i][j] = dO_i . v_j. */
    private static void scoreGrad(Geo g, Operands x, int w, int h, double[][] p, double[][] ds) {
        for (int i = 0; i < g.n; i++) {
            double rowDot = 0;
            for (int j = 0; j < g.n; j++) {
                double dp = 0;
                for (int d = 0; d < g.hd; d++) dp += (double) x.grad.getFloat(g.out(w, i, h, d)) * x.qkv.getFloat(g.qkv(w, j, 2, h, d));
                ds[i][j] = dp;
                rowDot += p[i][j] * dp;
            }
            for (int j = 0; j < g.n; j++) ds[i][j] = p[i][j] * (ds[i][j] - rowDot);
        }
    }
}
