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
    }

    @Test
    void bestIsChosenOnceAndIsTheVectorKernel() {
        assertNotNull(Gemms.best());
        assertTrue(Gemms.best() == Gemms.best());
        if (System.getProperty(Gemms.PROPERTY) == null)
            assertEquals("vector", Gemms.best().name(), "the build adds jdk.incubator.vector to tests");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gemms.named("cublas"));
        assertTrue(e.getMessage().contains("vector, openblas, scalar"), e.getMessage());
    }
}
