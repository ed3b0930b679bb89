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

/**
 * Re-emits a graph with nodes held back until a partner of theirs has been emitted: each key of {@code partnerOf},
 * and whatever reads it, waits for its value; everything else keeps its place. The graph computes the same values in
 * another topological order (a held node whose partner depends on it is emitted at the end, in its order). How the
 * ordering passes put a kernel a backend computes together with an earlier one after that one.
 */
final class HoldBack {
    private HoldBack() {}

    static Graph after(Graph g, Map<Node, Node> partnerOf) {
        if (partnerOf.isEmpty()) return g;
        Set<Node> waitingFor = new HashSet<>(partnerOf.values());
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        List<Node> held = new ArrayList<>();
        Set<Node> heldSet = new HashSet<>();
        for (Node n : g.nodes()) {
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
