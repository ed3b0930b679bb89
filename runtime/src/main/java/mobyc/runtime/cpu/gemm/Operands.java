package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;

/**
 * The arguments of one sgemm call, as one value to hand to the packing routines and the worker tasks. Element
 * {@code (i, p)} of op(A) lives at float index {@code aOffset + i*aRowStride() + p*aColStride()}; likewise for B.
 * {@code bias}, when not null, holds the n floats added to every row of C as it is first written (beta is then 0);
 * with {@code gelu}, C is GELU of the sum (applied to each block of C as its last k block is stored).
 */
record Operands(boolean transA, boolean transB, int m, int n, int k, float alpha,
                MemorySegment a, long aOffset, int lda,
                MemorySegment b, long bOffset, int ldb,
                float beta, MemorySegment c, long cOffset, int ldc, float[] bias, boolean gelu) {
    Operands(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, long aOffset, int lda,
             MemorySegment b, long bOffset, int ldb, float beta, MemorySegment c, long cOffset, int ldc, float[] bias) {
        this(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, false);
    }

    /** The same product without the GELU. */
    Operands withoutGelu() {
        return new Operands(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, false);
    }

    long aRowStride() { return transA ? 1 : lda; }
    long aColStride() { return transA ? lda : 1; }
    long bRowStride() { return transB ? 1 : ldb; }
    long bColStride() { return transB ? ldb : 1; }
}
