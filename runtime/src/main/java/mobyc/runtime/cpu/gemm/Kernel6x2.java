package mobyc.runtime.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernel for 16 vector registers (AVX2, SSE): a 6 x 2-vector tile of C in 12 accumulators, leaving
 * room for two vectors of B and a broadcast of A; each k step issues 12 FMAs for 8 loads.
 * See {@link MicroKernel} for the contract and why the method holds nothing but the product.
 */
final class Kernel6x2 {
    private Kernel6x2() {}

    static final int MR = 6, VECTORS = 2;
    private static final VectorSpecies<Float> S = MicroKernel.S;
    /** Floats per vector, and per k step of the packed panels. */
    private static final int V = S.length(), B_STEP = VECTORS * V;

    static void kernel(float[] ap, int a, int as, int ar, float[] bp, int b, int kc, float[] t, int to, int ts, float[] init, int io) {
        FloatVector c00, c01;
        if (init == null) {
            c00 = FloatVector.zero(S);
            c01 = c00;
        } else { // every row starts from the same row (a bias)
            c00 = FloatVector.fromArray(S, init, io);
            c01 = FloatVector.fromArray(S, init, io + 1 * V);
        }
        FloatVector c10 = c00, c11 = c01;
        FloatVector c20 = c00, c21 = c01;
        FloatVector c30 = c00, c31 = c01;
        FloatVector c40 = c00, c41 = c01;
        FloatVector c50 = c00, c51 = c01;
        for (int p = 0; p < kc; p++) {
            int bo = b + p * B_STEP, ao = a + p * as;
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + V);
            FloatVector a0 = FloatVector.broadcast(S, ap[ao]);
            c00 = b0.fma(a0, c00); c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ao + 1 * ar]);
            c10 = b0.fma(a1, c10); c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ao + 2 * ar]);
            c20 = b0.fma(a2, c20); c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ao + 3 * ar]);
            c30 = b0.fma(a3, c30); c31 = b1.fma(a3, c31);
            FloatVector a4 = FloatVector.broadcast(S, ap[ao + 4 * ar]);
            c40 = b0.fma(a4, c40); c41 = b1.fma(a4, c41);
            FloatVector a5 = FloatVector.broadcast(S, ap[ao + 5 * ar]);
            c50 = b0.fma(a5, c50); c51 = b1.fma(a5, c51);
        }
        c00.intoArray(t, to);
        c01.intoArray(t, to + 1 * V);
        c10.intoArray(t, to + 1 * ts);
        c11.intoArray(t, to + 1 * ts + 1 * V);
        c20.intoArray(t, to + 2 * ts);
        c21.intoArray(t, to + 2 * ts + 1 * V);
        c30.intoArray(t, to + 3 * ts);
        c31.intoArray(t, to + 3 * ts + 1 * V);
        c40.intoArray(t, to + 4 * ts);
        c41.intoArray(t, to + 4 * ts + 1 * V);
        c50.intoArray(t, to + 5 * ts);
        c51.intoArray(t, to + 5 * ts + 1 * V);
    }
}
