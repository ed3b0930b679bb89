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

    /**
     * {@code C = op(A) * op(B) + bias}, the row vector of {@code n} floats at {@code biasOffset} of {@code bias}
     * added to every row of C; C is overwritten. This default writes the bias into every row, then adds the product
     * (beta 1): a second pass over C, which a GEMM that adds the bias as it stores its tiles saves.
     */
    default void sgemmBias(boolean transA, boolean transB, int m, int n, int k,
                           MemorySegment a, long aOffset, int lda,
                           MemorySegment b, long bOffset, int ldb,
                           MemorySegment bias, long biasOffset, MemorySegment c, long cOffset, int ldc) {
        mobyc.runtime.cpu.gemm.GemmArgs.checkBias(n, bias, biasOffset);
        mobyc.runtime.cpu.gemm.GemmArgs.check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        for (int i = 0; i < m; i++)
            MemorySegment.copy(bias, biasOffset * Float.BYTES, c, (cOffset + (long) i * ldc) * Float.BYTES, (long) n * Float.BYTES);
        sgemm(transA, transB, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, 1f, c, cOffset, ldc);
    }

    /**
     * What a GEMM does to each finished block of C ({@code rows x cols} from float index {@code corner} of {@code c},
     * rows {@code ldc} floats apart), on the thread that stored it: an activation applied element by element, in place.
     */
    @FunctionalInterface
    interface Epilogue {
        void apply(MemorySegment c, long corner, int rows, int cols, long ldc);
    }

    /**
     * {@code C = alpha op(A) op(B) + beta C}, or with a {@code bias} (not null) {@code C = op(A) op(B) + bias} (alpha 1,
     * beta 0); then {@code then} over C. This default runs the product, then {@code then} over all of C; a GEMM that
     * applies it to each block of C right after storing the block saves that second pass over memory.
     */
    default void sgemmThen(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           MemorySegment a, long aOffset, int lda,
                           MemorySegment b, long bOffset, int ldb,
                           MemorySegment bias, long biasOffset, float beta, MemorySegment c, long cOffset, int ldc,
                           Epilogue then) {
        if (bias != null) sgemmBias(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, bias, biasOffset, c, cOffset, ldc);
        else sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        then.apply(c, cOffset, m, n, ldc);
    }

    /**
     * {@code C = A^T B} (A stored k x m, B stored k x n, C overwritten) and the sums of A's columns over k:
     * {@code sums[i] = sum_p A[p][i]}, accumulated in double, stored as floats from float index {@code sumsOffset}.
     * A weight's gradient {@code dY^T X} and its bias's gradient, the sums of dY over the tokens, read the same dY:
     * this default multiplies, then reads A again; a GEMM that adds A's blocks up as it packs them reads A once.
     */
    default void sgemmColumnSums(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                 MemorySegment c, long cOffset, int ldc, MemorySegment sums, long sumsOffset) {
        sgemm(true, false, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, 0f, c, cOffset, ldc);
        double[] acc = new double[m];
        for (int p = 0; p < k; p++)
            for (int i = 0; i < m; i++) acc[i] += a.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, aOffset + (long) p * lda + i);
        for (int i = 0; i < m; i++) sums.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, sumsOffset + i, (float) acc[i]);
    }
}
