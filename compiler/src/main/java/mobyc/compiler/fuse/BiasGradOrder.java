package mobyc.compiler.fuse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Orders each bias gradient, {@code reduce_sum(dy)} over every axis but the last, after the weight gradient that
 * reads the same dy, {@code matmul(reshape(dy), x) {transA}} (or dy itself as the left operand), so that a backend
 * can add dy's columns up while it packs them for the product (the cpu executable pairs them): dy, often the largest
 * tensor of a layer's backward, is then read once for both. Autodiff emits the bias's gradient first. The sum, and
 * whatever reads it, is held back until the product has been emitted ({@link HoldBack}); the graph computes the same
 * values in another topological order.
 * <p>Preconditions: a float reduce_sum over axes 0 .. rank-2 of a tensor of rank 2 or more; a later float matmul with
 * transA, without transB or an epilogue, whose left operand is that tensor or a reshape of it to rank 2.
 */
public final class BiasGradOrder {
    private BiasGradOrder() {}

    public static Graph run(Graph g) {
        Map<Node, Node> partnerOf = new HashMap<>(); // bias gradient -> the later weight gradient
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node r = nodes.get(i);
            if (!sumsAllButLast(r)) continue;
            Node y = r.input(0);
            for (int j = i + 1; j < nodes.size(); j++) {
                Node m = nodes.get(j);
                if (m.op() instanceof Op.MatMul op && op.transA() && !op.transB() && op.activation() == Op.Activation.NONE
                        && m.inputs().size() == 2 && m.dtype() == DType.F32 && reads(m.input(0), y)) {
                    partnerOf.put(r, m);
                    break;
                }
            }
        }
        return HoldBack.after(g, partnerOf);
    }

    /** Whether {@code n} sums a float tensor of rank 2 or more over every axis but the last. */
    public static boolean sumsAllButLast(Node n) {
        if (!(n.op() instanceof Op.Reduce r) || r.fn() != Op.ReduceFn.SUM || n.dtype() != DType.F32) return false;
        int rank = n.input(0).shape().rank();
        if (rank < 2 || r.axes().length != rank - 1) return false;
        for (int i = 0; i < rank - 1; i++) if (r.axes()[i] != i) return false;
        return true;
    }

    /** Whether the left operand {@code a} is y, or y reshaped to rank 2 keeping its last axis. */
    private static boolean reads(Node a, Node y) {
        if (a == y) return true;
        return a.op() instanceof Op.Reshape && a.input(0) == y && a.shape().rank() == 2
                && a.shape().dim(1).equals(y.shape().dim(y.shape().rank() - 1));
    }
}
