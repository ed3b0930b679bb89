package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.Identities;
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
 * The identities pass keeps the numbers: a pad-to-the-window / crop-back with zero padding around a shifted block
 * (partitioned into one window: a permute of unit axes),
 * with its gradients, gives the same values on interp before and after the pass, and on cpu (which runs it).
 */
class IdentitiesSemanticsTest {
    private static Graph block() {
        GraphBuilder b = new GraphBuilder("block");
        Node x = b.input("x", DType.F32, Shape.of(Dim.sym("B"), Dim.of(8), Dim.of(8), Dim.of(4)));
        Node w = b.param("w", DType.F32, Shape.of(4, 4), new Init.Normal(0, 0.5));
        Node padded = b.pad(x, new long[] {0, 0, 0, 0}, new long[] {0, 0, 0, 0}, 0);
        Node shifted = b.roll(b.roll(padded, new int[] {-2, -2}, new int[] {1, 2}), new int[] {8}, new int[] {1});
        Dim batch = Dim.sym("B"), one = Dim.of(1), eight = Dim.of(8), four = Dim.of(4);
        Node windows = b.permute(b.reshape(shifted, Shape.of(batch, one, eight, one, eight, four)), 0, 1, 3, 2, 4, 5); // one window
        Node y = b.unary(Op.UnaryFn.GELU, b.matmul(b.reshape(windows, Shape.of(batch, eight, eight, four)), w));
        Node cropped = b.slice(b.slice(b.roll(y, new int[] {2, 2}, new int[] {1, 2}), 1, 0, 8, 1), 2, 0, 8, 1);
        Node out = b.add(cropped, x);
        b.output("y", out);
        b.output("loss", b.reduce(Op.ReduceFn.MEAN, b.mul(out, out), new int[] {0, 1, 2, 3}, false));
        return Autodiff.differentiate(b.build(), "loss");
    }

    @Test
    void removingIdentitiesKeepsValuesAndGradients() {
        Graph g = block(), rewritten = Identities.run(g);
        long before = g.nodes().stream().filter(n -> n.op() instanceof Op.Slice || n.op() instanceof Op.Pad).count();
        long after = rewritten.nodes().stream().filter(n -> n.op() instanceof Op.Slice || n.op() instanceof Op.Pad).count();
        assertTrue(after < before, "the pass fired: " + before + " -> " + after + " slices and pads");
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof Op.Permute), "the window permute and its gradient");
        assertTrue(rewritten.nodes().stream().noneMatch(n -> n.op() instanceof Op.Permute), "both became reshapes");
        Map<String, Tensor> in = Map.of("x", Diff.randn(3, 2, 8, 8, 4));
        ParameterStore s1 = ParameterStore.initialise(g, 9), s2 = ParameterStore.initialise(g, 9), s3 = ParameterStore.initialise(g, 9);
        RunContext ctx = new RunContext(1, 0);
        Map<String, Tensor> reference = Backends.select("interp").compile(Lower.lower(g)).run(in, s1, ctx);
        Map<String, Tensor> interp = Backends.select("interp").compile(Lower.lower(rewritten)).run(in, s2, ctx);
        Map<String, Tensor> cpu = new CpuBackend(Gemms.best()).compile(Lower.lower(g)).run(in, s3, ctx);
        for (String name : List.copyOf(reference.keySet())) {
            Diff.assertClose("interp rewritten " + name, reference.get(name), interp.get(name), 0, 0);
            Diff.assertClose("cpu " + name, reference.get(name), cpu.get(name), 2e-5, 1e-6);
        }
    }
}
