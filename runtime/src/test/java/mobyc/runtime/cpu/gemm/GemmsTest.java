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

    /** Products from SizedGemm.LARGE (2^28) multiply-adds go to the large kernel, smaller ones to the small one. */
    @Test
    void sizedSplitsBySize() {
        java.util.List<String> calls = new java.util.ArrayList<>();
        Gemm large = recorder("large", calls), small = recorder("small", calls);
        SizedGemm g = new SizedGemm(large, small);
        java.lang.foreign.MemorySegment none = java.lang.foreign.MemorySegment.NULL;
        g.sgemm(false, false, 65536, 64, 64, 1f, none, 0, 64, none, 0, 64, 0f, none, 0, 64);   // exactly LARGE
        g.sgemm(false, false, 65535, 64, 64, 1f, none, 0, 64, none, 0, 64, 0f, none, 0, 64);   // just below
        assertEquals(java.util.List.of("large", "small"), calls);
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
