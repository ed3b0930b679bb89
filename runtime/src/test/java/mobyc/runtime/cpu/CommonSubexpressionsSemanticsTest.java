package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.CommonSubexpressions;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The cse pass keeps the numbers bit for bit: a training BatchNorm written as the nn.moby module writes it (the batch
 * mean three times, (x - mean)^2 twice), a per-sample random mask drawn twice from one stream, with the gradients:
 * interp before and after the pass, and cpu with and without it, give the same bits (merged nodes computed the same
 * values), and cpu equals interp within its tolerance.
 */
class CommonSubexpressionsSemanticsTest {
    private static Graph batchNorm() {
        GraphBuilder b = new GraphBuilder("bn");
        Node x = b.input("x", DType.F32, Shape.of(Dim.sym("B"), Dim.of(24)));
        Node w = b.param("w", DType.F32, Shape.of(24), new Init.Normal(1, 0.3));
        Node mean = b.reduce(Op.ReduceFn.MEAN, x, new int[] {0}, true);
        Node d1 = b.sub(x, b.reduce(Op.ReduceFn.MEAN, x, new int[] {0}, true));
        Node var = b.reduce(Op.ReduceFn.MEAN, b.mul(d1, d1), new int[] {0}, true);
        Node d2 = b.sub(x, b.reduce(Op.ReduceFn.MEAN, x, new int[] {0}, true));
        Node unbiased = b.reduce(Op.ReduceFn.MEAN, b.mul(d2, d2), new int[] {0}, true);
        Node y = b.mul(b.mul(b.sub(x, mean), b.unary(Op.UnaryFn.RSQRT, b.add(var, b.constant(1e-5, DType.F32)))), w);
        Node keep = b.mul(b.random(Shape.of(Dim.of(24)), 7), b.random(Shape.of(Dim.of(24)), 7));
        Node z = b.mul(y, keep);
        b.output("unbiased", unbiased);
        b.output("loss", b.reduce(Op.ReduceFn.MEAN, b.mul(z, z), new int[] {0, 1}, false));
        return Autodiff.differentiate(b.build(), "loss");
    }

    @Test
    void mergingRepeatsKeepsEveryBit() {
        Graph g = batchNorm(), rewritten = CommonSubexpressions.run(g);
        assertTrue(rewritten.nodes().size() < g.nodes().size(), "the pass fired: " + g.nodes().size() + " -> " + rewritten.nodes().size());
        Map<String, Tensor> in = Map.of("x", Diff.randn(5, 16, 24));
        RunContext ctx = new RunContext(3, 2);
        Map<String, Tensor> before = Backends.select("interp").compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 4), ctx);
        Map<String, Tensor> after = Backends.select("interp").compile(Lower.lower(rewritten)).run(in, ParameterStore.initialise(g, 4), ctx);
        Map<String, Tensor> cpu = new CpuBackend(Gemms.best()).compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 4), ctx);
        Map<String, Tensor> cpuWithout = Pipeline.withSkipped(List.of("cse"), () ->
                new CpuBackend(Gemms.best()).compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 4), ctx));
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) {
            assertBits("interp " + name, before.get(name), after.get(name));
            assertBits("cpu " + name, cpuWithout.get(name), cpu.get(name));
            Diff.assertClose("cpu " + name, before.get(name), cpu.get(name), 2e-5, 1e-6);
        }
    }

    private static void assertBits(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.numel(), actual.numel(), what);
        for (long i = 0; i < expected.numel(); i++)
            assertEquals(Float.floatToRawIntBits(expected.getFloat(i)), Float.floatToRawIntBits(actual.getFloat(i)), what + ": element " + i);
    }
}
