package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Single-precision matrix multiply on off-heap memory, row-major (C order):
 * {@code C = alpha * op(A) * op(B) + beta * C} with {@code op(X)} = X or X^T, A of m x k, B of k x n, C of m x n
 * after op. Offsets and leading dimensions count float elements. Implementations: a Vector API kernel, OpenBLAS
 * through the FFM API, and a scalar twin; {@link Gemms#best()} chooses once.
 */
public interface Gemm {
    String name();

    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               MemorySegment a, long aOffset, int lda,
               MemorySegment b, long bOffset, int ldb,
               float beta, MemorySegment c, long cOffset, int ldc);
}
