package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Gemms;
import org.junit.jupiter.api.Test;

/** Choosing an sgemm: by name, by default, and the error for an unknown name. */
class GemmsTest {
    @Test
    void namesResolve() {
        assertEquals("scalar", Gemms.named("scalar").name());
        assertEquals("vector", Gemms.named("vector").name());
        Gemms.openblas().ifPresent(g -> assertEquals("openblas", Gemms.named("openblas").name()));
        Gemms.openblas().ifPresent(g -> assertEquals("sized", Gemms.named("sized").name()));
    }

    /** Products OpenBLAS cuts along k (small C, long k) go to the sliced gemm, every other one to the tiled gemm. */
    @Test
    void sizedSplitsByShape() {
        java.util.List<String> calls = new java.util.ArrayList<>();
        Gemm tiled = recorder("tiled", calls), sliced = recorder("sliced", calls);
        SizedGemm g = new SizedGemm(tiled, sliced);
        java.lang.foreign.MemorySegment none = java.lang.foreign.MemorySegment.NULL;
        g.sgemm(true, false, 48, 144, 16384, 1f, none, 0, 48, none, 0, 144, 0f, none, 0, 144);   // a weight gradient
        g.sgemm(false, true, 16384, 144, 48, 1f, none, 0, 48, none, 0, 48, 0f, none, 0, 144);    // the forward product
        g.sgemm(true, false, 48, 144, 1024, 1f, none, 0, 48, none, 0, 144, 0f, none, 0, 144);    // k too short to cut
        assertEquals(java.util.List.of("sliced", "tiled", "tiled"), calls);
    }

    private static Gemm recorder(String name, java.util.List<String> calls) {
        return new Gemm() {
            @Override public String name() { return name; }
            @Override public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, java.lang.foreign.MemorySegment a, long ao, int lda,
                                        java.lang.foreign.MemorySegment b, long bo, int ldb, float beta, java.lang.foreign.MemorySegment c, long co, int ldc) {
                calls.add(name);
            }
        };
    }

    @Test
    void bestIsChosenOnceAndSplitsBySizeWhenBothKernelsExist() {
        assertNotNull(Gemms.best());
        assertTrue(Gemms.best() == Gemms.best());
        if (System.getProperty(Gemms.PROPERTY) == null && Gemms.openblas().isPresent())
            assertEquals("sized", Gemms.best().name(), "the build adds jdk.incubator.vector to tests");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gemms.named("cublas"));
        assertTrue(e.getMessage().contains("sized, vector, openblas, scalar"), e.getMessage());
    }
}
