package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Gemms;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link VectorGemm} against the scalar oracle, on the cpu pool, on one thread, and on three (uneven splits). */
class VectorGemmTest {
    private static final ForkJoinPool ONE = new ForkJoinPool(1), THREE = new ForkJoinPool(3);
    private static final Gemm POOLED = Gemms.vector(), SERIAL = new VectorGemm(ONE), THREE_WAY = new VectorGemm(THREE);

    @AfterAll static void closePools() {
        ONE.close();
        THREE.close();
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void tailsMatchScalar(boolean transA, boolean transB) {
        GemmCheck.tailGrid(transA, transB, POOLED);
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void mixedShapesMatchScalar(boolean transA, boolean transB) {
        GemmCheck.mixed(transA, transB, POOLED, SERIAL, THREE_WAY);
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void biasEpilogueMatchesScalar(boolean transA, boolean transB) {
        GemmCheck.biasGrid(transA, transB, POOLED, SERIAL, THREE_WAY, new ScalarGemm());
    }

    /**
     * Operands whose rows abut, as tensors': A's rows packed in one copy (all of k in one block), tiles gathered in
     * strips and a strip stored in one copy where C's rows are whole strips (n a multiple of the micro-panel, up to
     * the strip), several strips a row (n = 1000), k past one block (600: accumulating strips), with the bias too.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void denseOperandsMatchScalar(boolean transA, boolean transB) {
        int nr = MicroKernel.NR;
        long seed = 40;
        for (int m : new int[] {1, 13, 207})
            for (int n : new int[] {nr, 2 * nr, VectorGemm.STRIP, VectorGemm.STRIP + nr, 1000})
                for (int k : new int[] {48, 600}) {
                    if (n == 1000 && k == 600) continue; // the scalar oracle is slow; several strips and several k blocks are each covered
                    float[] ab = GemmCheck.SCALES[(int) (seed % GemmCheck.SCALES.length)];
                    GemmCheck.check(new GemmCheck.Case(transA, transB, m, n, k, ab[0], ab[1], seed++, false, false, true), false, POOLED, SERIAL);
                    if (m == 207) GemmCheck.checkBias(new GemmCheck.Case(transA, transB, m, n, k, 1f, 0f, seed++, false, false, true), POOLED);
                }
    }

    /**
     * GELU in the epilogue: applied once, after the last k block (k = 600 spans two), to every tile of every strip
     * and part, with the bias or with beta; a small C with a long k (split along k) and an empty k take the
     * unfused path. The scalar GEMM's default (product, then GELU) is checked the same way.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void geluEpilogueMatchesTheProductThenGelu(boolean transA, boolean transB) {
        long seed = 70;
        int[][] shapes = {{207, 13, 48}, {13, 1000, 25}, {600, 192, 48}, {207, 2 * MicroKernel.NR, 600}, {48, 48, 20000}, {25, 13, 0}};
        for (int[] s : shapes)
            for (boolean dense : new boolean[] {false, true}) {
                float[] ab = GemmCheck.SCALES[(int) (seed % GemmCheck.SCALES.length)];
                GemmCheck.Case c = new GemmCheck.Case(transA, transB, s[0], s[1], s[2], ab[0], ab[1], seed++, false, false, dense);
                GemmCheck.checkGelu(c, false, POOLED, SERIAL, THREE_WAY, new ScalarGemm());
                GemmCheck.checkGelu(c, true, POOLED, SERIAL);
            }
    }

    /** Small C, long k: cut into k slices (on one thread as on several), beta and the bias only in the first. */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void longKIsSplitIntoSlicesAndStillMatchesScalar(boolean transA, boolean transB) {
        org.junit.jupiter.api.Assertions.assertEquals(3, KSplit.slices(37, 29, 6500));
        GemmCheck.check(new GemmCheck.Case(transA, transB, 37, 29, 6500, 0.75f, 0.5f, 5, false), false, POOLED, SERIAL, THREE_WAY);
        GemmCheck.check(new GemmCheck.Case(transA, transB, 48, 19, 9001, 1f, 0f, 6, false), true, POOLED, SERIAL);
        GemmCheck.checkBias(new GemmCheck.Case(transA, transB, 21, 40, 8200, 1f, 0f, 7, false), POOLED, SERIAL);
    }

    /**
     * A^T B with fewer rows than columns and a long k goes through its transpose (B^T A, computed as it is, then
     * transposed): the same bits as that product computed directly, on one thread and on three, and the scalar
     * oracle's numbers (NaN in C overwritten), also with operands whose rows abut (packed in one copy a block).
     */
    @Test
    void wideWeightGradientIsItsTransposeTransposed() {
        int[][] shapes = {{19, 100, 4100}, {48, 192, 8192}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            org.junit.jupiter.api.Assertions.assertTrue(TransposedProduct.pays(
                    new Operands(true, false, m, n, k, 1f, null, 0, m, null, 0, n, 0f, null, 0, n, null)));
            java.util.Random rnd = new java.util.Random(k);
            Arena arena = Arena.ofAuto();
            MemorySegment a = arena.allocate(4L * k * m), b = arena.allocate(4L * k * n);
            for (long i = 0; i < a.byteSize() / 4; i++) a.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            for (long i = 0; i < b.byteSize() / 4; i++) b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            MemorySegment direct = arena.allocate(4L * n * m);
            SERIAL.sgemm(true, false, n, m, k, 1f, b, 0, n, a, 0, m, 0f, direct, 0, m);
            for (Gemm g : new Gemm[] {POOLED, SERIAL, THREE_WAY}) {
                MemorySegment c = arena.allocate(4L * m * n);
                g.sgemm(true, false, m, n, k, 1f, a, 0, m, b, 0, n, 0f, c, 0, n);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        org.junit.jupiter.api.Assertions.assertEquals(
                                Float.floatToRawIntBits(direct.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) j * m + i)),
                                Float.floatToRawIntBits(c.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) i * n + j)),
                                "C[" + i + "][" + j + "] of " + java.util.Arrays.toString(s));
            }
            GemmCheck.check(new GemmCheck.Case(true, false, m, n, k, 1f, 0f, k, false), true, POOLED, SERIAL, THREE_WAY);
            GemmCheck.check(new GemmCheck.Case(true, false, m, n, k, 1f, 0f, k + 1, false, false, true), true, POOLED, SERIAL);
        }
    }

    /**
     * Row parts read one packed copy of B (VectorGemm.sharingB), its (jc, pc) blocks one after another: k in two blocks
     * and n with a ragged micro-panel against the scalar oracle, each storage order; and n past one block of columns
     * (two jc blocks, B just under the shared limit) with the bits of one thread, which packs its own blocks.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void rowPartsShareOnePackedB(boolean transA, boolean transB) {
        GemmCheck.check(new GemmCheck.Case(transA, transB, 800, 100, 600, 1f, 0.5f, 91, false), false, POOLED, THREE_WAY);
        int m = 1200, n = VectorGemm.NC + 28, k = 600;
        org.junit.jupiter.api.Assertions.assertTrue((long) (n + MicroKernel.NR) * k <= VectorGemm.SHARED_B_FLOATS, "B is shared");
        java.util.Random rnd = new java.util.Random(92);
        Arena arena = Arena.ofAuto();
        MemorySegment a = arena.allocate(4L * m * k), b = arena.allocate(4L * k * n), c1 = arena.allocate(4L * m * n), c3 = arena.allocate(4L * m * n);
        for (long i = 0; i < a.byteSize() / 4; i++) a.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
        for (long i = 0; i < b.byteSize() / 4; i++) b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
        int lda = transA ? m : k, ldb = transB ? k : n;
        SERIAL.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c1, 0, n);
        THREE_WAY.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c3, 0, n);
        org.junit.jupiter.api.Assertions.assertEquals(-1L, c1.mismatch(c3), "bits differ between 1 and 3 threads");
    }

    /**
     * Products called from the GEMM's own pool's tasks (a batch of products, each split into row parts that the
     * waiting worker's join may interleave with another product of the batch): each keeps its own packed B, so every
     * result has the bits of the product computed alone on one thread.
     */
    @Test
    void productsCalledFromThePoolsOwnTasksKeepTheirOwnPackedB() {
        int m = 800, n = 100, k = 200, count = 12;
        java.util.Random rnd = new java.util.Random(93);
        Arena arena = Arena.ofAuto();
        MemorySegment a = arena.allocate(4L * m * k);
        for (long i = 0; i < a.byteSize() / 4; i++) a.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
        MemorySegment[] b = new MemorySegment[count], c = new MemorySegment[count], want = new MemorySegment[count];
        for (int q = 0; q < count; q++) {
            b[q] = arena.allocate(4L * n * k);
            for (long i = 0; i < b[q].byteSize() / 4; i++) b[q].setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            c[q] = arena.allocate(4L * m * n);
            want[q] = arena.allocate(4L * m * n);
            SERIAL.sgemm(false, true, m, n, k, 1f, a, 0, k, b[q], 0, k, 0f, want[q], 0, n);
        }
        for (int round = 0; round < 20; round++) {
            java.util.List<java.util.concurrent.Callable<Void>> batch = new java.util.ArrayList<>();
            for (int q = 0; q < count; q++) {
                int at = q;
                batch.add(() -> {
                    THREE_WAY.sgemm(false, true, m, n, k, 1f, a, 0, k, b[at], 0, k, 0f, c[at], 0, n);
                    return null;
                });
            }
            THREE.submit(() -> java.util.concurrent.ForkJoinTask.invokeAll(batch.stream().map(java.util.concurrent.ForkJoinTask::adapt).toList())).join();
            for (int q = 0; q < count; q++)
                org.junit.jupiter.api.Assertions.assertEquals(-1L, want[q].mismatch(c[q]), "round " + round + ", product " + q);
        }
    }

    /**
     * A weight's gradient with its bias's (sgemmColumnSums): C has sgemm's bits, and the sums of A's columns equal a
     * double sum within float rounding and are the same bits on 1 and 3 threads. Shapes: one block (small), row parts,
     * parts split along n (k short, wide), cut along k (m > n, 3 slices), its transpose (m &lt; n, k long: the sums come
     * from B's panels), a shared B, and n = 0 and k = 0 (nothing to pack: the sums alone).
     */
    @Test
    void columnSumsBesideTheProductAreASums() {
        int[][] shapes = {{5, 7, 9}, {800, 100, 300}, {64, 4000, 40}, {100, 30, 6500}, {48, 192, 8192}, {19, 100, 4100}, {7, 0, 33}, {7, 5, 0}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2], ld = Math.max(1, n);
            java.util.Random rnd = new java.util.Random(m + 31L * k);
            Arena arena = Arena.ofAuto();
            MemorySegment a = arena.allocate(4L * Math.max(1, k * m)), b = arena.allocate(4L * Math.max(1, k * n));
            for (long i = 0; i < (long) k * m; i++) a.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.3f);
            for (long i = 0; i < (long) k * n; i++) b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            MemorySegment want = arena.allocate(4L * Math.max(1, m * n));
            SERIAL.sgemm(true, false, m, n, k, 1f, a, 0, m, b, 0, ld, 0f, want, 0, ld);
            MemorySegment first = null;
            for (Gemm g : new Gemm[] {SERIAL, THREE_WAY, POOLED}) {
                MemorySegment c = arena.allocate(4L * Math.max(1, m * n)), sums = arena.allocate(4L * (m + 2));
                sums.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, m + 1, 42f);
                g.sgemmColumnSums(m, n, k, a, 0, m, b, 0, ld, c, 0, ld, sums, 1);
                org.junit.jupiter.api.Assertions.assertEquals(-1L, want.mismatch(c), "C of " + java.util.Arrays.toString(s));
                for (int i = 0; i < m; i++) {
                    double exact = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        float v = a.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) p * m + i);
                        exact += v;
                        mag += Math.abs(v);
                    }
                    float got = sums.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 1 + i);
                    org.junit.jupiter.api.Assertions.assertEquals(exact, got, 1e-6 * mag + Math.ulp((float) exact), "sum " + i + " of " + java.util.Arrays.toString(s));
                }
                org.junit.jupiter.api.Assertions.assertEquals(42f, sums.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, m + 1), "past the sums");
                if (first == null) first = sums;
                else org.junit.jupiter.api.Assertions.assertEquals(-1L, first.mismatch(sums), "sums differ between thread counts at " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void sumsDoNotDependOnTheThreadCount() {
        for (int[] s : new int[][] {{37, 29, 6500}, {207, 207, 207}}) {
            java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofAuto();
            java.util.Random rnd = new java.util.Random(s[2]);
            MemorySegment a = arena.allocate(4L * s[0] * s[2]), b = arena.allocate(4L * s[2] * s[1]);
            for (long i = 0; i < a.byteSize() / 4; i++) a.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            for (long i = 0; i < b.byteSize() / 4; i++) b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            MemorySegment c1 = arena.allocate(4L * s[0] * s[1]), c3 = arena.allocate(4L * s[0] * s[1]);
            SERIAL.sgemm(false, false, s[0], s[1], s[2], 1f, a, 0, s[2], b, 0, s[1], 0f, c1, 0, s[1]);
            THREE_WAY.sgemm(false, false, s[0], s[1], s[2], 1f, a, 0, s[2], b, 0, s[1], 0f, c3, 0, s[1]);
            org.junit.jupiter.api.Assertions.assertEquals(-1L, c1.mismatch(c3), "bits differ between 1 and 3 threads at " + java.util.Arrays.toString(s));
        }
    }

    @Test
    void oneAndThreeThreadsMatchScalar() {
        for (int[] s : new int[][] {{207, 207, 207}, {25, 1000, 13}, {1000, 25, 13}, {9, 9, 300}}) {
            GemmCheck.Case c = new GemmCheck.Case(false, false, s[0], s[1], s[2], 1f, 1f, 5, false);
            GemmCheck.check(c, false, SERIAL, THREE_WAY);
        }
    }

    @Test
    void confinedSegmentsStayOnTheCallingThread() {
        GemmCheck.check(POOLED, new GemmCheck.Case(false, false, 207, 207, 207, 1f, 0f, 6, false, true));
    }

    @Test
    void heapSegments() {
        GemmCheck.check(POOLED, new GemmCheck.Case(false, true, 207, 25, 13, 0.5f, 1f, 3, true));
        GemmCheck.check(POOLED, new GemmCheck.Case(true, false, 13, 207, 25, 1f, 0f, 4, true));
    }

    @Test
    void betaZeroOverwritesNaN() {
        GemmCheck.check(new GemmCheck.Case(false, false, 25, 207, 13, 1f, 0f, 9, false), true, POOLED);
        GemmCheck.check(new GemmCheck.Case(true, true, 207, 13, 300, 2f, 0f, 10, false), true, POOLED);
    }

    @Test
    void alphaZeroOnlyScales() {
        GemmCheck.check(POOLED, new GemmCheck.Case(false, false, 13, 25, 207, 0f, 0.5f, 11, false));
        GemmCheck.check(new GemmCheck.Case(false, false, 13, 25, 207, 0f, 0f, 12, false), true, POOLED);
    }

    @Test
    void rejectsBadArguments() {
        MemorySegment s = Arena.ofAuto().allocate(4L * 100);
        // lda 4 < k 5; C at offset 1 runs one float past 100; m negative.
        assertThrows(IllegalArgumentException.class,
                () -> POOLED.sgemm(false, false, 5, 5, 5, 1f, s, 0, 4, s, 0, 5, 0f, s, 0, 5));
        assertThrows(IndexOutOfBoundsException.class,
                () -> POOLED.sgemm(false, false, 10, 10, 10, 1f, s, 0, 10, s, 0, 10, 0f, s, 1, 10));
        assertThrows(IllegalArgumentException.class,
                () -> POOLED.sgemm(false, false, -1, 5, 5, 1f, s, 0, 5, s, 0, 5, 0f, s, 0, 5));
    }
}
