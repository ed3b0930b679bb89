package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled micro-kernel: one MR x NR tile of C from a packed A micro-panel (kc x MR, k-major) and a packed
 * B micro-panel (kc x NR, k-major), its accumulators held in vector registers. Two shapes, chosen once by the
 * register file: {@link Kernel8x3} (24 accumulators) where there are 32 vector registers, {@link Kernel6x2} (12)
 * where there are 16 and 24 accumulators would spill.
 * <p>The kernels are written out by hand (no arrays of vectors) so that C2 keeps every accumulator in a register,
 * and hold nothing but the product so that they stay within the compilers' budgets: past C2's inlining cutoff
 * vectors get boxed and the kernel allocates; past C1's register limit (loading C as well is enough) it stays
 * interpreted, at about 1 GFLOP/s, until C2 gets to it. So alpha is folded into the packed A, beta into C before
 * the first k block (see {@link VectorGemm}), and adding to C ({@link #addFull}) or storing part of a tile
 * ({@link #storeEdge}) goes through a scratch tile.
 */
final class MicroKernel {
    private MicroKernel() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** 32 vector registers: AVX-512 (the preferred vector is 512 bits only there) and AArch64. */
    static final boolean WIDE = S.vectorBitSize() >= 512 || "aarch64".equals(System.getProperty("os.arch"));
    static final int MR = WIDE ? Kernel8x3.MR : Kernel6x2.MR;
    static final int NR = (WIDE ? Kernel8x3.VECTORS : Kernel6x2.VECTORS) * S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Bytes per vector. */
    private static final long V = (long) S.length() * Float.BYTES;

    /**
     * {@code C[0..MR, 0..NR] = Apanel * Bpanel}: the product of the packed A micro-panel at byte offset {@code a}
     * and the packed B micro-panel at {@code b} over {@code kc} steps, stored over the tile of C at byte offset
     * {@code c} (row stride {@code ldc} bytes) without reading it.
     */
    static void kernel(MemorySegment ap, long a, MemorySegment bp, long b, int kc, MemorySegment cs, long c, long ldc) {
        if (WIDE) Kernel8x3.kernel(ap, a, bp, b, kc, cs, c, ldc);
        else Kernel6x2.kernel(ap, a, bp, b, kc, cs, c, ldc);
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
