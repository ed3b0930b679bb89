package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Backend;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class CpuBackendTest {
    @Test
    void registeredAvailableAndTheDefaultByRank() {
        Backend cpu = Backends.select("cpu");
        assertInstanceOf(CpuBackend.class, cpu);
        assertEquals(10, cpu.rank());
        assertTrue(cpu.isAvailable());
        assertTrue(CpuBackend.vectorApiPresent(), "the build runs tests with --add-modules jdk.incubator.vector");
        if (System.getProperty(Backends.PROPERTY) == null) assertEquals("cpu", Backends.select(null).name());
        assertEquals("interp", Backends.select("interp").name(), "interp stays selectable by name");
    }

    /** Without the Vector API the backend still runs everything, on the interp kernels: the same bits as interp. */
    @Test
    void withoutTheVectorApiEveryKernelRunsOnInterp() {
        Graph g = CpuExecutableTest.training();
        Program p = Lower.lower(g);
        CpuExecutable scalar = new CpuExecutable(p, Gemms.scalar(), false);
        assertEquals(p.kernels().size(), scalar.fallbackCount());
        ParameterStore a = ParameterStore.initialise(g, 5), b = ParameterStore.initialise(g, 5);
        Map<String, Tensor> in = Map.of("x", Diff.randn(1, 2, 13, 24), "labels", Diff.randint(1, 5, 2));
        RunContext ctx = new RunContext(2, 3);
        Map<String, Tensor> expected = Backends.select("interp").compile(p).run(in, a, ctx), actual = scalar.run(in, b, ctx);
        expected.forEach((name, t) -> assertEquals(java.util.Arrays.toString(t.toFloatArray()), java.util.Arrays.toString(actual.get(name).toFloatArray()), name));
    }
}
