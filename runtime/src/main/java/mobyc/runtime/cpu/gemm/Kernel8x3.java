package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Bytes per vector, and per k step of the packed panels. */
    private static final long V = (long) S.length() * Float.BYTES, A_STEP = MR * Float.BYTES, B_STEP = VECTORS * V;

    static void kernel(MemorySegment ap, long a, MemorySegment bp, long b, int kc, MemorySegment cs, long c, long ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00;
        FloatVector c60 = c00, c61 = c00, c62 = c00;
        FloatVector c70 = c00, c71 = c00, c72 = c00;
        for (int p = 0; p < kc; p++) {
            long bo = b + p * B_STEP, ao = a + p * A_STEP;
            FloatVector b0 = FloatVector.fromMemorySegment(S, bp, bo, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(S, bp, bo + V, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(S, bp, bo + 2 * V, ORDER);
            FloatVector a0 = FloatVector.broadcast(S, ap.get(F, ao));
            c00 = b0.fma(a0, c00); c01 = b1.fma(a0, c01); c02 = b2.fma(a0, c02);
            FloatVector a1 = FloatVector.broadcast(S, ap.get(F, ao + 4));
            c10 = b0.fma(a1, c10); c11 = b1.fma(a1, c11); c12 = b2.fma(a1, c12);
            FloatVector a2 = FloatVector.broadcast(S, ap.get(F, ao + 8));
            c20 = b0.fma(a2, c20); c21 = b1.fma(a2, c21); c22 = b2.fma(a2, c22);
            FloatVector a3 = FloatVector.broadcast(S, ap.get(F, ao + 12));
            c30 = b0.fma(a3, c30); c31 = b1.fma(a3, c31); c32 = b2.fma(a3, c32);
            FloatVector a4 = FloatVector.broadcast(S, ap.get(F, ao + 16));
            c40 = b0.fma(a4, c40); c41 = b1.fma(a4, c41); c42 = b2.fma(a4, c42);
            FloatVector a5 = FloatVector.broadcast(S, ap.get(F, ao + 20));
            c50 = b0.fma(a5, c50); c51 = b1.fma(a5, c51); c52 = b2.fma(a5, c52);
            FloatVector a6 = FloatVector.broadcast(S, ap.get(F, ao + 24));
            c60 = b0.fma(a6, c60); c61 = b1.fma(a6, c61); c62 = b2.fma(a6, c62);
            FloatVector a7 = FloatVector.broadcast(S, ap.get(F, ao + 28));
            c70 = b0.fma(a7, c70); c71 = b1.fma(a7, c71); c72 = b2.fma(a7, c72);
        }
        long r0 = c, r1 = c + ldc, r2 = c + 2 * ldc, r3 = c + 3 * ldc;
        long r4 = c + 4 * ldc, r5 = c + 5 * ldc, r6 = c + 6 * ldc, r7 = c + 7 * ldc;
        c00.intoMemorySegment(cs, r0, ORDER);
        c01.intoMemorySegment(cs, r0 + V, ORDER);
        c02.intoMemorySegment(cs, r0 + 2 * V, ORDER);
        c10.intoMemorySegment(cs, r1, ORDER);
        c11.intoMemorySegment(cs, r1 + V, ORDER);
        c12.intoMemorySegment(cs, r1 + 2 * V, ORDER);
        c20.intoMemorySegment(cs, r2, ORDER);
        c21.intoMemorySegment(cs, r2 + V, ORDER);
        c22.intoMemorySegment(cs, r2 + 2 * V, ORDER);
        c30.intoMemorySegment(cs, r3, ORDER);
        c31.intoMemorySegment(cs, r3 + V, ORDER);
        c32.intoMemorySegment(cs, r3 + 2 * V, ORDER);
        c40.intoMemorySegment(cs, r4, ORDER);
        c41.intoMemorySegment(cs, r4 + V, ORDER);
        c42.intoMemorySegment(cs, r4 + 2 * V, ORDER);
        c50.intoMemorySegment(cs, r5, ORDER);
        c51.intoMemorySegment(cs, r5 + V, ORDER);
        c52.intoMemorySegment(cs, r5 + 2 * V, ORDER);
        c60.intoMemorySegment(cs, r6, ORDER);
        c61.intoMemorySegment(cs, r6 + V, ORDER);
        c62.intoMemorySegment(cs, r6 + 2 * V, ORDER);
        c70.intoMemorySegment(cs, r7, ORDER);
        c71.intoMemorySegment(cs, r7 + V, ORDER);
        c72.intoMemorySegment(cs, r7 + 2 * V, ORDER);
    }
}
