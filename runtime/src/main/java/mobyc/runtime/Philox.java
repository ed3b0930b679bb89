package mobyc.runtime;

/**
 * The Philox-4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011; the Random123 library). A 128-bit counter and a 64-bit key give 128 random bits; the same
 * (seed, step, stream, element) gives the same numbers on every backend, in any order, on any thread.
 */
public final class Philox {
    private Philox() {}

    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static final int ROUNDS = 10;

    /** Ten Philox rounds on counter (c0..c3) with key (k0, k1); returns the four output words. */
    public static int[] philox4x32_10(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < ROUNDS; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /**
     * The block for one element: counter = (element low, element high, step, stream folded to 32 bits),
     * key = (seed low, seed high).
     */
    public static int[] block(long seed, long step, long stream, long element) {
        return philox4x32_10((int) element, (int) (element >>> 32), (int) step, (int) stream ^ (int) (stream >>> 32),
                (int) seed, (int) (seed >>> 32));
    }

    /** A float uniform in [0, 1) with 24 random bits: the top 24 bits of the block's first word. */
    public static float uniform(long seed, long step, long stream, long element) {
        return (block(seed, step, stream, element)[0] >>> 8) * 0x1.0p-24f;
    }

    /** A double uniform in [0, 1) with 53 random bits taken from words {@code hi} and {@code lo}. */
    public static double toUnitDouble(int hi, int lo) {
        return (((hi & 0xFFFFFFFFL) << 21) | ((lo & 0xFFFFFFFFL) >>> 11)) * 0x1.0p-53;
    }

    /** Two independent doubles uniform in [0, 1): words (0, 1) and words (2, 3) of the element's block. */
    public static double[] uniform2(long seed, long step, long stream, long element) {
        int[] b = block(seed, step, stream, element);
        return new double[] {toUnitDouble(b[0], b[1]), toUnitDouble(b[2], b[3])};
    }

    /** A standard normal number by the Box-Muller transform of {@link #uniform2}. */
    public static double normal(long seed, long step, long stream, long element) {
        double[] u = uniform2(seed, step, stream, element);
        double radius = Math.sqrt(-2.0 * Math.log(1.0 - u[0])); // 1 - u in (0, 1]: never log(0)
        return radius * Math.cos(2.0 * Math.PI * u[1]);
    }
}
