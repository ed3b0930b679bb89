package mobyc.runtime.cpu.codegen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import mobyc.runtime.cpu.CpuMath;

/**
 * What generated kernels call between their vector loops: per-thread scratch blocks, and the functions that have no
 * inline vector form, each over {@code n} elements of one block into another. Transcendentals are {@link CpuMath}'s
 * loops (the unfused cpu kernels' own, so fused and unfused give the same bits); they run over whole vectors, padding
 * the block's end, which a scratch block has room for. The rest are interp's scalar formulas.
 */
public final class FusedMath {
    private FusedMath() {}

    /** Elements per block: a generated kernel handles a run in blocks of this many. */
    public static final int BLOCK = 256;
    /** Room for BLOCK elements and the padding of the widest vector loop. */
    private static final int PADDED = BLOCK + 64;

    public static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[0]);

    /** This thread's scratch blocks, at least {@code count} of them. */
    public static MemorySegment[] scratch(int count) {
        MemorySegment[] s = SCRATCH.get();
        if (s.length < count) {
            MemorySegment[] t = java.util.Arrays.copyOf(s, count);
            for (int i = s.length; i < count; i++) t[i] = Arena.ofAuto().allocate(PADDED * 4L, 64);
            SCRATCH.set(t);
            s = t;
        }
        return s;
    }

    /** n rounded up to a whole number of vectors of every width (64 floats covers 2048-bit vectors). */
    private static long whole(int n) { return (n + 63) & ~63L; }

    public static void exp(MemorySegment x, MemorySegment out, int n) { CpuMath.exp(x, out, 0, whole(n)); }

    public static void log(MemorySegment x, MemorySegment out, int n) { CpuMath.log(x, out, 0, whole(n)); }

    public static void tanh(MemorySegment x, MemorySegment out, int n) { CpuMath.tanh(x, out, 0, whole(n)); }

    public static void erf(MemorySegment x, MemorySegment out, int n) { CpuMath.erf(x, out, 0, whole(n)); }

    public static void gelu(MemorySegment x, MemorySegment out, int n) { CpuMath.gelu(x, out, 0, whole(n)); }

    public static void dgelu(MemorySegment x, MemorySegment out, int n) { CpuMath.dgelu(x, out, 0, whole(n)); }

    public static void sigmoid(MemorySegment x, MemorySegment out, int n) { CpuMath.sigmoid(x, out, 0, whole(n)); }

    public static void floor(MemorySegment x, MemorySegment out, int n) {
        for (int i = 0; i < n; i++) out.setAtIndex(FLOAT, i, (float) Math.floor(x.getAtIndex(FLOAT, i)));
    }

    public static void pow(MemorySegment a, MemorySegment b, MemorySegment out, int n) {
        for (int i = 0; i < n; i++) out.setAtIndex(FLOAT, i, (float) Math.pow(a.getAtIndex(FLOAT, i), b.getAtIndex(FLOAT, i)));
    }

    public static void mod(MemorySegment a, MemorySegment b, MemorySegment out, int n) {
        for (int i = 0; i < n; i++) {
            float x = a.getAtIndex(FLOAT, i), y = b.getAtIndex(FLOAT, i);
            out.setAtIndex(FLOAT, i, x - (float) Math.floor(x / y) * y);
        }
    }

    /** Floor division, as Python (and interp): a zero divisor throws. */
    public static void divInt(MemorySegment a, MemorySegment b, MemorySegment out, int n) {
        for (int i = 0; i < n; i++) out.setAtIndex(INT, i, Math.floorDiv(a.getAtIndex(INT, i), nonZero(b.getAtIndex(INT, i), "div")));
    }

    /** Modulo with the divisor's sign, as Python (and interp). */
    public static void modInt(MemorySegment a, MemorySegment b, MemorySegment out, int n) {
        for (int i = 0; i < n; i++) out.setAtIndex(INT, i, Math.floorMod(a.getAtIndex(INT, i), nonZero(b.getAtIndex(INT, i), "mod")));
    }

    /** a^e by squaring, wrapping like int32; a negative exponent throws (interp's rule). */
    public static void powInt(MemorySegment a, MemorySegment b, MemorySegment out, int n) {
        for (int i = 0; i < n; i++) {
            int x = a.getAtIndex(INT, i), e = b.getAtIndex(INT, i);
            if (e < 0) throw new ArithmeticException("pow: integers to negative integer powers are not allowed (" + x + "^" + e + ")");
            int r = 1;
            while (e > 0) {
                if ((e & 1) != 0) r *= x;
                x *= x;
                e >>>= 1;
            }
            out.setAtIndex(INT, i, r);
        }
    }

    private static int nonZero(int b, String op) {
        if (b == 0) throw new ArithmeticException(op + ": integer division by zero");
        return b;
    }
}
