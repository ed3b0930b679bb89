package mobyc.compiler.fuse;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Folds a GELU into the GEMM before it: {@code gelu(matmul(a, b[, c]))} becomes {@code matmul(a, b[, c])} with
 * activation gelu, which a backend applies to each block of C as it stores it, so the product is not written,
 * read back and written again. That is the first Linear of every MLP whose pre-activation nothing else reads: in a
 * training program, the target (EMA) encoder's, which has no backward (the online encoder's backward reads the
 * pre-activation for GELU's derivative, so its product stays as it is).
 * Preconditions: a float matmul without an activation, read only by the gelu, and not a graph output or state update.
 * Runs after autodiff (a matmul with an activation has no gradient rule).
 */
public final class Activations {
    private Activations() {}

    public static Graph run(Graph g) {
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Set<Node> folded = new HashSet<>(); // the gelus whose matmul takes them
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.Unary u) || u.fn() != Op.UnaryFn.GELU) continue;
            Node k = n.input(0);
            if (k.op() instanceof Op.MatMul m && m.activation() == Op.Activation.NONE && k.dtype() == DType.F32
                    && readers.get(k) == 1 && !results.contains(k)) folded.add(n);
        }
        if (folded.isEmpty()) return g;
        Set<Node> absorbed = new HashSet<>(); // their matmuls: rebuilt where the gelu was
        for (Node f : folded) absorbed.add(f.input(0));
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            if (folded.contains(n)) {
                Node k = n.input(0);
                Op.MatMul m = (Op.MatMul) k.op();
                map.put(n, b.at(n.loc()).add(new Op.MatMul(m.transA(), m.transB(), Op.Activation.GELU),
                        k.inputs().stream().map(map::get).toList(), null, null));
            } else if (!absorbed.contains(n)) {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }
}
