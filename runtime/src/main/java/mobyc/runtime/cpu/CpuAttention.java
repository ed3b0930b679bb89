package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Fused multi-head (window) attention on the cpu: {@link Op.Attention}, {@link Op.AttentionGrad} and
 * {@link Op.AttentionBiasGrad} (layouts as in the interp reference, {@code AttentionKernels}). Work items are
 * (window, head) pairs run in parallel; each copies its q, k, v (and output-gradient) rows into per-thread scratch
 * arrays whose rows are padded to whole float vectors, computes the n x n scores in that scratch, and writes its
 * own slice of the output, so the [Bw, heads, n, n] probabilities never exist in memory and the gradients recompute
 * them (flash-attention style). Every product is an fma of a broadcast scalar with a row vector accumulated in
 * registers, in a fixed order: results do not depend on the thread count. The bias gradient sums windows in fixed
 * chunks of {@link #CHUNK} into partial sums (in the executable's workspace), then adds the chunks in order.
 */
final class CpuAttention {
    private CpuAttention() {}

    /** Windows per partial sum of the bias gradient: a fixed split, independent of the machine. */
    static final int CHUNK = 32;

    /** Sizes of one call; {@code np} and {@code hdp} are n and the head dim rounded up to whole vectors. */
    private record Geo(int windows, int n, int heads, int hd, int dim, int nW, int np, int hdp) {
        static Geo of(Tensor qkv, int heads, Tensor mask) {
            int n = (int) qkv.dim(1), dim = (int) (qkv.dim(2) / 3), hd = dim / heads;
            return new Geo((int) qkv.dim(0), n, heads, hd, dim, mask == null ? 1 : (int) mask.dim(0), roundUp(n), roundUp(hd));
        }

        static int roundUp(int x) { return Math.max(FL, (x + FL - 1) / FL * FL); }

        /** Element offset of (w, i, part, h, 0) in qkv. */
        long qkv(int w, int i, int part, int h) { return ((long) w * n + i) * 3L * dim + (long) part * dim + (long) h * hd; }

        /** Element offset of (w, i, h, 0) in the merged-heads output. */
        long out(int w, int i, int h) { return ((long) w * n + i) * dim + (long) h * hd; }

        /** Work of one (window, head), in multiply-adds: the ballpark that sizes parallel chunks. */
        long itemCost() { return 5L * n * n * hd; }
    }

    /**
     * Per-thread rows of one (window, head): q, k, v and the output gradient [n][hdp] row-major, k and v transposed
     * [hd][np], probabilities and score gradients [n][np], one output row, the bias-gradient sum [n][n]. Padding
     * lanes are zero (cleared whenever the geometry changes; kernels write only real lanes).
     */
    private static final class Scratch {
        float[] q = new float[0], k = q, kt = q, vt = q, v = q, go = q, s = q, dp = q, row = q, acc = q;
        MemorySegment sSeg;
        int n = -1, hd = -1;

        Scratch ensure(Geo g) {
            if (g.n == n && g.hd == hd) return this;
            int rows = g.n * g.hdp, cols = g.hd * g.np, scores = g.n * g.np;
            q = new float[rows];
            k = new float[rows];
            v = new float[rows];
            go = new float[rows];
            kt = new float[cols];
            vt = new float[cols];
            s = new float[scores];
            dp = new float[scores];
            row = new float[g.hdp];
            acc = new float[g.n * g.n];
            sSeg = MemorySegment.ofArray(s);
            n = g.n;
            hd = g.hd;
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The operands of any of the three ops: qkv, then bias and mask where present, then the output gradient. */
    private record Operands(MemorySegment qkv, MemorySegment bias, MemorySegment mask, MemorySegment grad) {
        static Operands of(Tensor[] in, boolean hasBias, boolean hasMask) {
            int k = 1;
            MemorySegment bias = hasBias ? in[k++].segment() : null, mask = hasMask ? in[k++].segment() : null;
            return new Operands(in[0].segment(), bias, mask, k < in.length ? in[k].segment() : null);
        }
    }

    static void forward(Op.Attention op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, op.hasBias(), op.hasMask());
        Geo g = Geo.of(in[0], op.heads(), op.hasMask() ? in[op.hasBias() ? 2 : 1] : null);
        float scale = (float) op.scale();
        MemorySegment os = out.segment();
        Parallel.forItems((long) g.windows * g.heads, g.itemCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            for (long item = from; item < to; item++) {
                int w = (int) (item / g.heads), h = (int) (item % g.heads);
                load(g, x, t, w, h, scale, false);
                probabilities(g, x, t, w, h);
                for (int i = 0; i < g.n; i++) {
                    for (int c = 0; c < g.hdp; c += FL) { // o_i = sum_j p_ij v_j
                        FloatVector acc = FloatVector.zero(F);
                        for (int j = 0; j < g.n; j++) acc = FloatVector.fromArray(F, t.v, j * g.hdp + c).fma(FloatVector.broadcast(F, t.s[i * g.np + j]), acc);
                        acc.intoArray(t.row, c);
                    }
                    MemorySegment.copy(t.row, 0, os, FLOAT, g.out(w, i, h) * 4, g.hd);
                }
            }
        });
    }

    static void grad(Op.AttentionGrad op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, op.hasBias(), op.hasMask());
        Geo g = Geo.of(in[0], op.heads(), op.hasMask() ? in[op.hasBias() ? 2 : 1] : null);
        float scale = (float) op.scale();
        MemorySegment os = out.segment();
        Parallel.forItems((long) g.windows * g.heads, g.itemCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            for (long item = from; item < to; item++) {
                int w = (int) (item / g.heads), h = (int) (item % g.heads);
                load(g, x, t, w, h, scale, true);
                probabilities(g, x, t, w, h);
                scoreGrad(g, t);
                int n = g.n, np = g.np, hdp = g.hdp;
                float[] p = t.s, ds = t.dp;
                for (int i = 0; i < n; i++) { // dq_i = scale sum_j ds_ij k_j
                    for (int c = 0; c < hdp; c += FL) {
                        FloatVector acc = FloatVector.zero(F);
                        for (int j = 0; j < n; j++) acc = FloatVector.fromArray(F, t.k, j * hdp + c).fma(FloatVector.broadcast(F, ds[i * np + j]), acc);
                        acc.mul(scale).intoArray(t.row, c);
                    }
                    MemorySegment.copy(t.row, 0, os, FLOAT, g.qkv(w, i, 0, h) * 4, g.hd);
                }
                for (int j = 0; j < n; j++) { // dk_j = sum_i ds_ij (scale q_i); dv_j = sum_i p_ij do_i
                    for (int c = 0; c < hdp; c += FL) {
                        FloatVector acc = FloatVector.zero(F);
                        for (int i = 0; i < n; i++) acc = FloatVector.fromArray(F, t.q, i * hdp + c).fma(FloatVector.broadcast(F, ds[i * np + j]), acc);
                        acc.intoArray(t.row, c);
                    }
                    MemorySegment.copy(t.row, 0, os, FLOAT, g.qkv(w, j, 1, h) * 4, g.hd);
                    for (int c = 0; c < hdp; c += FL) {
                        FloatVector acc = FloatVector.zero(F);
                        for (int i = 0; i < n; i++) acc = FloatVector.fromArray(F, t.go, i * hdp + c).fma(FloatVector.broadcast(F, p[i * np + j]), acc);
                        acc.intoArray(t.row, c);
                    }
                    MemorySegment.copy(t.row, 0, os, FLOAT, g.qkv(w, j, 2, h) * 4, g.hd);
                }
            }
        });
    }

    static void biasGrad(Workspace ws, Op.AttentionBiasGrad op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, true, op.hasMask());
        Geo g = Geo.of(in[0], op.heads(), op.hasMask() ? in[2] : null);
        float scale = (float) op.scale();
        int n = g.n, np = g.np, nn = n * n;
        int chunks = (g.windows + CHUNK - 1) / CHUNK;
        MemorySegment partial = ws.floats((long) chunks * g.heads * nn);
        Parallel.forItems((long) chunks * g.heads, CHUNK * g.itemCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            float[] acc = t.acc;
            for (long item = from; item < to; item++) {
                int c = (int) (item / g.heads), h = (int) (item % g.heads);
                Arrays.fill(acc, 0f);
                for (int w = c * CHUNK, end = Math.min(g.windows, w + CHUNK); w < end; w++) {
                    load(g, x, t, w, h, scale, true);
                    probabilities(g, x, t, w, h);
                    scoreGrad(g, t);
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < n; j++) acc[i * n + j] += t.dp[i * np + j];
                }
                MemorySegment.copy(acc, 0, partial, FLOAT, item * nn * 4L, nn);
            }
        });
        MemorySegment os = out.segment();
        for (int h = 0; h < g.heads; h++)
            for (int e = 0; e < nn; e++) {
                double sum = 0;
                for (int c = 0; c < chunks; c++) sum += Simd.get(partial, ((long) c * g.heads + h) * nn + e);
                Simd.set(os, (long) h * nn + e, (float) sum);
            }
    }

    /**
     * Copies window w, head h into the scratch: q (times scale) and k as rows, k and v transposed; v as rows for the
     * forward, the output gradient as rows for the gradients. Padding lanes stay zero.
     */
    private static void load(Geo g, Operands x, Scratch t, int w, int h, float scale, boolean backward) {
        int n = g.n, hd = g.hd, hdp = g.hdp, np = g.np;
        for (int i = 0; i < n; i++) {
            MemorySegment.copy(x.qkv, FLOAT, g.qkv(w, i, 0, h) * 4, t.q, i * hdp, hd);
            MemorySegment.copy(x.qkv, FLOAT, g.qkv(w, i, 1, h) * 4, t.k, i * hdp, hd);
            MemorySegment.copy(x.qkv, FLOAT, g.qkv(w, i, 2, h) * 4, t.v, i * hdp, hd);
            if (backward) MemorySegment.copy(x.grad, FLOAT, g.out(w, i, h) * 4, t.go, i * hdp, hd);
            for (int d = 0; d < hd; d++) {
                t.q[i * hdp + d] *= scale;
                t.kt[d * np + i] = t.k[i * hdp + d];
                if (backward) t.vt[d * np + i] = t.v[i * hdp + d];
            }
        }
    }

    /** t.s[i][j] = softmax over j < n of (scale q_i) . k_j + bias + mask; lanes j >= n set to zero. */
    private static void probabilities(Geo g, Operands x, Scratch t, int w, int h) {
        int n = g.n, np = g.np, hd = g.hd, hdp = g.hdp;
        long nn = (long) n * n, biasAt = (long) h * nn, maskAt = (long) (w % g.nW) * nn;
        float[] s = t.s;
        for (int i = 0; i < n; i++) {
            int row = i * np;
            for (int j = 0; j < np; j += FL) {
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0; d < hd; d++) acc = FloatVector.fromArray(F, t.kt, d * np + j).fma(FloatVector.broadcast(F, t.q[i * hdp + d]), acc);
                acc.intoArray(s, row + j);
            }
            long at = (long) i * n;
            if (x.bias != null) for (int j = 0; j < n; j++) s[row + j] += Simd.get(x.bias, biasAt + at + j);
            if (x.mask != null) for (int j = 0; j < n; j++) s[row + j] += Simd.get(x.mask, maskAt + at + j);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, s[row + j]);
            CpuMath.expShifted(t.sSeg, t.sSeg, row, row + np, max);
            float sum = 0;
            for (int j = 0; j < n; j++) sum += s[row + j];
            float inv = 1f / sum;
            for (int j = 0; j < n; j++) s[row + j] *= inv;
            for (int j = n; j < np; j++) s[row + j] = 0f;
        }
    }

    /** t.dp[i][j] = ds_ij = p_ij (dP_ij - sum_j' p_ij' dP_ij') with dP_ij = do_i . v_j; lanes j >= n zero. */
    private static void scoreGrad(Geo g, Scratch t) {
        int n = g.n, np = g.np, hd = g.hd, hdp = g.hdp;
        float[] p = t.s, dp = t.dp;
        for (int i = 0; i < n; i++) {
            int row = i * np;
            for (int j = 0; j < np; j += FL) {
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0; d < hd; d++) acc = FloatVector.fromArray(F, t.vt, d * np + j).fma(FloatVector.broadcast(F, t.go[i * hdp + d]), acc);
                acc.intoArray(dp, row + j);
            }
            float dot = 0;
            for (int j = 0; j < n; j++) dot += p[row + j] * dp[row + j];
            for (int j = 0; j < np; j++) dp[row + j] = p[row + j] * (dp[row + j] - dot);
        }
    }
}
