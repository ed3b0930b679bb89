package mobyc.compiler.fuse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Folds an addition into the kernel before it, whose epilogue then adds as it writes:
 * <ul>
 *   <li>{@code add(matmul(a, b), c)} (either order) becomes {@code matmul(a, b, c)}, which a backend runs as C = c
 *       broadcast, then C += A B (beta 1), so the product is written once instead of written, read and written again.
 *       That is every Linear's bias, and residual additions after a projection. c must have the matmul's dtype and
 *       broadcast to its shape (the add does not widen the product).</li>
 *   <li>{@code add(layer_norm_grad(x, w, g), c)} becomes {@code layer_norm_grad(x, w, g, c)}, for a c of exactly the
 *       gradient's shape: in a residual block's backward the gradient through the norm meets the gradient through
 *       the skip connection, and the sum is written in the norm's last pass.</li>
 * </ul>
 * Preconditions: the kernel has no addend yet, it is read only by this add, and it is not a graph output or state
 * update.
 */
public final class Epilogues {
    private Epilogues() {}

    public static Graph run(Graph g) {
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, Node[]> folds = new HashMap<>(); // add -> {kernel, addend}
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.Binary bin) || bin.fn() != Op.BinaryFn.ADD) continue;
            for (int side = 0; side < 2; side++) {
                Node k = n.input(side), c = n.input(1 - side);
                if (takesAddend(k, c) && readers.get(k) == 1 && !results.contains(k) && k.shape().equals(n.shape())
                        && c.dtype() == k.dtype() && c != k) {
                    folds.put(n, new Node[] {k, c});
                    break;
                }
            }
        }
        if (folds.isEmpty()) return g;
        Set<Node> absorbed = new HashSet<>();
        for (Node[] f : folds.values()) absorbed.add(f[0]);
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            if (absorbed.contains(n)) continue; // rebuilt where its add was
            Node[] f = folds.get(n);
            if (f != null) {
                Node k = f[0];
                List<Node> ins = new ArrayList<>(k.inputs().stream().map(map::get).toList());
                ins.add(map.get(f[1]));
                map.put(n, b.at(n.loc()).add(k.op(), ins, null, null));
            } else {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    /** Whether {@code k} can take {@code c} as its addend: a matmul without one, a layer_norm_grad without one of c's exact shape. */
    private static boolean takesAddend(Node k, Node c) {
        return switch (k.op()) {
            case Op.MatMul m -> m.activation() == Op.Activation.NONE && k.inputs().size() == 2;
            case Op.LayerNormGrad l -> k.inputs().size() == 3 && c.shape().equals(k.shape());
            default -> false;
        };
    }
}
