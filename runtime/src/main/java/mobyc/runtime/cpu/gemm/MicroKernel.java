package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled micro-kernel: one MR x NR tile of C ({@value #MR} rows x 3 vectors) from a packed A micro-panel
 * (kc x MR, k-major) and a packed B micro-panel (kc x NR, k-major). Its 24 accumulators stay in vector registers
 * (24 of the 32 zmm on AVX-512); each k step loads three vectors of B, broadcasts eight floats of A and issues 24
 * FMAs.
 * <p>Written out by hand (no arrays of vectors) so that C2 keeps every accumulator in a register, and kept to the
 * bare product so that it stays within the compilers' budgets: past C2's inlining cutoff vectors get boxed and the
 * kernel allocates; past C1's register limit it is left interpreted, at about 1 GFLOP/s, until C2 gets to it. So
 * alpha is folded into the packed A, beta into C before the first k block (see {@link VectorGemm}), and adding to C
 * ({@link #addFull}) or storing a partial tile ({@link #storeEdge}) goes through a scratch tile.
 */
final class MicroKernel {
    private MicroKernel() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int MR = 8;
    static final int NR = 3 * S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Bytes per vector. */
    private static final long V = (long) S.length() * Float.BYTES;

    /**
     * {@code C[0..MR, 0..NR] = Apanel * Bpanel}: the product of the packed A micro-panel at byte offset {@code a}
     * and the packed B micro-panel at {@code b} over {@code kc} steps, stored over the tile of C at byte offset
     * {@code c} (row stride {@code ldc} bytes) without reading it. (Loading C here as well, to add to it, makes
     * the method too big for C1: "out of virtual registers".)
     */
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
            long bo = b + (long) p * (NR * Float.BYTES), ao = a + (long) p * (MR * Float.BYTES);
            FloatVector b0 = FloatVector.fromMemorySegment(S, bp, bo + 0 * V, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(S, bp, bo + 1 * V, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(S, bp, bo + 2 * V, ORDER);
            FloatVector a0 = FloatVector.broadcast(S, ap.get(F, ao + 0 * Float.BYTES));
            c00 = b0.fma(a0, c00); c01 = b1.fma(a0, c01); c02 = b2.fma(a0, c02);
            FloatVector a1 = FloatVector.broadcast(S, ap.get(F, ao + 1 * Float.BYTES));
            c10 = b0.fma(a1, c10); c11 = b1.fma(a1, c11); c12 = b2.fma(a1, c12);
            FloatVector a2 = FloatVector.broadcast(S, ap.get(F, ao + 2 * Float.BYTES));
            c20 = b0.fma(a2, c20); c21 = b1.fma(a2, c21); c22 = b2.fma(a2, c22);
            FloatVector a3 = FloatVector.broadcast(S, ap.get(F, ao + 3 * Float.BYTES));
            c30 = b0.fma(a3, c30); c31 = b1.fma(a3, c31); c32 = b2.fma(a3, c32);
            FloatVector a4 = FloatVector.broadcast(S, ap.get(F, ao + 4 * Float.BYTES));
            c40 = b0.fma(a4, c40); c41 = b1.fma(a4, c41); c42 = b2.fma(a4, c42);
            FloatVector a5 = FloatVector.broadcast(S, ap.get(F, ao + 5 * Float.BYTES));
            c50 = b0.fma(a5, c50); c51 = b1.fma(a5, c51); c52 = b2.fma(a5, c52);
            FloatVector a6 = FloatVector.broadcast(S, ap.get(F, ao + 6 * Float.BYTES));
            c60 = b0.fma(a6, c60); c61 = b1.fma(a6, c61); c62 = b2.fma(a6, c62);
            FloatVector a7 = FloatVector.broadcast(S, ap.get(F, ao + 7 * Float.BYTES));
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

    /** {@code C += tile} over a whole MR x NR tile (row stride NR floats). */
    static void addFull(MemorySegment t, MemorySegment cs, long c, long ldc) {
        for (int r = 0; r < MR; r++) {
            long row = c + r * ldc, tr = (long) r * NR * Float.BYTES;
            for (long v = 0; v < NR * Float.BYTES; v += V) {
                FloatVector x = FloatVector.fromMemorySegment(S, t, tr + v, ORDER);
                x.add(FloatVector.fromMemorySegment(S, cs, row + v, ORDER)).intoMemorySegment(cs, row + v, ORDER);
            }
        }
    }

    /** {@code C = tile}, or {@code C += tile} when {@code add}, for the top-left {@code mr x nr} corner of a tile. */
    static void storeEdge(MemorySegment t, int mr, int nr, MemorySegment cs, long c, long ldc, boolean add) {
        for (int r = 0; r < mr; r++) {
            long row = c + r * ldc, tr = (long) r * NR * Float.BYTES;
            for (int j = 0; j < nr; j += S.length()) {
                VectorMask<Float> m = S.indexInRange(j, nr);
                long v = (long) j * Float.BYTES;
                FloatVector x = FloatVector.fromMemorySegment(S, t, tr + v, ORDER);
                if (add) x = x.add(FloatVector.fromMemorySegment(S, cs, row + v, ORDER, m));
                x.intoMemorySegment(cs, row + v, ORDER, m);
            }
        }
    }
}
