package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import mobyc.runtime.cpu.Gemm;

/**
 * Differential check of a {@link Gemm} against {@link ScalarGemm}: random operands placed at an offset, with leading
 * dimensions wider than the rows, in segments that end exactly at the last element used (so any over-read throws).
 * Every element of C within the m x n window must agree within {@code 1e-5 * sqrt(k)} of its magnitude
 * {@code |alpha| * (|A| |B|) + |beta| * |C|}; every float of C's segment outside the window must be untouched.
 */
final class GemmCheck {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final Gemm ORACLE = new ScalarGemm();

    private GemmCheck() {}

    /** The sizes hitting the kernels' tails: 1, 13, 25, 207 in every combination. */
    static final int[] TAILS = {1, 13, 25, 207};
    /** Alpha/beta pairs the grid cycles through: plain, accumulate, general, overwrite with scaling. */
    static final float[][] SCALES = {{1f, 0f}, {1f, 1f}, {0.5f, -2f}, {-1.5f, 0.25f}, {2f, 0f}};

    /**
     * {@code heap}: operands in float[]-backed segments; {@code confined}: in a confined arena (serial path);
     * {@code dense}: every leading dimension is the row length (rows abut, as in a tensor), else a random 0-3 wider.
     */
    record Case(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta, long seed,
                boolean heap, boolean confined, boolean dense) {
        Case(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta, long seed, boolean heap) {
            this(transA, transB, m, n, k, alpha, beta, seed, heap, false, false);
        }

        Case(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta, long seed, boolean heap,
             boolean confined) {
            this(transA, transB, m, n, k, alpha, beta, seed, heap, confined, false);
        }

        @Override public String toString() {
            return (transA ? "A^T" : "A") + "*" + (transB ? "B^T" : "B") + " m=" + m + " n=" + n + " k=" + k
                    + " alpha=" + alpha + " beta=" + beta + " seed=" + seed + (heap ? " heap" : "")
                    + (confined ? " confined" : "") + (dense ? " dense" : "");
        }
    }

    /** A stored matrix: rows x cols at {@code offset} with leading dimension {@code ld}. */
    private record Stored(MemorySegment seg, long offset, int ld, int rows, int cols) {
        static Stored random(Arena arena, boolean heap, boolean dense, int rows, int cols, Random rnd) {
            int ld = Math.max(1, cols) + (dense ? 0 : rnd.nextInt(4));
            long offset = rnd.nextInt(6);
            long size = rows == 0 ? offset : offset + (long) (rows - 1) * ld + cols;
            MemorySegment seg = heap ? MemorySegment.ofArray(new float[(int) size])
                    : arena.allocate(size * Float.BYTES, Float.BYTES);
            for (long i = 0; i < size; i++) seg.setAtIndex(F, i, rnd.nextFloat() * 2 - 1);
            return new Stored(seg, offset, ld, rows, cols);
        }

        Stored copy(Arena arena, boolean abs) {
            long size = seg.byteSize() / Float.BYTES;
            MemorySegment s = arena.allocate(Math.max(1, size) * Float.BYTES, Float.BYTES);
            for (long i = 0; i < size; i++) {
                float v = seg.getAtIndex(F, i);
                s.setAtIndex(F, i, abs ? Math.abs(v) : v);
            }
            return new Stored(s.asSlice(0, seg.byteSize()), offset, ld, rows, cols);
        }

        boolean inWindow(long index) {
            long rel = index - offset;
            return rel >= 0 && rel / ld < rows && rel % ld < cols;
        }
    }

    static void check(Gemm g, Case c) {
        check(c, false, g);
    }

    /**
     * Runs {@code c} through each of {@code gemms}, each on a fresh copy of C, against one oracle result. With
     * {@code nanC}, C starts as NaN: beta == 0 must overwrite it without reading.
     */
    static void check(Case c, boolean nanC, Gemm... gemms) {
        Random rnd = new Random(c.seed());
        try (Arena arena = c.confined() ? Arena.ofConfined() : Arena.ofShared()) {
            Stored a = Stored.random(arena, c.heap(), c.dense(), c.transA() ? c.k() : c.m(), c.transA() ? c.m() : c.k(), rnd);
            Stored b = Stored.random(arena, c.heap(), c.dense(), c.transB() ? c.n() : c.k(), c.transB() ? c.k() : c.n(), rnd);
            Stored before = Stored.random(arena, c.heap(), c.dense(), c.m(), c.n(), rnd);
            if (nanC) {
                for (long i = 0; i < before.seg().byteSize() / Float.BYTES; i++)
                    if (before.inWindow(i)) before.seg().setAtIndex(F, i, Float.NaN);
            }
            Stored want = before.copy(arena, false), mag = before.copy(arena, true);
            run(ORACLE, c, a, b, want, c.alpha(), c.beta());
            run(ORACLE, c, a.copy(arena, true), b.copy(arena, true), mag, Math.abs(c.alpha()), Math.abs(c.beta()));
            float tol = 1e-5f * (float) Math.sqrt(Math.max(1, c.k()));
            for (Gemm g : gemms) {
                Stored got = before.copy(arena, false);
                if (c.heap()) {
                    MemorySegment h = MemorySegment.ofArray(new float[(int) (got.seg().byteSize() / Float.BYTES)]);
                    h.copyFrom(got.seg());
                    got = new Stored(h, got.offset(), got.ld(), got.rows(), got.cols());
                }
                run(g, c, a, b, got, c.alpha(), c.beta());
                compare(g, c, before, want, mag, got, tol);
            }
        }
    }

    /**
     * {@link Gemm#sgemmBias} of {@code c}'s shape (alpha and beta unused) through each of {@code gemms}: C starts as
     * NaN in its window and must end as the product plus the bias row, which sits at an offset in its own segment.
     */
    static void checkBias(Case c, Gemm... gemms) {
        Random rnd = new Random(c.seed());
        try (Arena arena = Arena.ofShared()) {
            Stored[] ops = withBias(arena, c, rnd);
            Stored a = ops[0], b = ops[1], bias = ops[2], before = ops[3];
            for (long i = 0; i < before.seg().byteSize() / Float.BYTES; i++)
                if (before.inWindow(i)) before.seg().setAtIndex(F, i, Float.NaN);
            Stored want = before.copy(arena, false), mag = before.copy(arena, true);
            fillRows(want, mag, bias, c);
            run(ORACLE, c, a, b, want, 1f, 1f);
            run(ORACLE, c, a.copy(arena, true), b.copy(arena, true), mag, 1f, 1f);
            float tol = 1e-5f * (float) Math.sqrt(Math.max(1, c.k()));
            for (Gemm g : gemms) {
                Stored got = before.copy(arena, false);
                g.sgemmBias(c.transA(), c.transB(), c.m(), c.n(), c.k(), a.seg(), a.offset(), a.ld(),
                        b.seg(), b.offset(), b.ld(), bias.seg(), bias.offset(), got.seg(), got.offset(), got.ld());
                compare(g, c, before, want, mag, got, tol);
            }
        }
    }

    /**
     * {@link Gemm#sgemmThen} with GELU ({@code CpuMath::geluBlock}) of {@code c} (with a bias row when {@code withBias}, else c's alpha and beta) through each
     * of {@code gemms}, against the oracle's product with GELU applied in double afterwards. GELU's slope is at
     * most 1.13, so the product's tolerance carries over scaled by it, plus a few ulps of the GELU itself.
     */
    static void checkGelu(Case c, boolean withBias, Gemm... gemms) {
        Random rnd = new Random(c.seed());
        try (Arena arena = Arena.ofShared()) {
            Stored[] ops = withBias(arena, c, rnd);
            Stored a = ops[0], b = ops[1], bias = ops[2], before = ops[3];
            Stored want = before.copy(arena, false), mag = before.copy(arena, true);
            float alpha = withBias ? 1f : c.alpha(), beta = withBias ? 1f : c.beta();
            if (withBias) fillRows(want, mag, bias, c);
            run(ORACLE, c, a, b, want, alpha, beta);
            run(ORACLE, c, a.copy(arena, true), b.copy(arena, true), mag, Math.abs(alpha), Math.abs(beta));
            float tol = 1e-5f * (float) Math.sqrt(Math.max(1, c.k()));
            for (Gemm g : gemms) {
                Stored got = before.copy(arena, false);
                g.sgemmThen(c.transA(), c.transB(), c.m(), c.n(), c.k(), c.alpha(), a.seg(), a.offset(), a.ld(),
                        b.seg(), b.offset(), b.ld(), withBias ? bias.seg() : null, bias.offset(), c.beta(),
                        got.seg(), got.offset(), got.ld(), mobyc.runtime.cpu.CpuMath::geluBlock);
                for (long i = 0; i < got.seg().byteSize() / Float.BYTES; i++) {
                    float x = got.seg().getAtIndex(F, i);
                    if (!got.inWindow(i)) {
                        if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(before.seg().getAtIndex(F, i)))
                            fail(g.name() + " gelu " + c + ": wrote outside C's window at float " + i);
                        continue;
                    }
                    double v = want.seg().getAtIndex(F, i), w = 0.5 * v * (1 + mobyc.runtime.SpecialFunctions.erf(v / Math.sqrt(2)));
                    double bound = 1.13 * tol * mag.seg().getAtIndex(F, i) + 4 * Math.ulp((float) w) + Float.MIN_NORMAL;
                    if (!(Math.abs(x - w) <= bound)) {
                        long rel = i - got.offset();
                        fail(g.name() + " gelu" + (withBias ? " bias " : " ") + c + ": C[" + rel / got.ld() + "," + rel % got.ld()
                                + "] = " + x + ", want " + w + " (tolerance " + bound + ")");
                    }
                }
            }
        }
    }

    /** Random A, B, a bias row and C of {@code c}'s shapes in native segments, in that order. */
    private static Stored[] withBias(Arena arena, Case c, Random rnd) {
        return new Stored[] {
            Stored.random(arena, false, c.dense(), c.transA() ? c.k() : c.m(), c.transA() ? c.m() : c.k(), rnd),
            Stored.random(arena, false, c.dense(), c.transB() ? c.n() : c.k(), c.transB() ? c.k() : c.n(), rnd),
            Stored.random(arena, false, false, 1, c.n(), rnd),
            Stored.random(arena, false, c.dense(), c.m(), c.n(), rnd)};
    }

    /** Every row of {@code want}'s window set to the bias row, and of {@code mag}'s to its magnitudes. */
    private static void fillRows(Stored want, Stored mag, Stored bias, Case c) {
        for (int i = 0; i < c.m(); i++)
            for (int j = 0; j < c.n(); j++) {
                float v = bias.seg().getAtIndex(F, bias.offset() + j);
                want.seg().setAtIndex(F, want.offset() + (long) i * want.ld() + j, v);
                mag.seg().setAtIndex(F, mag.offset() + (long) i * mag.ld() + j, Math.abs(v));
            }
    }

    /** {@link #checkBias} over the tails grid and the mixed shapes, for one transpose combination. */
    static void biasGrid(boolean transA, boolean transB, Gemm... gemms) {
        int i = 0;
        for (int m : TAILS)
            for (int n : TAILS)
                for (int k : new int[] {0, 13, 207}) checkBias(new Case(transA, transB, m, n, k, 1f, 0f, 500L + i++, false), gemms);
        for (int[] s : MIXED) checkBias(new Case(transA, transB, s[0], s[1], s[2], 1f, 0f, 500L + i++, false), gemms);
    }

    private static void compare(Gemm g, Case c, Stored before, Stored want, Stored mag, Stored got, float tol) {
        long size = got.seg().byteSize() / Float.BYTES;
        for (long i = 0; i < size; i++) {
            float x = got.seg().getAtIndex(F, i);
            if (!got.inWindow(i)) {
                if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(before.seg().getAtIndex(F, i)))
                    fail(g.name() + " " + c + ": wrote outside C's window at float " + i);
                continue;
            }
            float w = want.seg().getAtIndex(F, i), bound = tol * mag.seg().getAtIndex(F, i) + Float.MIN_NORMAL;
            if (!(Math.abs(x - w) <= bound)) {
                long rel = i - got.offset();
                fail(g.name() + " " + c + ": C[" + rel / got.ld() + "," + rel % got.ld() + "] = " + x
                        + ", scalar says " + w + " (tolerance " + bound + ")");
            }
        }
    }

    private static void run(Gemm g, Case c, Stored a, Stored b, Stored out, float alpha, float beta) {
        g.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), alpha, a.seg(), a.offset(), a.ld(),
                b.seg(), b.offset(), b.ld(), beta, out.seg(), out.offset(), out.ld());
    }

    /** Every (m, n, k) of {@link #TAILS} for one transpose combination, cycling through {@link #SCALES}. */
    static void tailGrid(boolean transA, boolean transB, Gemm... gemms) {
        int i = 0;
        for (int m : TAILS)
            for (int n : TAILS)
                for (int k : TAILS) {
                    float[] s = SCALES[i % SCALES.length];
                    long seed = 1000L * i + (transA ? 2 : 0) + (transB ? 1 : 0);
                    check(new Case(transA, transB, m, n, k, s[0], s[1], seed, false), false, gemms);
                    i++;
                }
    }

    /**
     * Skinny and long shapes (one dimension past the column block NC, the others in the tails), one spanning
     * several row and k blocks, and an empty reduction.
     */
    static final int[][] MIXED = {{4098, 3, 5}, {3, 4098, 7}, {1, 1, 4098}, {5, 7, 1000}, {200, 50, 520}, {64, 96, 0}};

    /** Every shape of {@link #MIXED}, cycling through {@link #SCALES}. */
    static void mixed(boolean transA, boolean transB, Gemm... gemms) {
        for (int i = 0; i < MIXED.length; i++) {
            int[] s = MIXED[i];
            float[] ab = SCALES[i % SCALES.length];
            check(new Case(transA, transB, s[0], s[1], s[2], ab[0], ab[1], 77 + i, false), false, gemms);
        }
    }
}
