package mobyc.runtime.cpu.gemm;

/**
 * How many slices of k a product is cut into, by both GEMMs: products whose C is small and whose k is long (a
 * weight's gradient, X^T dY over every token: C is [in, out], k the tokens) are cut along k, so that A and B are
 * read once; cut along m, every block would read all of B again (at [192 x 16384] x [16384 x 48], 8 reads of a
 * 3 MB B per call). The count depends only on the shape, never on the thread count, so the sums are the same on
 * any machine.
 */
final class KSplit {
    private KSplit() {}

    private static final long MAX_C = 1L << 18;
    private static final int MIN_K = 4096, MAX_SLICES = 4;

    /** 1 (no cut) or 2 to 4 slices. */
    static int slices(int m, int n, int k) {
        if ((long) m * n > MAX_C || k < MIN_K || k < 8L * Math.max(m, n)) return 1;
        return (int) Math.min(MAX_SLICES, k / (MIN_K / 2));
    }
}
