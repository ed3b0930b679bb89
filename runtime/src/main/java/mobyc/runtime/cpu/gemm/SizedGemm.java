package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import mobyc.runtime.cpu.Gemm;

/**
 * Two sgemms chosen per call by shape: products whose C is small and whose k is long (a weight's gradient,
 * X^T dY over every token), which {@link OpenBlasGemm} cuts along k ({@link OpenBlasGemm#kSlices}), go to
 * {@code sliced}; all others to {@code tiled} (the Vector API kernel, which splits C only, so that on such a
 * product each thread would read all of A and B). Measured per shape in a small32 MoBY step at batch 64 (2-core
 * AMD EPYC): the Vector API kernel ran the forward and input-gradient products at 105-213 GFLOP/s against
 * OpenBLAS's 70-130 (it also adds the bias as it stores C), and the [48, 48] and [48, 144] weight gradients at 40
 * and 72 against 90 and 116. Each shape always takes the same path, so results are deterministic.
 */
public final class SizedGemm implements Gemm {
    private final Gemm tiled, sliced;

    public SizedGemm(Gemm tiled, Gemm sliced) {
        this.tiled = tiled;
        this.sliced = sliced;
    }

    @Override public String name() { return "sized"; }

    /** The sgemm a product of this shape goes to. */
    Gemm of(int m, int n, int k) { return OpenBlasGemm.kSlices(m, n, k) > 1 ? sliced : tiled; }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        of(m, n, k).sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    @Override
    public void sgemmBias(boolean transA, boolean transB, int m, int n, int k,
                          MemorySegment a, long aOffset, int lda,
                          MemorySegment b, long bOffset, int ldb,
                          MemorySegment bias, long biasOffset, MemorySegment c, long cOffset, int ldc) {
        of(m, n, k).sgemmBias(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, bias, biasOffset, c, cOffset, ldc);
    }
}
