package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** cblas_sgemm through FFM against the scalar oracle; skipped where libopenblas is absent. */
class OpenBlasGemmTest {
    private static Optional<OpenBlasGemm> blas;

    @BeforeAll static void load() { blas = OpenBlasGemm.load(); }

    private static OpenBlasGemm blas() {
        assumeTrue(blas.isPresent(), "libopenblas not found (set -D" + OpenBlasGemm.PROPERTY + "=PATH)");
        return blas.get();
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void tailsMatchScalar(boolean transA, boolean transB) {
        GemmCheck.tailGrid(transA, transB, blas());
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void mixedShapesMatchScalar(boolean transA, boolean transB) {
        GemmCheck.mixed(transA, transB, blas());
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void biasThroughTheDefaultMatchesScalar(boolean transA, boolean transB) {
        GemmCheck.biasGrid(transA, transB, blas());
    }

    @Test
    void heapSegmentsGoThroughTheCriticalDowncall() {
        GemmCheck.check(blas(), new GemmCheck.Case(false, true, 207, 25, 13, 0.5f, 1f, 3, true));
        GemmCheck.check(blas(), new GemmCheck.Case(true, false, 13, 207, 25, 1f, 0f, 4, true));
    }

    @ParameterizedTest(name = "transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void longKIsSplitIntoSlicesAndStillMatchesScalar(boolean transA, boolean transB) {
        assertEquals(3, KSplit.slices(37, 29, 6500));
        GemmCheck.check(blas(), new GemmCheck.Case(transA, transB, 37, 29, 6500, 0.75f, 0.5f, 5, false));
        GemmCheck.check(blas(), new GemmCheck.Case(transA, transB, 48, 19, 9001, 1f, 0f, 6, false));
    }

    @Test
    void betaZeroOverwritesNaN() {
        GemmCheck.check(new GemmCheck.Case(false, false, 25, 207, 13, 1f, 0f, 9, false), true, blas());
    }

    @Test
    void missingLibraryIsEmptyNotAnError() {
        String old = System.getProperty(OpenBlasGemm.PROPERTY);
        System.setProperty(OpenBlasGemm.PROPERTY, "/nonexistent/libopenblas.so");
        try {
            assertTrue(OpenBlasGemm.load().isEmpty());
            System.setProperty(OpenBlasGemm.PROPERTY, "libno-such-blas.so");
            assertTrue(OpenBlasGemm.load().isEmpty());
        } finally {
            if (old == null) System.clearProperty(OpenBlasGemm.PROPERTY);
            else System.setProperty(OpenBlasGemm.PROPERTY, old);
        }
    }
}
