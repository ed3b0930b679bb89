package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks shared by every {@link mobyc.runtime.cpu.Gemm}: sizes non-negative, leading dimensions at least
 * the stored row length, and every element the call touches inside its segment. A native BLAS must never be handed
 * an out-of-range pointer, so the checks run before any implementation reads memory.
 */
public final class GemmArgs {
    private GemmArgs() {}

    public static void check(boolean transA, boolean transB, int m, int n, int k,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      MemorySegment c, long cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("sgemm sizes must be non-negative: m=" + m + " n=" + n + " k=" + k);
        // Stored shapes (rows x cols) of A, B and C in row-major order.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        operand("A", a, aOffset, lda, aRows, aCols);
        operand("B", b, bOffset, ldb, bRows, bCols);
        operand("C", c, cOffset, ldc, m, n);
    }

    /** The bias row of {@link mobyc.runtime.cpu.Gemm#sgemmBias}: {@code n} floats inside its segment. */
    public static void checkBias(int n, MemorySegment bias, long biasOffset) {
        if (biasOffset < 0) throw new IllegalArgumentException("sgemm: offset of the bias is negative: " + biasOffset);
        if ((biasOffset + Math.max(0, n)) * Float.BYTES > bias.byteSize())
            throw new IndexOutOfBoundsException("sgemm: the bias (" + n + " floats at offset " + biasOffset + ") needs "
                    + (biasOffset + n) * Float.BYTES + " bytes, segment has " + bias.byteSize());
    }

    private static void operand(String name, MemorySegment s, long offset, int ld, int rows, int cols) {
        if (ld < Math.max(1, cols))
            throw new IllegalArgumentException("sgemm: ld" + name.toLowerCase() + "=" + ld + " is less than the "
                    + cols + " columns of " + name);
        if (offset < 0) throw new IllegalArgumentException("sgemm: offset of " + name + " is negative: " + offset);
        if (rows == 0 || cols == 0) return;
        long lastElement = offset + (long) (rows - 1) * ld + cols - 1;
        long needBytes = (lastElement + 1) * Float.BYTES;
        if (needBytes > s.byteSize())
            throw new IndexOutOfBoundsException("sgemm: " + name + " (" + rows + "x" + cols + ", ld " + ld + ", offset "
                    + offset + ") needs " + needBytes + " bytes, segment has " + s.byteSize());
    }
}
