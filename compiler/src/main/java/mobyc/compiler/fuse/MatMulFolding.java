package mobyc.compiler.fuse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Folds transposes of the last two axes into matmuls, so that no transposed copy is made:
 * <ul>
 *   <li>one the matmul reads: {@code matmul(permute(a, [.., r-1, r-2]), b)} becomes {@code matmul(a, b, transA)}
 *       (likewise for b): the GEMM reads the stored matrix transposed;</li>
 *   <li>one of the matmul's result: {@code permute(matmul(a, b, ta, tb), [.., r-1, r-2])} becomes
 *       {@code matmul(b, a, !tb, !ta)}, as (op(a) op(b))^T = op(b)^T op(a)^T. Weight gradients come out of autodiff
 *       this way (x^T dy, then transposed to the weight's [out, in]). Only for a matmul without an addend whose one
 *       reader is the permute.</li>
 * </ul>
 * Preconditions: none (any graph); a permute stays when something else reads it, and dead nodes are dropped.
 * Postcondition: no matmul operand is a last-two-axes transpose, and no such transpose is the only reader of a
 * matmul without an addend.
 */
public final class MatMulFolding {
    private MatMulFolding() {}

    public static Graph run(Graph g) {
        boolean any = false;
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        g.outputs().values().forEach(v -> readers.merge(v, 1, Integer::sum));
        g.updates().values().forEach(v -> readers.merge(v, 1, Integer::sum));
        for (Node n : g.nodes())
            if (n.op() instanceof Op.MatMul && (swapsLastTwo(n.input(0)) || swapsLastTwo(n.input(1)))
                    || transposesProduct(n, readers)) any = true;
        if (!any) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            if (transposesProduct(n, readers)) {
                Node product = map.get(n.input(0));
                Op.MatMul m = (Op.MatMul) product.op();
                map.put(n, b.at(n.loc()).add(new Op.MatMul(!m.transB(), !m.transA(), m.activation()), List.of(product.input(1), product.input(0)),
                        null, null));
            } else if (n.op() instanceof Op.MatMul m) {
                Node l = n.input(0), r = n.input(1);
                boolean ta = m.transA(), tb = m.transB();
                if (swapsLastTwo(l)) { l = l.input(0); ta = !ta; }
                if (swapsLastTwo(r)) { r = r.input(0); tb = !tb; }
                List<Node> ins = new java.util.ArrayList<>(List.of(map.get(l), map.get(r)));
                if (n.inputs().size() > 2) ins.add(map.get(n.input(2)));
                map.put(n, b.at(n.loc()).add(new Op.MatMul(ta, tb, m.activation()), ins, null, null));
            } else {
                map.put(n, b.at(n.loc()).copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return DeadCode.run(b.build());
    }

    /** Whether {@code n} transposes the result of a matmul without an addend that nothing else reads. */
    private static boolean transposesProduct(Node n, Map<Node, Integer> readers) {
        if (!swapsLastTwo(n)) return false;
        Node product = n.input(0);
        return product.op() instanceof Op.MatMul m && m.activation().extraInputs() == 0 && product.inputs().size() == 2 && readers.get(product) == 1;
    }

    /** Whether {@code n} is a permute that swaps exactly the last two axes. */
    static boolean swapsLastTwo(Node n) {
        if (!(n.op() instanceof Op.Permute p)) return false;
        int[] perm = p.perm();
        int r = perm.length;
        if (r < 2 || perm[r - 1] != r - 2 || perm[r - 2] != r - 1) return false;
        for (int i = 0; i < r - 2; i++) if (perm[i] != i) return false;
        return true;
    }
}
