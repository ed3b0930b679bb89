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
import mobyc.compiler.ir.ShapeRules;

/**
 * Folds a GELU, the gradient through one, or a residual connection into the GEMM before it, which a backend applies
 * to each block of C as it stores it, so the product is not written, read back and written again:
 * <ul>
 *   <li>{@code gelu(matmul(a, b[, c]))} becomes {@code matmul(a, b[, c])} with activation gelu: the first Linear of
 *       every MLP whose pre-activation nothing else reads; in a training program, the target (EMA) encoder's, which
 *       has no backward (the online encoder's backward reads the pre-activation for GELU's derivative).</li>
 *   <li>{@code mul(matmul(a, b[, c]), dgelu(h))} (either order) becomes {@code matmul(a, b[, c], h)} with activation
 *       dgelu_gate: the gradient through every MLP's GELU, {@code dgelu(h) * (dy @ w2)}.</li>
 *   <li>{@code add(matmul(a, b[, c]), r)} (either order), r of the result's shape, becomes {@code matmul(a, b[, c], r)}
 *       with activation residual: a transformer block's skip connection after its attention projection or second MLP
 *       Linear, whose bias is already the addend (the epilogues pass folds r itself as the addend of a product without
 *       one). The GEMM reads r's block as it stores its own: the product is never read back.</li>
 *   <li>{@code add(mul(matmul(a, b[, c]), s), r)} (any order), s of shape [d0, 1, ..., 1], becomes
 *       {@code matmul(a, b[, c], s, r)} with activation scaled_residual: the same through stochastic depth (s each
 *       sample's 0 or 1 / keep).</li>
 * </ul>
 * Preconditions: a float matmul without an activation, read only by the gelu, mul or add, of the result's exact
 * shape; the dgelu, or the mul by s, read only by the node that folds; none of them a graph output or state update.
 * Runs after autodiff (a matmul with an activation has no gradient rule).
 */
public final class Activations {
    private Activations() {}

    /** What replaces a gelu, mul or add: its {@code product} rebuilt with {@code activation}, its {@code extras} appended. */
    private record Fold(Node product, Op.Activation activation, List<Node> extras) {}

    public static Graph run(Graph g) {
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, Fold> folds = new HashMap<>();
        Set<Node> absorbed = new HashSet<>(); // rebuilt where the node that read them was
        for (Node n : g.nodes()) {
            if (n.op() instanceof Op.Unary u && u.fn() == Op.UnaryFn.GELU && foldable(n.input(0), n, readers, results)) {
                folds.put(n, new Fold(n.input(0), Op.Activation.GELU, List.of()));
                absorbed.add(n.input(0));
            } else if (n.op() instanceof Op.Binary bin && bin.fn() == Op.BinaryFn.MUL) {
                for (int side = 0; side < 2; side++) {
                    Node k = n.input(side), d = n.input(1 - side);
                    if (foldable(k, n, readers, results) && d.op() instanceof Op.Unary du && du.fn() == Op.UnaryFn.DGELU
                            && readers.get(d) == 1 && !results.contains(d) && d.shape().equals(n.shape()) && d.dtype() == DType.F32) {
                        folds.put(n, new Fold(k, Op.Activation.DGELU_GATE, List.of(d.input(0))));
                        absorbed.add(k);
                        absorbed.add(d);
                        break;
                    }
                }
            } else if (n.op() instanceof Op.Binary bin && bin.fn() == Op.BinaryFn.ADD && n.dtype() == DType.F32) {
                residual(n, readers, results, folds, absorbed);
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
                for (Node e : f.extras()) ins.add(map.get(e));
                map.put(n, b.at(n.loc()).add(new Op.MatMul(m.transA(), m.transB(), f.activation()), ins, null, null));
            } else if (!absorbed.contains(n)) {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    /** {@code add} (of float values) as a residual epilogue of the product it adds, if it is one (see the class comment). */
    private static void residual(Node add, Map<Node, Integer> readers, Set<Node> results, Map<Node, Fold> folds, Set<Node> absorbed) {
        for (int side = 0; side < 2; side++) {
            Node k = add.input(side), r = add.input(1 - side);
            if (r == k || !r.shape().equals(add.shape()) || r.dtype() != DType.F32) continue;
            if (foldable(k, add, readers, results)) {
                folds.put(add, new Fold(k, Op.Activation.RESIDUAL, List.of(r)));
                absorbed.add(k);
                return;
            }
            if (!(k.op() instanceof Op.Binary mul && mul.fn() == Op.BinaryFn.MUL) || readers.get(k) != 1 || results.contains(k)
                    || !k.shape().equals(add.shape()))
                continue;
            for (int m = 0; m < 2; m++) {
                Node p = k.input(m), s = k.input(1 - m);
                if (foldable(p, k, readers, results) && s != p && s.dtype() == DType.F32 && ShapeRules.isLeadingScale(s.shape(), add.shape())) {
                    folds.put(add, new Fold(p, Op.Activation.SCALED_RESIDUAL, List.of(s, r)));
                    absorbed.add(p);
                    absorbed.add(k);
                    return;
                }
            }
        }
    }

    /** Whether {@code k} is a float matmul without an activation that only {@code reader} reads, of its shape. */
    private static boolean foldable(Node k, Node reader, Map<Node, Integer> readers, Set<Node> results) {
        return k.op() instanceof Op.MatMul m && m.activation() == Op.Activation.NONE && k.dtype() == DType.F32
                && readers.get(k) == 1 && !results.contains(k) && k.shape().equals(reader.shape());
    }
}
