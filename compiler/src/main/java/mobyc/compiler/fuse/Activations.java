package mobyc.compiler.fuse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Folds a GELU, or the gradient through one, into the GEMM before it, which a backend applies to each block of C as
 * it stores it, so the product is not written, read back and written again:
 * <ul>
 *   <li>{@code gelu(matmul(a, b[, c]))} becomes {@code matmul(a, b[, c])} with activation gelu: the first Linear of
 *       every MLP whose pre-activation nothing else reads; in a training program, the target (EMA) encoder's, which
 *       has no backward (the online encoder's backward reads the pre-activation for GELU's derivative).</li>
 *   <li>{@code mul(matmul(a, b[, c]), dgelu(h))} (either order) becomes {@code matmul(a, b[, c], h)} with activation
 *       dgelu_gate: the gradient through every MLP's GELU, {@code dgelu(h) * (dy @ w2)}.</li>
 * </ul>
 * Preconditions: a float matmul without an activation, read only by the gelu or mul, of the result's exact shape;
 * the dgelu read only by the mul; none of them a graph output or state update. Runs after autodiff (a matmul with
 * an activation has no gradient rule).
 */
public final class Activations {
    private Activations() {}

    /** What replaces a gelu or mul: its {@code product} rebuilt with {@code activation}, the gate (or null) appended. */
    private record Fold(Node product, Op.Activation activation, Node gate) {}

    public static Graph run(Graph g) {
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, Fold> folds = new HashMap<>();
        Set<Node> absorbed = new HashSet<>(); // rebuilt where the node that read them was
        for (Node n : g.nodes()) {
            if (n.op() instanceof Op.Unary u && u.fn() == Op.UnaryFn.GELU && foldable(n.input(0), n, readers, results)) {
                folds.put(n, new Fold(n.input(0), Op.Activation.GELU, null));
                absorbed.add(n.input(0));
            } else if (n.op() instanceof Op.Binary bin && bin.fn() == Op.BinaryFn.MUL) {
                for (int side = 0; side < 2; side++) {
                    Node k = n.input(side), d = n.input(1 - side);
                    if (foldable(k, n, readers, results) && d.op() instanceof Op.Unary du && du.fn() == Op.UnaryFn.DGELU
                            && readers.get(d) == 1 && !results.contains(d) && d.shape().equals(n.shape()) && d.dtype() == DType.F32) {
                        folds.put(n, new Fold(k, Op.Activation.DGELU_GATE, d.input(0)));
                        absorbed.add(k);
                        absorbed.add(d);
                        break;
                    }
                }
            }
        }
        if (folds.isEmpty()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            Fold f = folds.get(n);
            if (f != null) {
                Op.MatMul m = (Op.MatMul) f.product().op();
                List<Node> ins = new ArrayList<>(f.product().inputs().stream().map(map::get).toList());
                if (f.gate() != null) ins.add(map.get(f.gate()));
                map.put(n, b.at(n.loc()).add(new Op.MatMul(m.transA(), m.transB(), f.activation()), ins, null, null));
            } else if (!absorbed.contains(n)) {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    /** Whether {@code k} is a float matmul without an activation that only {@code reader} reads, of its shape. */
    private static boolean foldable(Node k, Node reader, Map<Node, Integer> readers, Set<Node> results) {
        return k.op() instanceof Op.MatMul m && m.activation() == Op.Activation.NONE && k.dtype() == DType.F32
                && readers.get(k) == 1 && !results.contains(k) && k.shape().equals(reader.shape());
    }
}
