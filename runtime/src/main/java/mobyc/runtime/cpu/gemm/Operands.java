package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import mobyc.runtime.cpu.Gemm;

/**
 * The arguments of one sgemm call, as one value to hand to the packing routines and the worker tasks. Element
 * {@code (i, p)} of op(A) lives at float index {@code aOffset + i*aRowStride() + p*aColStride()}; likewise for B.
 * {@code bias}, when not null, holds the n floats added to every row of C as it is first written (beta is then 0);
 * {@code then}, when not null, is applied to each block of C as its last k block is stored; {@code sums}, when not
 * null, adds up op(A)'s rows (or op(B)'s columns) over k as the blocks are packed.
 */
record Operands(boolean transA, boolean transB, int m, int n, int k, float alpha,
                MemorySegment a, long aOffset, int lda,
                MemorySegment b, long bOffset, int ldb,
                float beta, MemorySegment c, long cOffset, int ldc, float[] bias, Gemm.Epilogue then, KSums sums) {
    Operands(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, long aOffset, int lda,
             MemorySegment b, long bOffset, int ldb, float beta, MemorySegment c, long cOffset, int ldc, float[] bias, Gemm.Epilogue then) {
        this(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, then, null);
    }

    Operands(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, long aOffset, int lda,
             MemorySegment b, long bOffset, int ldb, float beta, MemorySegment c, long cOffset, int ldc, float[] bias) {
        this(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, null);
    }

    /** The same product without the epilogue. */
    Operands withoutEpilogue() {
        return new Operands(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, null, sums);
    }

    /** The same product adding its sums into {@code s}. */
    Operands withSums(KSums s) {
        return new Operands(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, then, s);
    }

    long aRowStride() { return transA ? 1 : lda; }
    long aColStride() { return transA ? lda : 1; }
    long bRowStride() { return transB ? 1 : ldb; }
    long bColStride() { return transB ? ldb : 1; }
}
