package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled micro-kernel: one MR x NR tile of C from a packed A micro-panel (kc x MR, k-major) and a packed
 * B micro-panel (kc x NR, k-major), its accumulators held in vector registers. Two shapes, chosen once by the
 * register file: {@link Kernel8x3} (24 accumulators) where there are 32 vector registers, {@link Kernel6x2} (12)
 * where there are 16 and 24 accumulators would spill.
 * <p>The kernels are written out by hand (no arrays of vectors) so that C2 keeps every accumulator in a register,
 * and hold nothing but the product so that they stay within the compilers' budgets: past C2's inlining cutoff
 * vectors get boxed and the kernel allocates; past C1's register limit it stays interpreted, at about 1 GFLOP/s,
 * until C2 gets to it. So alpha is folded into the packed A, beta into C before the first k block (see
 * {@link VectorGemm}).
 * <p>Everything the kernels touch is a Java array: the packed panels, and the strip of tiles they write, which
 * {@link #store} then copies into C with bulk copies, a row of the strip (or the whole strip) at a time. Vector loads and stores on memory segments are compiled
 * from a type profile shared by every caller in the process: once any code has used them on a heap segment (the
 * Vector API's own fallback for {@code reinterpretAsInts} does, while it runs interpreted), C2 compiles them
 * without the intrinsic, boxing every vector. In a MoBY step that left this kernel at 30-45 GFLOP/s against 200-300
 * alone. Array loads have no such profile.
 */
final class MicroKernel {
    private MicroKernel() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** 32 vector registers: AVX-512 (the preferred vector is 512 bits only there) and AArch64. */
    static final boolean WIDE = S.vectorBitSize() >= 512 || "aarch64".equals(System.getProperty("os.arch"));
    static final int MR = WIDE ? Kernel8x3.MR : Kernel6x2.MR;
    static final int NR = (WIDE ? Kernel8x3.VECTORS : Kernel6x2.VECTORS) * S.length();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * The MR x NR product of the A micro-panel at float index {@code a} of {@code ap} and the packed B micro-panel at
     * {@code b} of {@code bp} over {@code kc} steps, written into {@code t}: row r at {@code t[to + r*ts ..)}. Element
     * (row r, step p) of the A panel is at {@code a + p*as + r*ar} (the layouts of {@link Packing#aLayout}). With
     * {@code init} not null, every row of the tile starts from {@code init[io .. io + NR)} (a bias) instead of zero.
     */
    static void kernel(float[] ap, int a, int as, int ar, float[] bp, int b, int kc, float[] t, int to, int ts,
                       float[] init, int io) {
        if (WIDE) Kernel8x3.kernel(ap, a, as, ar, bp, b, kc, t, to, ts, init, io);
        else Kernel6x2.kernel(ap, a, as, ar, bp, b, kc, t, to, ts, init, io);
    }

    /**
     * {@code C = strip}, or {@code C += strip} when {@code add}, for {@code rows x cols} of a strip of tiles whose rows
     * are {@code ts} floats apart; C's corner starts at float index {@code c} of {@code cs}, rows {@code ldc} floats
     * apart. One bulk copy a row, or one for the whole block where both are dense. {@code row} is scratch of at least
     * {@code cols} floats.
     */
    static void store(float[] strip, int ts, int rows, int cols, MemorySegment cs, long c, long ldc, boolean add, float[] row) {
        if (!add && ts == cols && ldc == cols) {
            MemorySegment.copy(strip, 0, cs, F, c * Float.BYTES, rows * cols);
            return;
        }
        for (int r = 0; r < rows; r++) {
            long at = (c + r * ldc) * Float.BYTES;
            int t = r * ts;
            if (!add) {
                MemorySegment.copy(strip, t, cs, F, at, cols);
                continue;
            }
            MemorySegment.copy(cs, F, at, row, 0, cols);
            int j = 0;
            for (; j <= cols - S.length(); j += S.length())
                FloatVector.fromArray(S, row, j).add(FloatVector.fromArray(S, strip, t + j)).intoArray(row, j);
            for (; j < cols; j++) row[j] += strip[t + j];
            MemorySegment.copy(row, 0, cs, F, at, cols);
        }
    }
}
