package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import mobyc.compiler.ir.Graph;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;



/**
 * Every op of interp against PyTorch: each case of golden/ops/manifest.json is a .moby expression over inputs
 * x0, x1, ...; it is compiled through the whole front end and run on interp, then compared to PyTorch's output.
 */
class OpGoldenTest {
    static final double TOLERANCE = 1e-5;

    @TestFactory
    List<DynamicTest> everyOpMatchesPyTorch() {
        List<OpCase> cases = OpCase.all();
        assertTrue(cases.size() >= 60, "manifest has only " + cases.size() + " cases");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> run(c))).toList();
    }

    private static void run(OpCase c) {
        Graph g = Programs.buildSource(c.name() + ".moby", c.source(), "main", false);
        Tensor out = Programs.run(g, c.inputs(), ParameterStore.initialise(g, 0)).get("out");
        Golden.assertClose(out, c.expected(), TOLERANCE, c.toString());
    }
}
