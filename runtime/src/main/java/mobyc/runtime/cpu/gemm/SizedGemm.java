package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import mobyc.runtime.cpu.Gemm;

/**
 * Two sgemms chosen per call by size: products of at least {@link #LARGE} multiply-adds go to {@code large} (the
 * Vector API kernel split over the backend's pool), smaller ones to {@code small} (OpenBLAS, single-threaded calls
 * split over the same pool). Measured in whole MoBY steps on this 2-core machine: Swin-T at batch 8, whose products
 * are 0.7-0.9 G multiply-adds, ran 1.20 vs 1.11 img/s with the Vector API kernel; small32 at batch 64, whose
 * largest are 0.15 G, ran faster on OpenBLAS in four of four pairs (e.g. 57.1 vs 31.1 img/s) although GemmBench
 * alone favours the Vector API kernel there too. Each shape always takes the same path, so results are deterministic.
 */
public final class SizedGemm implements Gemm {
    /** Multiply-adds from which a product goes to the large-product kernel. */
    public static final long LARGE = 1L << 28;

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
