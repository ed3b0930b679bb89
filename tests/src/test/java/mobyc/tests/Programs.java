package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/** Test helpers: build graphs from .moby, add a weighted-sum loss, run them on interp. */
final class Programs {
    private Programs() {}

    static Graph build(Path file, String entry, Map<String, Value> sets, boolean training) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(file), d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request(entry, "forward", sets, training));
        assertTrue(!d.hasErrors(), d::format);
        assertNotNull(b);
        return b.graph();
    }

    static Graph buildSource(String name, String source, String entry, boolean training) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.loadSource(name, source, d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request(entry, "forward", Map.of(), training));
        assertTrue(!d.hasErrors(), () -> source + d.format());
        assertNotNull(b);
        return b.graph();
    }

    /** The graph plus an input {@code w} shaped like output {@code out} and an output "loss" = sum(out * w). */
    static Graph withWeightedSumLoss(Graph g) {
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> copy = b.copyAll(g);
        Node out = copy.get(g.outputs().get("out"));
        Node w = b.input("w", DType.F32, out.shape());
        int[] all = new int[out.shape().rank()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        Node loss = all.length == 0 ? b.mul(out, w) : b.reduce(Op.ReduceFn.SUM, b.mul(out, w), all, false);
        g.outputs().forEach((k, v) -> b.output(k, copy.get(v)));
        g.updates().forEach((k, v) -> b.update(k, copy.get(v)));
        b.output("loss", loss);
        return b.build();
    }

    static Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs, ParameterStore store) {
        return Backends.select("interp").compile(Lower.lower(g)).run(inputs, store, new RunContext(0, 0));
    }
}
