package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Fused multi-head (window) attention on the cpu: {@link Op.Attention}, {@link Op.AttentionGrad} and
 * {@link Op.AttentionBiasGrad} (layouts as in the interp reference, {@code AttentionKernels}). Work items are
 * windows run in parallel; each copies its block of qkv (and of the output gradient) into per-thread arrays in one
 * piece (with windows in an image: a run of rows per window row, two where the shift wraps it; Swin's shift and partition) and computes
 * head by head, writing its output block, copied out the same way. The [Bw, heads, n, n]
 * probabilities never exist in memory; the gradients recompute them (flash-attention style).
 *
 * <p>Scores are held transposed, {@code sT[j][i]} (key j a row, query i a lane), so that the softmax over j is
 * plain vector arithmetic across rows, with no lane reductions. Every product has one shape,
 * {@link AttentionTiles#product}: rows of scalars (read with any strides, so transposed operands cost nothing) times
 * contiguous rows of vectors, register-tiled with independent accumulators. Only q and the output gradient are
 * transposed (by gathers, once per head); k, v, q and the output gradient are otherwise read where they lie in the
 * window's block when the head dim is a whole number of vectors (else through zero-padded copies). Bias and mask
 * are transposed once per call. Sums run in a fixed order, so results do not depend on the thread count. The bias
 * gradient sums windows in at most {@link #CHUNKS} fixed chunks into partial sums (in the executable's workspace),
 * then adds the chunks in order. Alone it recomputes the probabilities and score gradients that the qkv gradient
 * computes; the executable pairs the two ops when they read the same operands, and then the qkv gradient computes
 * both, chunk by chunk.
 */
final class CpuAttention {
    private CpuAttention() {}

    /**
     * Chunks of windows the bias gradient is summed in, at most (fewer only when there are fewer windows). It also
     * bounds how many threads a paired qkv-and-bias gradient can use, so it is well above a workstation's core count.
     */
    static final int CHUNKS = 64;

    /**
     * Sizes of one call; {@code np} and {@code hdp} are n and the head dim rounded up to whole vectors, {@code row}
     * the qkv row (3 dim); {@code direct} when hd is whole vectors, so k, v, q and outputs are used in place.
     */
    private record Geo(int windows, int n, int heads, int hd, int dim, int nW, int np, int hdp, int row, boolean direct, Op.Windows layout) {
        static Geo of(Tensor qkv, int heads, Tensor mask, Op.Windows layout) {
            int dim = (int) (qkv.dim(qkv.rank() - 1) / 3), hd = dim / heads;
            int n = layout == null ? (int) qkv.dim(1) : layout.tokens();
            int windows = (int) (layout == null ? qkv.dim(0) : qkv.dim(0) * layout.perImage());
            return new Geo(windows, n, heads, hd, dim, mask == null ? 1 : (int) mask.dim(0), roundUp(n), roundUp(hd), 3 * dim,
                    hd % FL == 0, layout);
        }

        static int roundUp(int x) { return Math.max(FL, (x + FL - 1) / FL * FL); }

        /** Work of one window, in multiply-adds: the ballpark that sizes parallel chunks. */
        long windowCost() { return 5L * n * n * dim; }
    }

    /**
     * Per-thread arrays: the window's qkv block [n][3 dim], output-gradient block [n][dim] and result block; per head
     * q (times scale) and the output gradient transposed [hd][np], scores/probabilities and score gradients
     * transposed [n][np], zero-padded rows [n][hdp] of q, k, v, the output gradient and a result (used when hd is
     * not whole vectors), and the bias-gradient sums [heads][n][np]; the gather maps of the two transposes. Padding
     * lanes of the transposes repeat query n - 1, so padding lanes of scores hold finite values that are never read
     * into a real lane; padding lanes of the rows [n][hdp] are zero (fresh arrays whenever the geometry changes).
     */
    private static final class Scratch {
        float[] win = new float[0], gwin = win, owin = win, qT = win, gT = win, s = win, dp = win, q = win, k = win, v = win, go = win,
                res = win, acc = win;
        int[] qMap = new int[0], gMap = qMap;
        /** Runs of a window's tokens in consecutive image rows: first token, first row, length (see {@link #runs}). */
        int[] runToken = new int[0], runLength = runToken;
        long[] runRow = new long[0];
        int runs;
        int n = -1, hd = -1, heads = -1;

        Scratch ensure(Geo g) {
            if (g.n == n && g.hd == hd && g.heads == heads) return this;
            int rows = g.n * g.hdp, cols = g.hd * g.np, scores = g.n * g.np;
            win = new float[g.n * g.row];
            gwin = new float[g.n * g.dim];
            owin = new float[g.n * g.row];
            qT = new float[cols];
            gT = new float[cols];
            s = new float[scores];
            dp = new float[scores];
            q = new float[rows];
            k = new float[rows];
            v = new float[rows];
            go = new float[rows];
            res = new float[rows];
            acc = new float[g.heads * scores];
            qMap = AttentionTiles.rowMap(g.n, g.np, g.row);
            gMap = AttentionTiles.rowMap(g.n, g.np, g.dim);
            runToken = new int[2 * g.n];
            runLength = new int[2 * g.n];
            runRow = new long[2 * g.n];
            n = g.n;
            hd = g.hd;
            heads = g.heads;
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The operands of any of the three ops: qkv, bias and mask transposed ([heads or nW][n][np]; null if absent), the output gradient. */
    private record Operands(MemorySegment qkv, float[] biasT, float[] maskT, MemorySegment grad) {
        static Operands of(Geo g, Tensor[] in, boolean hasBias, boolean hasMask) {
            int k = 1;
            float[] bias = hasBias ? transposed(g, in[k++].segment(), g.heads) : null;
            float[] mask = hasMask ? transposed(g, in[k++].segment(), g.nW) : null;
            return new Operands(in[0].segment(), bias, mask, k < in.length ? in[k].segment() : null);
        }
    }

    private static Tensor maskOf(Tensor[] in, boolean hasBias, boolean hasMask) { return hasMask ? in[hasBias ? 2 : 1] : null; }

    /** [count][n][n] from {@code src} as [count][n][np] transposed: t[c][j][i] = src[c][i][j], padding lanes zero. */
    private static float[] transposed(Geo g, MemorySegment src, int count) {
        int n = g.n, np = g.np;
        float[] t = new float[count * n * np];
        Parallel.forItems(count, (long) n * n, (from, to) -> {
            for (int c = (int) from; c < to; c++)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) t[(c * n + j) * np + i] = Simd.get(src, ((long) c * n + i) * n + j);
        });
        return t;
    }

    static void forward(Op.Attention op, Tensor[] in, Tensor out) {
        Geo g = Geo.of(in[0], op.heads(), maskOf(in, op.hasBias(), op.hasMask()), op.windows());
        Operands x = Operands.of(g, in, op.hasBias(), op.hasMask());
        float scale = (float) op.scale();
        MemorySegment os = out.segment();
        int n = g.n, np = g.np, hd = g.hd, dim = g.dim, row = g.row;
        Parallel.forItems(g.windows, g.windowCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            for (int w = (int) from; w < to; w++) {
                loadWindow(g, x, t, w, false);
                for (int h = 0; h < g.heads; h++) {
                    probabilities(g, x, t, w, h, scale);
                    int c = h * hd;
                    if (g.direct) {
                        AttentionTiles.product(t.s, 0, 1, np, n, n, t.win, 2 * dim + c, row, hd, t.owin, c, dim, 1f); // o = p v
                    } else {
                        padded(g, t.win, 2 * dim + c, row, t.v);
                        AttentionTiles.product(t.s, 0, 1, np, n, n, t.v, 0, g.hdp, g.hdp, t.res, 0, g.hdp, 1f);
                        unpad(g, t.res, t.owin, c, dim);
                    }
                }
                storeWindow(g, t, t.owin, os, w, dim);
            }
        });
    }

    /**
     * The qkv gradient into {@code out}; when {@code biasGrad} is not null, also the bias gradient into it (the
     * executable pairs an attention_grad with the attention_bias_grad of the same operands: the probabilities and
     * score gradients are then computed once). The bias gradient's sums are those of {@link #biasGrad}.
     */
    static void grad(Workspace ws, Op.AttentionGrad op, Tensor[] in, Tensor out, MemorySegment biasGrad) {
        Geo g = Geo.of(in[0], op.heads(), maskOf(in, op.hasBias(), op.hasMask()), op.windows());
        Operands x = Operands.of(g, in, op.hasBias(), op.hasMask());
        float scale = (float) op.scale();
        MemorySegment os = out.segment();
        if (biasGrad == null) {
            Parallel.forItems(g.windows, g.windowCost(), (from, to) -> {
                Scratch t = SCRATCH.get().ensure(g);
                for (int w = (int) from; w < to; w++) gradWindow(g, x, t, w, scale, os, false);
            });
            return;
        }
        byChunks(ws, g, biasGrad, (t, w) -> gradWindow(g, x, t, w, scale, os, true));
    }

    /** Window w's qkv gradient into {@code os}; when {@code accumulate}, its score gradients added to t.acc too. */
    private static void gradWindow(Geo g, Operands x, Scratch t, int w, float scale, MemorySegment os, boolean accumulate) {
        int n = g.n, np = g.np, hd = g.hd, hdp = g.hdp, dim = g.dim, row = g.row;
        loadWindow(g, x, t, w, true);
        for (int h = 0; h < g.heads; h++) {
            probabilities(g, x, t, w, h, scale);
            scoreGrad(g, t, h, accumulate);
            int c = h * hd;
            if (g.direct) {
                AttentionTiles.product(t.dp, 0, 1, np, n, n, t.win, dim + c, row, hd, t.owin, c, row, scale); // dq = scale ds k
                AttentionTiles.product(t.dp, 0, np, 1, n, n, t.win, c, row, hd, t.owin, dim + c, row, scale); // dk = scale ds^T q
                AttentionTiles.product(t.s, 0, np, 1, n, n, t.gwin, c, dim, hd, t.owin, 2 * dim + c, row, 1f); // dv = p^T do
            } else {
                padded(g, t.win, dim + c, row, t.k);
                AttentionTiles.product(t.dp, 0, 1, np, n, n, t.k, 0, hdp, hdp, t.res, 0, hdp, scale);
                unpad(g, t.res, t.owin, c, row);
                padded(g, t.win, c, row, t.q);
                AttentionTiles.product(t.dp, 0, np, 1, n, n, t.q, 0, hdp, hdp, t.res, 0, hdp, scale);
                unpad(g, t.res, t.owin, dim + c, row);
                padded(g, t.gwin, c, dim, t.go);
                AttentionTiles.product(t.s, 0, np, 1, n, n, t.go, 0, hdp, hdp, t.res, 0, hdp, 1f);
                unpad(g, t.res, t.owin, 2 * dim + c, row);
            }
        }
        storeWindow(g, t, t.owin, os, w, row);
    }

    static void biasGrad(Workspace ws, Op.AttentionBiasGrad op, Tensor[] in, Tensor out) {
        Geo g = Geo.of(in[0], op.heads(), maskOf(in, true, op.hasMask()), op.windows());
        Operands x = Operands.of(g, in, true, op.hasMask());
        float scale = (float) op.scale();
        byChunks(ws, g, out.segment(), (t, w) -> {
            loadWindow(g, x, t, w, true);
            for (int h = 0; h < g.heads; h++) {
                probabilities(g, x, t, w, h, scale);
                scoreGrad(g, t, h, true);
            }
        });
    }

    /** What a window contributes: its score gradients added to t.acc (and whatever else the caller computes). */
    private interface WindowWork {
        void run(Scratch t, int w);
    }

    /**
     * The bias gradient [heads, n, n] into {@code biasGrad}: the windows in {@link #chunks} fixed chunks, chunks in
     * parallel, each summing its windows' score gradients ({@code work}) into a partial sum in {@code ws}; then the
     * partial sums added in chunk order, in double.
     */
    private static void byChunks(Workspace ws, Geo g, MemorySegment biasGrad, WindowWork work) {
        int n = g.n, np = g.np, nn = n * n, all = g.heads * nn;
        int chunks = chunks(g.windows);
        MemorySegment partial = ws.floats((long) chunks * all);
        Parallel.forItems(chunks, (long) ceilDiv(g.windows, chunks) * g.windowCost(), (from, to) -> {
            Scratch t = SCRATCH.get().ensure(g);
            float[] acc = t.acc;
            for (int c = (int) from; c < to; c++) {
                Arrays.fill(acc, 0f);
                for (int w = chunkStart(c, chunks, g.windows), end = chunkStart(c + 1, chunks, g.windows); w < end; w++) work.run(t, w);
                long at = (long) c * all;
                for (int h = 0; h < g.heads; h++)
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < n; j++) Simd.set(partial, at + (long) h * nn + i * n + j, acc[(h * n + j) * np + i]);
            }
        });
        for (int e = 0; e < all; e++) {
            double sum = 0;
            for (int c = 0; c < chunks; c++) sum += Simd.get(partial, (long) c * all + e);
            Simd.set(biasGrad, e, (float) sum);
        }
    }

    /** Chunks the bias gradient sums windows in: from the window count alone, so the sums do not depend on the machine. */
    static int chunks(int windows) { return Math.min(windows, CHUNKS); }

    /** First window of chunk c. */
    static int chunkStart(int c, int chunks, int windows) { return (int) ((long) windows * c / chunks); }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    /**
     * Copies window w's qkv block (and output-gradient block) into the scratch: one copy each, or with windows in an
     * image ({@code g.layout}), one per token row.
     */
    private static void loadWindow(Geo g, Operands x, Scratch t, int w, boolean backward) {
        if (g.layout == null) {
            int block = g.n * g.row;
            MemorySegment.copy(x.qkv, FLOAT, (long) w * block * 4, t.win, 0, block);
            if (backward) MemorySegment.copy(x.grad, FLOAT, (long) w * g.n * g.dim * 4, t.gwin, 0, g.n * g.dim);
            return;
        }
        runs(g.layout, w, t);
        for (int k = 0; k < t.runs; k++) {
            long r = t.runRow[k];
            int i = t.runToken[k], len = t.runLength[k];
            MemorySegment.copy(x.qkv, FLOAT, r * g.row * 4, t.win, i * g.row, len * g.row);
            if (backward) MemorySegment.copy(x.grad, FLOAT, r * g.dim * 4, t.gwin, i * g.dim, len * g.dim);
        }
    }

    /**
     * Window w's tokens as runs in consecutive image rows, into t.runToken, t.runRow, t.runLength (t.runs of them):
     * one per window row, two where the cyclic shift wraps it round the image's right edge. The same rows as
     * {@link Op.Windows#row}, without a division per token.
     */
    private static void runs(Op.Windows l, int w, Scratch t) {
        int size = l.size(), across = l.width() / size, per = l.perImage();
        int image = w / per, k = w % per, wh = k / across, ww = k % across;
        int c0 = (ww * size + l.shiftW()) % l.width(), first = Math.min(size, l.width() - c0), n = 0;
        for (int th = 0; th < size; th++) {
            int r = (wh * size + th + l.shiftH()) % l.height();
            long base = ((long) image * l.height() + r) * l.width();
            t.runToken[n] = th * size;
            t.runRow[n] = base + c0;
            t.runLength[n++] = first;
            if (first < size) {
                t.runToken[n] = th * size + first;
                t.runRow[n] = base;
                t.runLength[n++] = size - first;
            }
        }
        t.runs = n;
    }

    /** Writes window w's result block ({@code width} floats per token) to its rows of {@code dst} (the runs loadWindow found). */
    private static void storeWindow(Geo g, Scratch t, float[] block, MemorySegment dst, int w, int width) {
        if (g.layout == null) {
            MemorySegment.copy(block, 0, dst, FLOAT, (long) w * g.n * width * 4, g.n * width);
            return;
        }
        for (int k = 0; k < t.runs; k++)
            MemorySegment.copy(block, t.runToken[k] * width, dst, FLOAT, t.runRow[k] * width * 4, t.runLength[k] * width);
    }

    /** rows[i][0, hd) = src[at + i * stride, + hd) for i < n (rows hdp apart; padding lanes stay zero). */
    private static void padded(Geo g, float[] src, int at, int stride, float[] rows) {
        for (int i = 0; i < g.n; i++) System.arraycopy(src, at + i * stride, rows, i * g.hdp, g.hd);
    }

    /** dst[at + i * stride, + hd) = rows[i][0, hd) for i < n. */
    private static void unpad(Geo g, float[] rows, float[] dst, int at, int stride) {
        for (int i = 0; i < g.n; i++) System.arraycopy(rows, i * g.hdp, dst, at + i * stride, g.hd);
    }

    /** t.s[j][i] = softmax over j < n of (scale q_i) . k_j + bias + mask, transposed (lanes i >= n hold finite junk). */
    private static void probabilities(Geo g, Operands x, Scratch t, int w, int h, float scale) {
        int n = g.n, np = g.np, hd = g.hd;
        AttentionTiles.transpose(t.win, h * hd, t.qMap, np, hd, scale, t.qT, np);
        AttentionTiles.product(t.win, g.dim + h * hd, g.row, 1, n, hd, t.qT, 0, np, np, t.s, 0, np, 1f); // sT = k (scale q)^T
        AttentionTiles.softmaxColumns(t.s, n, np, x.biasT, h * n * np, x.maskT, (w % g.nW) * n * np);
    }

    /**
     * t.dp[j][i] = dS transposed: p_ij (dP_ij - sum_j' p_ij' dP_ij') with dP = do v^T; when {@code accumulate},
     * also added to head h of t.acc.
     */
    private static void scoreGrad(Geo g, Scratch t, int h, boolean accumulate) {
        int n = g.n, np = g.np, hd = g.hd;
        AttentionTiles.transpose(t.gwin, h * hd, t.gMap, np, hd, 1f, t.gT, np);
        AttentionTiles.product(t.win, 2 * g.dim + h * hd, g.row, 1, n, hd, t.gT, 0, np, np, t.dp, 0, np, 1f); // dP^T = v do^T
        AttentionTiles.softmaxGrad(t.s, t.dp, n, np, accumulate ? t.acc : null, h * n * np);
    }
}
