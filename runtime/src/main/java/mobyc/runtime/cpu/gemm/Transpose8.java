package mobyc.runtime.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transposes an 8 x L block of floats (L = lanes of the preferred vector: 8 rows, each one vector) in registers:
 * three rounds of two-vector permutes ({@code selectFrom}, vpermi2ps on AVX-512) interleave 1, 2 and 4 lanes at a
 * time, leaving each vector holding L/8 columns of 8 rows. This is how {@link Packing} turns row streams (A, or
 * B^T) into the k-major micro-panels without a scalar load and store per float.
 * <p>Supported when L is 8 or 16 ({@link #SUPPORTED}); otherwise the packing stays scalar.
 */
final class Transpose8 {
    private Transpose8() {}

    private static final VectorSpecies<Float> S = MicroKernel.S;
    private static final int L = S.length();
    /** Floats of one 8-float column. */
    private static final int COLUMN = 8;

    static final boolean SUPPORTED = L == 8 || L == 16;

    // Index vectors for selectFrom: interleave groups of g lanes of (x, y) taken from their low or high halves.
    private static final FloatVector I1L = interleave(1, false), I1H = interleave(1, true);
    private static final FloatVector I2L = interleave(2, false), I2H = interleave(2, true);
    private static final FloatVector I4L = interleave(4, false), I4H = interleave(4, true);
    private static final VectorMask<Float> LOW8 = S.indexInRange(0, 8);
    private static final VectorMask<Float> HIGH8 = LOW8.not();

    private static FloatVector interleave(int g, boolean high) {
        float[] idx = new float[L];
        for (int i = 0; i < L; i++) {
            int block = i / (2 * g), w = i % (2 * g);
            int lane = (high ? L / 2 : 0) + block * g + w % g;
            idx[i] = w < g ? lane : L + lane;
        }
        return FloatVector.fromArray(S, idx, 0);
    }

    /**
     * Reads 8 rows of L floats (row r at float index {@code s + r*rowStride} of {@code src}), scales them by
     * {@code alpha}, and writes column p (its 8 values, row order) at float index {@code d + p*pitch} of
     * {@code dst}, for p in [0, L). With {@code pitch} = 8 the result is one contiguous k-major block.
     */
    static void rows(float[] src, int s, int rowStride, float alpha, float[] dst, int d, int pitch) {
        FloatVector r0 = FloatVector.fromArray(S, src, s);
        FloatVector r1 = FloatVector.fromArray(S, src, s + rowStride);
        FloatVector r2 = FloatVector.fromArray(S, src, s + 2 * rowStride);
        FloatVector r3 = FloatVector.fromArray(S, src, s + 3 * rowStride);
        FloatVector r4 = FloatVector.fromArray(S, src, s + 4 * rowStride);
        FloatVector r5 = FloatVector.fromArray(S, src, s + 5 * rowStride);
        FloatVector r6 = FloatVector.fromArray(S, src, s + 6 * rowStride);
        FloatVector r7 = FloatVector.fromArray(S, src, s + 7 * rowStride);
        if (alpha != 1f) {
            r0 = r0.mul(alpha); r1 = r1.mul(alpha); r2 = r2.mul(alpha); r3 = r3.mul(alpha);
            r4 = r4.mul(alpha); r5 = r5.mul(alpha); r6 = r6.mul(alpha); r7 = r7.mul(alpha);
        }
        // Pairs of rows, lanes interleaved one by one: a01l holds rows 0,1 of the first L/2 columns.
        FloatVector a01l = I1L.selectFrom(r0, r1), a01h = I1H.selectFrom(r0, r1);
        FloatVector a23l = I1L.selectFrom(r2, r3), a23h = I1H.selectFrom(r2, r3);
        FloatVector a45l = I1L.selectFrom(r4, r5), a45h = I1H.selectFrom(r4, r5);
        FloatVector a67l = I1L.selectFrom(r6, r7), a67h = I1H.selectFrom(r6, r7);
        // Quads of rows, pairs interleaved: b0123ll holds rows 0-3 of the first L/4 columns.
        FloatVector b0123ll = I2L.selectFrom(a01l, a23l), b0123lh = I2H.selectFrom(a01l, a23l);
        FloatVector b0123hl = I2L.selectFrom(a01h, a23h), b0123hh = I2H.selectFrom(a01h, a23h);
        FloatVector b4567ll = I2L.selectFrom(a45l, a67l), b4567lh = I2H.selectFrom(a45l, a67l);
        FloatVector b4567hl = I2L.selectFrom(a45h, a67h), b4567hh = I2H.selectFrom(a45h, a67h);
        // All 8 rows, quads interleaved: each vector holds L/8 whole columns, in column order.
        store(I4L.selectFrom(b0123ll, b4567ll), dst, d, pitch, 0);
        store(I4H.selectFrom(b0123ll, b4567ll), dst, d, pitch, 1);
        store(I4L.selectFrom(b0123lh, b4567lh), dst, d, pitch, 2);
        store(I4H.selectFrom(b0123lh, b4567lh), dst, d, pitch, 3);
        store(I4L.selectFrom(b0123hl, b4567hl), dst, d, pitch, 4);
        store(I4H.selectFrom(b0123hl, b4567hl), dst, d, pitch, 5);
        store(I4L.selectFrom(b0123hh, b4567hh), dst, d, pitch, 6);
        store(I4H.selectFrom(b0123hh, b4567hh), dst, d, pitch, 7);
    }

    /** Stores the j-th output vector: columns j*L/8 .. (j+1)*L/8 - 1, each 8 floats at {@code d + p*pitch}. */
    private static void store(FloatVector v, float[] dst, int d, int pitch, int j) {
        if (L == 8) {
            v.intoArray(dst, d + j * pitch);
        } else if (pitch == COLUMN) {
            v.intoArray(dst, d + j * L);
        } else {
            int p = 2 * j;
            v.intoArray(dst, d + p * pitch, LOW8);
            v.intoArray(dst, d + (p + 1) * pitch - COLUMN, HIGH8);
        }
    }
}
