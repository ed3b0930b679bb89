package mobyc.runtime.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernel for 32 vector registers (AVX-512, NEON, SVE): an 8 x 3-vector tile of C in 24 accumulators;
 * each k step loads three vectors of B, broadcasts eight floats of A and issues 24 FMAs.
 * See {@link MicroKernel} for the contract and why the method holds nothing but the product.
 */
final class Kernel8x3 {
    private Kernel8x3() {}

    static final int MR = 8, VECTORS = 3;
    private static final VectorSpecies<Float> S = MicroKernel.S;
    /** Floats per vector, and per k step of the packed panels. */
    private static final int V = S.length(), B_STEP = VECTORS * V;

    static void kernel(float[] ap, int a, int as, int ar, float[] bp, int b, int kc, float[] t, int to, int ts, float[] init, int io) {
        FloatVector c00, c01, c02;
        if (init == null) {
            c00 = FloatVector.zero(S);
            c01 = c00;
            c02 = c00;
        } else { // every row starts from the same row (a bias)
            c00 = FloatVector.fromArray(S, init, io);
            c01 = FloatVector.fromArray(S, init, io + 1 * V);
            c02 = FloatVector.fromArray(S, init, io + 2 * V);
        }
        FloatVector c10 = c00, c11 = c01, c12 = c02;
        FloatVector c20 = c00, c21 = c01, c22 = c02;
        FloatVector c30 = c00, c31 = c01, c32 = c02;
        FloatVector c40 = c00, c41 = c01, c42 = c02;
        FloatVector c50 = c00, c51 = c01, c52 = c02;
        FloatVector c60 = c00, c61 = c01, c62 = c02;
        FloatVector c70 = c00, c71 = c01, c72 = c02;
        for (int p = 0; p < kc; p++) {
            int bo = b + p * B_STEP, ao = a + p * as;
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + V);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * V);
            FloatVector a0 = FloatVector.broadcast(S, ap[ao]);
            c00 = b0.fma(a0, c00); c01 = b1.fma(a0, c01); c02 = b2.fma(a0, c02);
            FloatVector a1 = FloatVector.broadcast(S, ap[ao + 1 * ar]);
            c10 = b0.fma(a1, c10); c11 = b1.fma(a1, c11); c12 = b2.fma(a1, c12);
            FloatVector a2 = FloatVector.broadcast(S, ap[ao + 2 * ar]);
            c20 = b0.fma(a2, c20); c21 = b1.fma(a2, c21); c22 = b2.fma(a2, c22);
            FloatVector a3 = FloatVector.broadcast(S, ap[ao + 3 * ar]);
            c30 = b0.fma(a3, c30); c31 = b1.fma(a3, c31); c32 = b2.fma(a3, c32);
            FloatVector a4 = FloatVector.broadcast(S, ap[ao + 4 * ar]);
            c40 = b0.fma(a4, c40); c41 = b1.fma(a4, c41); c42 = b2.fma(a4, c42);
            FloatVector a5 = FloatVector.broadcast(S, ap[ao + 5 * ar]);
            c50 = b0.fma(a5, c50); c51 = b1.fma(a5, c51); c52 = b2.fma(a5, c52);
            FloatVector a6 = FloatVector.broadcast(S, ap[ao + 6 * ar]);
            c60 = b0.fma(a6, c60); c61 = b1.fma(a6, c61); c62 = b2.fma(a6, c62);
            FloatVector a7 = FloatVector.broadcast(S, ap[ao + 7 * ar]);
            c70 = b0.fma(a7, c70); c71 = b1.fma(a7, c71); c72 = b2.fma(a7, c72);
        }
        c00.intoArray(t, to);
        c01.intoArray(t, to + 1 * V);
        c02.intoArray(t, to + 2 * V);
        c10.intoArray(t, to + 1 * ts);
        c11.intoArray(t, to + 1 * ts + 1 * V);
        c12.intoArray(t, to + 1 * ts + 2 * V);
        c20.intoArray(t, to + 2 * ts);
        c21.intoArray(t, to + 2 * ts + 1 * V);
        c22.intoArray(t, to + 2 * ts + 2 * V);
        c30.intoArray(t, to + 3 * ts);
        c31.intoArray(t, to + 3 * ts + 1 * V);
        c32.intoArray(t, to + 3 * ts + 2 * V);
        c40.intoArray(t, to + 4 * ts);
        c41.intoArray(t, to + 4 * ts + 1 * V);
        c42.intoArray(t, to + 4 * ts + 2 * V);
        c50.intoArray(t, to + 5 * ts);
        c51.intoArray(t, to + 5 * ts + 1 * V);
        c52.intoArray(t, to + 5 * ts + 2 * V);
        c60.intoArray(t, to + 6 * ts);
        c61.intoArray(t, to + 6 * ts + 1 * V);
        c62.intoArray(t, to + 6 * ts + 2 * V);
        c70.intoArray(t, to + 7 * ts);
        c71.intoArray(t, to + 7 * ts + 1 * V);
        c72.intoArray(t, to + 7 * ts + 2 * V);
    }
}
