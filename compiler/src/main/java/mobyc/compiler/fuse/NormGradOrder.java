package mobyc.compiler.fuse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Orders each layer_norm_param_grad after the layer_norm_grad of the same x, g and eps, so that a backend can compute
 * both in one pass over the rows when it reaches the gradient (the cpu executable pairs them). Autodiff often emits
 * the parameter gradient first: in a residual block the input gradient waits for the skip connection's gradient,
 * its addend. The parameter gradient, and whatever reads it, is held back until its partner has been emitted
 * ({@link HoldBack}); the graph computes the same values in another topological order.
 */
public final class NormGradOrder {
    private NormGradOrder() {}

    public static Graph run(Graph g) {
        Map<Node, Node> partnerOf = new HashMap<>(); // parameter gradient -> the later input gradient
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            if (!(nodes.get(i).op() instanceof Op.LayerNormParamGrad p)) continue;
            Node pg = nodes.get(i);
            for (int j = i + 1; j < nodes.size(); j++)
                if (nodes.get(j).op() instanceof Op.LayerNormGrad lg && lg.eps() == p.eps()
                        && nodes.get(j).input(0) == pg.input(0) && nodes.get(j).input(2) == pg.input(1)) {
                    partnerOf.put(pg, nodes.get(j));
                    break;
                }
        }
        return HoldBack.after(g, partnerOf);
    }
}
