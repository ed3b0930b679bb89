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
 * Folds an addition into the GEMM before it: {@code add(matmul(a, b), c)} (either order) becomes
 * {@code matmul(a, b, c)}, which a backend runs as C = c broadcast, then C += A B (beta 1), so the product is written
 * once instead of written, read and written again. That is every Linear's bias, and residual additions after a
 * projection. Preconditions: the matmul has no addend yet, it is read only by this add, it is not a graph output or
 * state update, and c has its dtype and broadcasts to its shape (the add does not widen the product).
 */
public final class GemmEpilogue {
    private GemmEpilogue() {}

    public static Graph run(Graph g) {
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, Node[]> folds = new HashMap<>(); // add -> {matmul, addend}
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.Binary bin) || bin.fn() != Op.BinaryFn.ADD) continue;
            for (int side = 0; side < 2; side++) {
                Node mm = n.input(side), c = n.input(1 - side);
                if (mm.op() instanceof Op.MatMul && mm.inputs().size() == 2 && readers.get(mm) == 1 && !results.contains(mm)
                        && mm.shape().equals(n.shape()) && c.dtype() == mm.dtype() && c != mm) {
                    folds.put(n, new Node[] {mm, c});
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
                Node mm = f[0];
                List<Node> ins = new ArrayList<>(List.of(map.get(mm.input(0)), map.get(mm.input(1)), map.get(f[1])));
                map.put(n, b.at(n.loc()).add(mm.op(), ins, null, null));
            } else {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }
}
