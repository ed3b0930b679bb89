package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;

/**
 * The arguments of one sgemm call, as one value to hand to the packing routines and the worker tasks. Element
 * {@code (i, p)} of op(A) lives at float index {@code aOffset + i*aRowStride() + p*aColStride()}; likewise for B.
 * {@code bias}, when not null, holds the n floats added to every row of C as it is first written (beta is then 0).
 */
record Operands(boolean transA, boolean transB, int m, int n, int k, float alpha,
                MemorySegment a, long aOffset, int lda,
                MemorySegment b, long bOffset, int ldb,
                float beta, MemorySegment c, long cOffset, int ldc, float[] bias) {
    long aRowStride() { return transA ? 1 : lda; }
    long aColStride() { return transA ? lda : 1; }
    long bRowStride() { return transB ? 1 : ldb; }
    long bColStride() { return transB ? ldb : 1; }
}
