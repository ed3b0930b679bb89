package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Fused multi-head (window) attention on the cpu: {@link Op.Attention}, {@link Op.AttentionGrad} and
 * {@link Op.AttentionBiasGrad} (layouts as in the interp reference, {@code AttentionKernels}). Work items are
 * windows run in parallel; each copies its block of qkv (and of the output gradient) into per-thread arrays in one
 * piece, then per head gathers q (times scale), k, v into rows padded to whole float vectors, computes the n x n
 * scores there, and writes its slice of the window's output block, copied out in one piece. So the
 * [Bw, heads, n, n] probabilities never exist in memory and the gradients recompute them (flash-attention style).
 * Every product goes through {@link #rowsTimes}, broadcast scalars times row vectors accumulated in registers in a
 * fixed order, so results do not depend on the thread count; the methods stay small so that the JIT compiles each
 * into vector code. The bias gradient sums windows in fixed chunks of {@link #CHUNK} into partial sums (in the
 * executable's workspace), then adds the chunks in order.
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

        /** Work of one window, in multiply-adds: the ballpark that sizes parallel chunks. */
        long windowCost() { return 5L * n * n * dim; }
    }

    /**
     * Per-thread arrays: the window's qkv block [n][3 dim] and output-gradient block [n][dim], its result block; per
     * head q, k, v, output gradient and result rows [n][hdp], k and v transposed [hd][np], probabilities, score
     * gradients and their transposes [n][np]; the bias-gradient sums [heads][n][n]. Padding lanes are zero (cleared
     * whenever the geometry changes; the kernels write only real lanes).
     */
    private static final class Scratch {
        float[] win = new float[0], gwin = win, owin = win, q = win, k = win, v = win, go = win, res = win, kt = win, vt = win,
                p = win, ds = win, pT = win, dsT = win, acc = win;
        int n = -1, hd = -1, heads = -1;

        Scratch ensure(Geo g) {
            if (g.n == n && g.hd == hd && g.heads == heads) return this;
            int rows = g.n * g.hdp, cols = g.hd * g.np, scores = g.n * g.np;
            win = new float[g.n * 3 * g.dim];
            gwin = new float[g.n * g.dim];
            owin = new float[g.n * 3 * g.dim];
            q = new float[rows];
            k = new float[rows];
            v = new float[rows];
            go = new float[rows];
            res = new float[rows];
            kt = new float[cols];
            vt = new float[cols];
            p = new float[scores];
            ds = new float[scores];
            pT = new float[scores];
            dsT = new float[scores];
            acc = new float[g.heads * g.n * g.n];
            n = g.n;
            hd = g.hd;
            heads = g.heads;
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

    private static Tensor maskOf(Tensor[] in, boolean hasBias, boolean hasMask) { return hasMask ? in[hasBias ? 2 : 1] : null; }

    static void forward(Op.Attention op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, op.hasBias(), op.hasMask());
        Geo g = Geo.of(in[0], op.heads(), maskOf(in, op.hasBias(), op.hasMask()));
        float scale = (float) op.scale();
        MemorySegment os = out.segment();
        Parallel.forItems(g.windows, g.windowCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            for (int w = (int) from; w < to; w++) {
                loadWindow(g, x, t, w, false);
                for (int h = 0; h < g.heads; h++) {
                    loadHead(g, t, h, scale, false);
                    probabilities(g, x, t, w, h);
                    rowsTimes(t.p, g.np, g.n, g.n, t.v, g.hdp, g.hdp, t.res, g.hdp); // o = p v
                    storeHead(g, t.res, 1f, t.owin, g.dim, h * g.hd);
                }
                MemorySegment.copy(t.owin, 0, os, FLOAT, (long) w * g.n * g.dim * 4, g.n * g.dim);
            }
        });
    }

    static void grad(Op.AttentionGrad op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, op.hasBias(), op.hasMask());
        Geo g = Geo.of(in[0], op.heads(), maskOf(in, op.hasBias(), op.hasMask()));
        float scale = (float) op.scale();
        MemorySegment os = out.segment();
        int n = g.n, np = g.np, hdp = g.hdp, row = 3 * g.dim;
        Parallel.forItems(g.windows, g.windowCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            for (int w = (int) from; w < to; w++) {
                loadWindow(g, x, t, w, true);
                for (int h = 0; h < g.heads; h++) {
                    loadHead(g, t, h, scale, true);
                    probabilities(g, x, t, w, h);
                    scoreGrad(g, t);
                    rowsTimes(t.ds, np, n, n, t.k, hdp, hdp, t.res, hdp); // dq = scale ds k
                    storeHead(g, t.res, scale, t.owin, row, h * g.hd);
                    rowsTimes(t.dsT, np, n, n, t.q, hdp, hdp, t.res, hdp); // dk = ds^T (scale q)
                    storeHead(g, t.res, 1f, t.owin, row, g.dim + h * g.hd);
                    rowsTimes(t.pT, np, n, n, t.go, hdp, hdp, t.res, hdp); // dv = p^T do
                    storeHead(g, t.res, 1f, t.owin, row, 2 * g.dim + h * g.hd);
                }
                MemorySegment.copy(t.owin, 0, os, FLOAT, (long) w * n * row * 4, n * row);
            }
        });
    }

    static void biasGrad(Workspace ws, Op.AttentionBiasGrad op, Tensor[] in, Tensor out) {
        Operands x = Operands.of(in, true, op.hasMask());
        Geo g = Geo.of(in[0], op.heads(), maskOf(in, true, op.hasMask()));
        float scale = (float) op.scale();
        int n = g.n, np = g.np, nn = n * n, all = g.heads * nn;
        int chunks = (g.windows + CHUNK - 1) / CHUNK;
        MemorySegment partial = ws.floats((long) chunks * all);
        Parallel.forItems(chunks, CHUNK * g.windowCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            float[] acc = t.acc;
            for (int c = (int) from; c < to; c++) {
                Arrays.fill(acc, 0f);
                for (int w = c * CHUNK, end = Math.min(g.windows, w + CHUNK); w < end; w++) {
                    loadWindow(g, x, t, w, true);
                    for (int h = 0; h < g.heads; h++) {
                        loadHead(g, t, h, scale, true);
                        probabilities(g, x, t, w, h);
                        scoreGrad(g, t);
                        for (int i = 0; i < n; i++)
                            for (int j = 0; j < n; j++) acc[h * nn + i * n + j] += t.ds[i * np + j];
                    }
                }
                MemorySegment.copy(acc, 0, partial, FLOAT, (long) c * all * 4, all);
            }
        });
        MemorySegment os = out.segment();
        for (int e = 0; e < all; e++) {
            double sum = 0;
            for (int c = 0; c < chunks; c++) sum += Simd.get(partial, (long) c * all + e);
            Simd.set(os, e, (float) sum);
        }
    }

    /** Copies window w's qkv block (and output-gradient block) into the scratch, one copy each. */
    private static void loadWindow(Geo g, Operands x, Scratch t, int w, boolean backward) {
        int block = g.n * 3 * g.dim;
        MemorySegment.copy(x.qkv, FLOAT, (long) w * block * 4, t.win, 0, block);
        if (backward) MemorySegment.copy(x.grad, FLOAT, (long) w * g.n * g.dim * 4, t.gwin, 0, g.n * g.dim);
    }

    /**
     * Head h of the window: q (times scale) as rows and k transposed, for the scores; then v as rows for the forward,
     * or k as rows, v transposed and the output gradient as rows for the gradients.
     */
    private static void loadHead(Geo g, Scratch t, int h, float scale, boolean backward) {
        int n = g.n, hd = g.hd, hdp = g.hdp, np = g.np, row = 3 * g.dim;
        float[] win = t.win;
        for (int i = 0; i < n; i++) {
            int at = i * row + h * hd, qi = i * hdp;
            for (int d = 0; d < hd; d++) t.q[qi + d] = win[at + d] * scale;
            for (int d = 0; d < hd; d++) t.kt[d * np + i] = win[at + g.dim + d];
            if (backward) {
                System.arraycopy(win, at + g.dim, t.k, qi, hd);
                for (int d = 0; d < hd; d++) t.vt[d * np + i] = win[at + 2 * g.dim + d];
                System.arraycopy(t.gwin, i * g.dim + h * hd, t.go, qi, hd);
            } else {
                System.arraycopy(win, at + 2 * g.dim, t.v, qi, hd);
            }
        }
    }

    /** Rows [n][hdp] of one head, times {@code scale}, into columns [col, col + hd) of a block with rows of {@code row}. */
    private static void storeHead(Geo g, float[] rows, float scale, float[] block, int row, int col) {
        for (int i = 0; i < g.n; i++)
            for (int d = 0; d < g.hd; d++) block[i * row + col + d] = scale == 1f ? rows[i * g.hdp + d] : rows[i * g.hdp + d] * scale;
    }

    /**
     * out[r][0, width) = sum over d < k of a[r][d] * m[d][0, width) for r < rows, rows of a, m and out {@code aStride},
     * {@code mStride} and {@code outStride} apart; width a multiple of the vector length. Accumulated in registers,
     * d in order.
     */
    private static void rowsTimes(float[] a, int aStride, int rows, int k, float[] m, int mStride, int width, float[] out, int outStride) {
        for (int r = 0; r < rows; r++) {
            int ar = r * aStride;
            for (int c = 0; c < width; c += FL) {
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0; d < k; d++) acc = FloatVector.fromArray(F, m, d * mStride + c).fma(FloatVector.broadcast(F, a[ar + d]), acc);
                acc.intoArray(out, r * outStride + c);
            }
        }
    }

    /** t.p[i][j] = softmax over j < n of (scale q_i) . k_j + bias + mask; lanes j >= n zero; t.pT its transpose. */
    private static void probabilities(Geo g, Operands x, Scratch t, int w, int h) {
        int n = g.n, np = g.np;
        float[] s = t.p;
        rowsTimes(t.q, g.hdp, n, g.hd, t.kt, np, np, s, np);
        long nn = (long) n * n, biasAt = (long) h * nn, maskAt = (long) (w % g.nW) * nn;
        if (x.bias != null) addRows(s, np, n, x.bias, biasAt);
        if (x.mask != null) addRows(s, np, n, x.mask, maskAt);
        for (int i = 0; i < n; i++) {
            int row = i * np;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, s[row + j]);
            expShifted(s, row, np, max);
            float sum = 0;
            for (int j = 0; j < n; j++) sum += s[row + j];
            float inv = 1f / sum;
            for (int j = 0; j < n; j++) s[row + j] *= inv;
            for (int j = n; j < np; j++) s[row + j] = 0f;
        }
        transpose(s, t.pT, n, np);
    }

    /** s[i][j] += src[at + i * n + j] for i, j < n. */
    private static void addRows(float[] s, int np, int n, MemorySegment src, long at) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) s[i * np + j] += Simd.get(src, at + (long) i * n + j);
    }

    private static void transpose(float[] a, float[] aT, int n, int np) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) aT[j * np + i] = a[i * np + j];
    }

    /** t.ds[i][j] = p_ij (dP_ij - sum_j' p_ij' dP_ij') with dP = do v^T; lanes j >= n zero; t.dsT its transpose. */
    private static void scoreGrad(Geo g, Scratch t) {
        int n = g.n, np = g.np;
        float[] p = t.p, ds = t.ds;
        rowsTimes(t.go, g.hdp, n, g.hd, t.vt, np, np, ds, np);
        for (int i = 0; i < n; i++) {
            int row = i * np;
            float dot = 0;
            for (int j = 0; j < n; j++) dot += p[row + j] * ds[row + j];
            for (int j = 0; j < np; j++) ds[row + j] = p[row + j] * (ds[row + j] - dot);
        }
        transpose(ds, t.dsT, n, np);
    }

    private static final float MAGIC_F = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final int MAGIC_F_BITS = Float.floatToRawIntBits(MAGIC_F);
    private static final float LOG2E_F = 1.44269504088896341f, LN2_HI_F = 0.693359375f, LN2_LO_F = -2.12194440e-4f;

    /** s[at, at + width) = exp(s - shift): {@link CpuMath#expShifted}'s polynomial on an array (width whole vectors). */
    private static void expShifted(float[] s, int at, int width, float shift) {
        for (int i = at; i < at + width; i += FL) {
            FloatVector x = FloatVector.fromArray(F, s, i).sub(shift).max(-104f).min(89f);
            FloatVector t = x.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
            FloatVector r = x.sub(k.mul(LN2_HI_F)).sub(k.mul(LN2_LO_F));
            FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f).fma(r, FloatVector.broadcast(F, 8.3334519073e-3f))
                    .fma(r, FloatVector.broadcast(F, 4.1665795894e-2f)).fma(r, FloatVector.broadcast(F, 1.6666665459e-1f))
                    .fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
            FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            y.mul(s1).mul(s2).intoArray(s, i);
        }
    }
}
