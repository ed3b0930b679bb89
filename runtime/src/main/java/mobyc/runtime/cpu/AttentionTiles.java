package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The small dense loops of {@link CpuAttention} on per-thread float arrays: a register-tiled product of scalar
 * rows times vector rows, a transpose, and the column-wise softmax and its gradient on transposed scores. Each
 * method keeps its vectors to itself (see {@link Simd}), sums in a fixed order, and is small enough for the JIT
 * to compile into vector code.
 */
final class AttentionTiles {
    private AttentionTiles() {}

    /**
     * out[oOff + r oS + c] = scale * sum over k < K of a[aOff + r aR + k aK] * b[bOff + k bS + c], for r < R and
     * c < W, W a multiple of the vector length. Tiles of 4 rows by 2 vectors or 8 rows by 1 vector, accumulated in
     * registers, k in order.
     */
    static void product(float[] a, int aOff, int aR, int aK, int R, int K, float[] b, int bOff, int bS, int W, float[] out, int oOff, int oS,
            float scale) {
        int c = 0;
        for (; c + 2 * FL <= W; c += 2 * FL) {
            int r = 0;
            for (; r + 4 <= R; r += 4) tile4x2(a, aOff + r * aR, aR, aK, K, b, bOff + c, bS, out, oOff + r * oS + c, oS, scale);
            for (; r < R; r++) tile1x2(a, aOff + r * aR, aK, K, b, bOff + c, bS, out, oOff + r * oS + c, scale);
        }
        if (c < W) {
            int r = 0;
            // 8 rows at a time for the two layouts the attention kernels use, each its own loop: with a stride known to
            // be 1 the JIT keeps each row's index as one induction variable (5% off a small32 attention call and its
            // gradient, against one loop for any strides); other strides go 4 rows at a time
            if (aK == 1)
                for (; r + 8 <= R; r += 8) tile8x1Dense(a, aOff + r * aR, aR, K, b, bOff + c, bS, out, oOff + r * oS + c, oS, scale);
            else if (aR == 1)
                for (; r + 8 <= R; r += 8) tile8x1Rows(a, aOff + r, aK, K, b, bOff + c, bS, out, oOff + r * oS + c, oS, scale);
            for (; r + 4 <= R; r += 4) tile4x1(a, aOff + r * aR, aR, aK, K, b, bOff + c, bS, out, oOff + r * oS + c, oS, scale);
            for (; r < R; r++) tile1x1(a, aOff + r * aR, aK, K, b, bOff + c, bS, out, oOff + r * oS + c, scale);
        }
    }

    private static void tile4x2(float[] a, int ao, int aR, int aK, int K, float[] b, int bo, int bS, float[] out, int oo, int oS, float scale) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int k = 0; k < K; k++) {
            int bk = bo + k * bS, ak = ao + k * aK;
            FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + FL);
            FloatVector x0 = FloatVector.broadcast(F, a[ak]), x1 = FloatVector.broadcast(F, a[ak + aR]);
            FloatVector x2 = FloatVector.broadcast(F, a[ak + 2 * aR]), x3 = FloatVector.broadcast(F, a[ak + 3 * aR]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
        }
        c00.mul(scale).intoArray(out, oo);
        c01.mul(scale).intoArray(out, oo + FL);
        c10.mul(scale).intoArray(out, oo + oS);
        c11.mul(scale).intoArray(out, oo + oS + FL);
        c20.mul(scale).intoArray(out, oo + 2 * oS);
        c21.mul(scale).intoArray(out, oo + 2 * oS + FL);
        c30.mul(scale).intoArray(out, oo + 3 * oS);
        c31.mul(scale).intoArray(out, oo + 3 * oS + FL);
    }

    private static void tile1x2(float[] a, int ao, int aK, int K, float[] b, int bo, int bS, float[] out, int oo, float scale) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        for (int k = 0; k < K; k++) {
            int bk = bo + k * bS;
            FloatVector x = FloatVector.broadcast(F, a[ao + k * aK]);
            c0 = FloatVector.fromArray(F, b, bk).fma(x, c0);
            c1 = FloatVector.fromArray(F, b, bk + FL).fma(x, c1);
        }
        c0.mul(scale).intoArray(out, oo);
        c1.mul(scale).intoArray(out, oo + FL);
    }

    /** 8 rows by 1 vector, A's k stride 1: row r's scalars at a[ao + r aR + k]. */
    private static void tile8x1Dense(float[] a, int ao, int aR, int K, float[] b, int bo, int bS, float[] out, int oo, int oS, float scale) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        int a0 = ao, a1 = ao + aR, a2 = ao + 2 * aR, a3 = ao + 3 * aR, a4 = ao + 4 * aR, a5 = ao + 5 * aR, a6 = ao + 6 * aR, a7 = ao + 7 * aR;
        for (int k = 0; k < K; k++) {
            FloatVector bv = FloatVector.fromArray(F, b, bo + k * bS);
            c0 = bv.fma(FloatVector.broadcast(F, a[a0 + k]), c0);
            c1 = bv.fma(FloatVector.broadcast(F, a[a1 + k]), c1);
            c2 = bv.fma(FloatVector.broadcast(F, a[a2 + k]), c2);
            c3 = bv.fma(FloatVector.broadcast(F, a[a3 + k]), c3);
            c4 = bv.fma(FloatVector.broadcast(F, a[a4 + k]), c4);
            c5 = bv.fma(FloatVector.broadcast(F, a[a5 + k]), c5);
            c6 = bv.fma(FloatVector.broadcast(F, a[a6 + k]), c6);
            c7 = bv.fma(FloatVector.broadcast(F, a[a7 + k]), c7);
        }
        c0.mul(scale).intoArray(out, oo);
        c1.mul(scale).intoArray(out, oo + oS);
        c2.mul(scale).intoArray(out, oo + 2 * oS);
        c3.mul(scale).intoArray(out, oo + 3 * oS);
        c4.mul(scale).intoArray(out, oo + 4 * oS);
        c5.mul(scale).intoArray(out, oo + 5 * oS);
        c6.mul(scale).intoArray(out, oo + 6 * oS);
        c7.mul(scale).intoArray(out, oo + 7 * oS);
    }

    /** 8 rows by 1 vector, A's rows adjacent: the 8 scalars of step k at a[ao + k aK .. + 8). */
    private static void tile8x1Rows(float[] a, int ao, int aK, int K, float[] b, int bo, int bS, float[] out, int oo, int oS, float scale) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int k = 0, ak = ao, bk = bo; k < K; k++, ak += aK, bk += bS) {
            FloatVector bv = FloatVector.fromArray(F, b, bk);
            c0 = bv.fma(FloatVector.broadcast(F, a[ak]), c0);
            c1 = bv.fma(FloatVector.broadcast(F, a[ak + 1]), c1);
            c2 = bv.fma(FloatVector.broadcast(F, a[ak + 2]), c2);
            c3 = bv.fma(FloatVector.broadcast(F, a[ak + 3]), c3);
            c4 = bv.fma(FloatVector.broadcast(F, a[ak + 4]), c4);
            c5 = bv.fma(FloatVector.broadcast(F, a[ak + 5]), c5);
            c6 = bv.fma(FloatVector.broadcast(F, a[ak + 6]), c6);
            c7 = bv.fma(FloatVector.broadcast(F, a[ak + 7]), c7);
        }
        c0.mul(scale).intoArray(out, oo);
        c1.mul(scale).intoArray(out, oo + oS);
        c2.mul(scale).intoArray(out, oo + 2 * oS);
        c3.mul(scale).intoArray(out, oo + 3 * oS);
        c4.mul(scale).intoArray(out, oo + 4 * oS);
        c5.mul(scale).intoArray(out, oo + 5 * oS);
        c6.mul(scale).intoArray(out, oo + 6 * oS);
        c7.mul(scale).intoArray(out, oo + 7 * oS);
    }

    private static void tile4x1(float[] a, int ao, int aR, int aK, int K, float[] b, int bo, int bS, float[] out, int oo, int oS, float scale) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int k = 0; k < K; k++) {
            int ak = ao + k * aK;
            FloatVector bv = FloatVector.fromArray(F, b, bo + k * bS);
            c0 = bv.fma(FloatVector.broadcast(F, a[ak]), c0);
            c1 = bv.fma(FloatVector.broadcast(F, a[ak + aR]), c1);
            c2 = bv.fma(FloatVector.broadcast(F, a[ak + 2 * aR]), c2);
            c3 = bv.fma(FloatVector.broadcast(F, a[ak + 3 * aR]), c3);
        }
        c0.mul(scale).intoArray(out, oo);
        c1.mul(scale).intoArray(out, oo + oS);
        c2.mul(scale).intoArray(out, oo + 2 * oS);
        c3.mul(scale).intoArray(out, oo + 3 * oS);
    }

    private static void tile1x1(float[] a, int ao, int aK, int K, float[] b, int bo, int bS, float[] out, int oo, float scale) {
        FloatVector c0 = FloatVector.zero(F);
        for (int k = 0; k < K; k++) c0 = FloatVector.fromArray(F, b, bo + k * bS).fma(FloatVector.broadcast(F, a[ao + k * aK]), c0);
        c0.mul(scale).intoArray(out, oo);
    }

    /**
     * dst[d * dS + i] = scale * src[off + map[i] + d] for i < np (whole vectors), d < hd: a transpose by gathers,
     * map[i] = i * stride for the real rows i < n and a real row's offset for the padding lanes.
     */
    static void transpose(float[] src, int off, int[] map, int np, int hd, float scale, float[] dst, int dS) {
        if (FL == 16 && hd % 16 == 0) { // 16 x 16 tiles in registers: 3x faster than 16 gathers (19 against 63 ns a tile)
            for (int c = 0; c < np; c += 16)
                for (int d = 0; d < hd; d += 16) transpose16(src, off + d, map, c, scale, dst, d * dS + c, dS);
            return;
        }
        for (int c = 0; c < np; c += FL)
            for (int d = 0; d < hd; d++) FloatVector.fromArray(F, src, off + d, map, c).mul(scale).intoArray(dst, d * dS + c);
    }

    /**
     * Index vectors of the two-source selects that swap the off-diagonal b x b blocks of a pair of rows b apart
     * (b = 8, 4, 2, 1): lane l of the upper row takes its own lane l where bit b of l is clear, else the lower row's
     * l - b; the lower row its own l where the bit is set, else the upper row's l + b. Four rounds transpose 16 x 16.
     */
    private static final FloatVector UP8 = swap(8, true), DOWN8 = swap(8, false), UP4 = swap(4, true), DOWN4 = swap(4, false),
            UP2 = swap(2, true), DOWN2 = swap(2, false), UP1 = swap(1, true), DOWN1 = swap(1, false);

    private static FloatVector swap(int b, boolean up) {
        float[] idx = new float[FL];
        for (int l = 0; l < FL; l++) idx[l] = up ? ((l & b) == 0 ? l : FL + l - b) : ((l & b) == 0 ? l + b : FL + l);
        return FloatVector.fromArray(F, idx, 0);
    }

    /**
     * dst[to + d * dS + k] = scale * src[off + map[c + k] + d] for d, k < 16 (16-float vectors only): sixteen rows
     * loaded, transposed by 64 two-source lane selects, scaled and stored. Written out, as the GEMM kernels, so that
     * every row stays in a register.
     */
    private static void transpose16(float[] src, int off, int[] map, int c, float scale, float[] dst, int to, int dS) {
        FloatVector r0 = FloatVector.fromArray(F, src, off + map[c]), r1 = FloatVector.fromArray(F, src, off + map[c + 1]);
        FloatVector r2 = FloatVector.fromArray(F, src, off + map[c + 2]), r3 = FloatVector.fromArray(F, src, off + map[c + 3]);
        FloatVector r4 = FloatVector.fromArray(F, src, off + map[c + 4]), r5 = FloatVector.fromArray(F, src, off + map[c + 5]);
        FloatVector r6 = FloatVector.fromArray(F, src, off + map[c + 6]), r7 = FloatVector.fromArray(F, src, off + map[c + 7]);
        FloatVector r8 = FloatVector.fromArray(F, src, off + map[c + 8]), r9 = FloatVector.fromArray(F, src, off + map[c + 9]);
        FloatVector r10 = FloatVector.fromArray(F, src, off + map[c + 10]), r11 = FloatVector.fromArray(F, src, off + map[c + 11]);
        FloatVector r12 = FloatVector.fromArray(F, src, off + map[c + 12]), r13 = FloatVector.fromArray(F, src, off + map[c + 13]);
        FloatVector r14 = FloatVector.fromArray(F, src, off + map[c + 14]), r15 = FloatVector.fromArray(F, src, off + map[c + 15]);
        FloatVector t;
        t = UP8.selectFrom(r0, r8); r8 = DOWN8.selectFrom(r0, r8); r0 = t;
        t = UP8.selectFrom(r1, r9); r9 = DOWN8.selectFrom(r1, r9); r1 = t;
        t = UP8.selectFrom(r2, r10); r10 = DOWN8.selectFrom(r2, r10); r2 = t;
        t = UP8.selectFrom(r3, r11); r11 = DOWN8.selectFrom(r3, r11); r3 = t;
        t = UP8.selectFrom(r4, r12); r12 = DOWN8.selectFrom(r4, r12); r4 = t;
        t = UP8.selectFrom(r5, r13); r13 = DOWN8.selectFrom(r5, r13); r5 = t;
        t = UP8.selectFrom(r6, r14); r14 = DOWN8.selectFrom(r6, r14); r6 = t;
        t = UP8.selectFrom(r7, r15); r15 = DOWN8.selectFrom(r7, r15); r7 = t;
        t = UP4.selectFrom(r0, r4); r4 = DOWN4.selectFrom(r0, r4); r0 = t;
        t = UP4.selectFrom(r1, r5); r5 = DOWN4.selectFrom(r1, r5); r1 = t;
        t = UP4.selectFrom(r2, r6); r6 = DOWN4.selectFrom(r2, r6); r2 = t;
        t = UP4.selectFrom(r3, r7); r7 = DOWN4.selectFrom(r3, r7); r3 = t;
        t = UP4.selectFrom(r8, r12); r12 = DOWN4.selectFrom(r8, r12); r8 = t;
        t = UP4.selectFrom(r9, r13); r13 = DOWN4.selectFrom(r9, r13); r9 = t;
        t = UP4.selectFrom(r10, r14); r14 = DOWN4.selectFrom(r10, r14); r10 = t;
        t = UP4.selectFrom(r11, r15); r15 = DOWN4.selectFrom(r11, r15); r11 = t;
        t = UP2.selectFrom(r0, r2); r2 = DOWN2.selectFrom(r0, r2); r0 = t;
        t = UP2.selectFrom(r1, r3); r3 = DOWN2.selectFrom(r1, r3); r1 = t;
        t = UP2.selectFrom(r4, r6); r6 = DOWN2.selectFrom(r4, r6); r4 = t;
        t = UP2.selectFrom(r5, r7); r7 = DOWN2.selectFrom(r5, r7); r5 = t;
        t = UP2.selectFrom(r8, r10); r10 = DOWN2.selectFrom(r8, r10); r8 = t;
        t = UP2.selectFrom(r9, r11); r11 = DOWN2.selectFrom(r9, r11); r9 = t;
        t = UP2.selectFrom(r12, r14); r14 = DOWN2.selectFrom(r12, r14); r12 = t;
        t = UP2.selectFrom(r13, r15); r15 = DOWN2.selectFrom(r13, r15); r13 = t;
        t = UP1.selectFrom(r0, r1); r1 = DOWN1.selectFrom(r0, r1); r0 = t;
        t = UP1.selectFrom(r2, r3); r3 = DOWN1.selectFrom(r2, r3); r2 = t;
        t = UP1.selectFrom(r4, r5); r5 = DOWN1.selectFrom(r4, r5); r4 = t;
        t = UP1.selectFrom(r6, r7); r7 = DOWN1.selectFrom(r6, r7); r6 = t;
        t = UP1.selectFrom(r8, r9); r9 = DOWN1.selectFrom(r8, r9); r8 = t;
        t = UP1.selectFrom(r10, r11); r11 = DOWN1.selectFrom(r10, r11); r10 = t;
        t = UP1.selectFrom(r12, r13); r13 = DOWN1.selectFrom(r12, r13); r12 = t;
        t = UP1.selectFrom(r14, r15); r15 = DOWN1.selectFrom(r14, r15); r14 = t;
        r0.mul(scale).intoArray(dst, to);
        r1.mul(scale).intoArray(dst, to + dS);
        r2.mul(scale).intoArray(dst, to + 2 * dS);
        r3.mul(scale).intoArray(dst, to + 3 * dS);
        r4.mul(scale).intoArray(dst, to + 4 * dS);
        r5.mul(scale).intoArray(dst, to + 5 * dS);
        r6.mul(scale).intoArray(dst, to + 6 * dS);
        r7.mul(scale).intoArray(dst, to + 7 * dS);
        r8.mul(scale).intoArray(dst, to + 8 * dS);
        r9.mul(scale).intoArray(dst, to + 9 * dS);
        r10.mul(scale).intoArray(dst, to + 10 * dS);
        r11.mul(scale).intoArray(dst, to + 11 * dS);
        r12.mul(scale).intoArray(dst, to + 12 * dS);
        r13.mul(scale).intoArray(dst, to + 13 * dS);
        r14.mul(scale).intoArray(dst, to + 14 * dS);
        r15.mul(scale).intoArray(dst, to + 15 * dS);
    }

    /** The gather map of {@link #transpose}: i * stride for i < n, (n - 1) * stride for n <= i < np. */
    static int[] rowMap(int n, int np, int stride) {
        int[] map = new int[np];
        for (int i = 0; i < np; i++) map[i] = Math.min(i, n - 1) * stride;
        return map;
    }

    private static final float MAGIC_F = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final int MAGIC_F_BITS = Float.floatToRawIntBits(MAGIC_F);
    private static final float LOG2E_F = 1.44269504088896341f, LN2_HI_F = 0.693359375f, LN2_LO_F = -2.12194440e-4f;

    /** Below this, exp(x - max) is taken as 0: 2^k stays a normal float, and no denormal reaches the products. */
    private static final float FLOOR = -80f;

    /**
     * Softmax down the columns of s [n][np] (rows j, lanes i): s[j][i] = exp(x_ji - max_j x) / sum_j exp(..) with
     * x = s + bias[bOff..] + mask[mOff..] (either array may be null). exp is {@link CpuMath#expShifted}'s reduction
     * and polynomial, with arguments at most 0 (one power-of-two scale suffices) and exp of anything below
     * {@link #FLOOR} flushed to 0 (under 2e-35 of the column's largest term).
     */
    static void softmaxColumns(float[] s, int n, int np, float[] bias, int bOff, float[] mask, int mOff) {
        for (int c = 0; c < np; c += FL) {
            // four running maxima: one chain of n dependent maxes (several instructions each, for Java's NaN and
            // signed-zero rules) cost more than the rest of the pass; a max does not depend on the order
            FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
            int q = 0;
            for (; q + 4 <= n; q += 4) {
                m0 = m0.max(scores(s, q * np + c, bias, bOff, mask, mOff));
                m1 = m1.max(scores(s, (q + 1) * np + c, bias, bOff, mask, mOff));
                m2 = m2.max(scores(s, (q + 2) * np + c, bias, bOff, mask, mOff));
                m3 = m3.max(scores(s, (q + 3) * np + c, bias, bOff, mask, mOff));
            }
            for (; q < n; q++) m0 = m0.max(scores(s, q * np + c, bias, bOff, mask, mOff));
            FloatVector max = m0.max(m1).max(m2.max(m3));
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < n; j++) {
                int at = j * np + c;
                FloatVector x = FloatVector.fromArray(F, s, at).sub(max); // <= 0
                VectorMask<Float> tiny = x.compare(VectorOperators.LT, FLOOR);
                x = x.blend(FLOOR, tiny); // the max with FLOOR, by the mask already at hand
                FloatVector t = x.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
                FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI_F), x).sub(k.mul(LN2_LO_F)); // k * LN2_HI_F is exact
                FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f).fma(r, FloatVector.broadcast(F, 8.3334519073e-3f))
                        .fma(r, FloatVector.broadcast(F, 4.1665795894e-2f)).fma(r, FloatVector.broadcast(F, 1.6666665459e-1f))
                        .fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
                FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
                FloatVector two = ((IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS - 127)).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector e = y.mul(two).blend(0f, tiny);
                e.intoArray(s, at);
                sum = sum.add(e);
            }
            FloatVector inv = FloatVector.broadcast(F, 1f).div(sum);
            for (int j = 0; j < n; j++) {
                int at = j * np + c;
                FloatVector.fromArray(F, s, at).mul(inv).intoArray(s, at);
            }
        }
    }

    /** s[at..] += bias[bOff + at..] + mask[mOff + at..] (either may be null), stored back and returned. */
    private static FloatVector scores(float[] s, int at, float[] bias, int bOff, float[] mask, int mOff) {
        FloatVector x = FloatVector.fromArray(F, s, at);
        if (bias != null) x = x.add(FloatVector.fromArray(F, bias, bOff + at));
        if (mask != null) x = x.add(FloatVector.fromArray(F, mask, mOff + at));
        x.intoArray(s, at);
        return x;
    }

    /**
     * dp [n][np] (dP transposed) becomes dS transposed: dS = p (dP - sum_j p dP) down each column, p the
     * probabilities; if acc is not null, dS is also added to acc[accOff..].
     */
    static void softmaxGrad(float[] p, float[] dp, int n, int np, float[] acc, int accOff) {
        for (int c = 0; c < np; c += FL) {
            FloatVector dot = FloatVector.zero(F);
            for (int j = 0; j < n; j++) {
                int at = j * np + c;
                dot = FloatVector.fromArray(F, p, at).fma(FloatVector.fromArray(F, dp, at), dot);
            }
            for (int j = 0; j < n; j++) {
                int at = j * np + c;
                FloatVector ds = FloatVector.fromArray(F, dp, at).sub(dot).mul(FloatVector.fromArray(F, p, at));
                ds.intoArray(dp, at);
                if (acc != null) FloatVector.fromArray(F, acc, accOff + at).add(ds).intoArray(acc, accOff + at);
            }
        }
    }
}
