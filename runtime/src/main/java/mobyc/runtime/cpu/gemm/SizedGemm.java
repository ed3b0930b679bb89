package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import mobyc.runtime.cpu.Gemm;

/**
 * Two sgemms chosen per call by size: products of at least {@link #LARGE} multiply-adds go to {@code large} (the
 * Vector API kernel split over the backend's pool: 1.7-2x OpenBLAS on the tall, thin products of vision
 * transformers, e.g. [16384 x 48] x [48 x 144], measured in GemmBench), smaller ones to {@code small} (OpenBLAS:
 * no per-call split, no JIT warm-up on the many small products of small models). Each shape always takes the same
 * path, so results are deterministic.
 */
public final class SizedGemm implements Gemm {
    /** Multiply-adds from which a product goes to the large-product kernel. */
    public static final long LARGE = 1L << 22;

    private final Gemm large, small;

    public SizedGemm(Gemm large, Gemm small) {
        this.large = large;
        this.small = small;
    }

    @Override public String name() { return "sized"; }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        Gemm g = (long) m * n * k >= LARGE ? large : small;
        g.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }
}
