package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import mobyc.runtime.cpu.Gemm;

/**
 * The plain triple loop: the scalar twin of {@link VectorGemm} and the oracle its tests compare against. One float
 * accumulator per element of C, k in ascending order. BLAS conventions: {@code beta == 0} overwrites C without
 * reading it (NaN in C does not survive), {@code alpha == 0} or {@code k == 0} only scales C.
 */
public final class ScalarGemm implements Gemm {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Override public String name() { return "scalar"; }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        GemmArgs.check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        // Element (i, p) of op(A) lives at aOffset + i*aRow + p*aCol; likewise for op(B).
        long aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        long bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                if (alpha != 0f) {
                    for (int p = 0; p < k; p++) {
                        float x = a.getAtIndex(F, aOffset + i * aRow + p * aCol);
                        float y = b.getAtIndex(F, bOffset + p * bRow + j * bCol);
                        sum = Math.fma(x, y, sum);
                    }
                }
                long at = cOffset + (long) i * ldc + j;
                float r = alpha * sum;
                if (beta != 0f) r = Math.fma(beta, c.getAtIndex(F, at), r);
                c.setAtIndex(F, at, r);
            }
        }
    }
}
