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
 * Orders each layer_norm_param_grad after the layer_norm_grad of the same x, g and eps, so that a backend can compute
 * both in one pass over the rows when it reaches the gradient (the cpu executable pairs them). Autodiff often emits
 * the parameter gradient first: in a residual block the input gradient waits for the skip connection's gradient,
 * its addend. The parameter gradient, and whatever reads it, is held back until its partner has been emitted; the
 * graph computes the same values in another topological order.
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
        if (partnerOf.isEmpty()) return g;
        Set<Node> waitingFor = new HashSet<>(partnerOf.values());
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        List<Node> held = new ArrayList<>();
        Set<Node> heldSet = new HashSet<>();
        for (Node n : nodes) {
            boolean hold = partnerOf.containsKey(n) || n.inputs().stream().anyMatch(heldSet::contains);
            if (hold) {
                held.add(n);
                heldSet.add(n);
                continue;
            }
            map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            if (waitingFor.contains(n)) release(held, heldSet, partnerOf, map, b);
        }
        for (Node n : held) map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    /** Emits, in their order, the held nodes that no longer wait: partners emitted, inputs emitted. */
    private static void release(List<Node> held, Set<Node> heldSet, Map<Node, Node> partnerOf, Map<Node, Node> map, GraphBuilder b) {
        for (int i = 0; i < held.size(); i++) {
            Node n = held.get(i);
            Node partner = partnerOf.get(n);
            if (partner != null && !map.containsKey(partner)) continue;
            if (!n.inputs().stream().allMatch(map::containsKey)) continue;
            map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            held.remove(i);
            heldSet.remove(n);
            i = -1; // a node released may let an earlier-held reader of it go too
        }
    }
}
