package mobyc.compiler.fuse;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * Drops the nodes no output or state update reads. Sources (inputs, parameters, state) always stay: a program's
 * signature and its parameter store do not change because a pass made one unused. Returns {@code g} itself when
 * nothing is dead.
 */
public final class DeadCode {
    private DeadCode() {}

    public static Graph run(Graph g) {
        Set<Node> live = new HashSet<>();
        ArrayDeque<Node> work = new ArrayDeque<>();
        work.addAll(g.outputs().values());
        work.addAll(g.updates().values());
        for (Node n : g.nodes()) if (isSource(n)) work.add(n);
        while (!work.isEmpty()) {
            Node n = work.pop();
            if (live.add(n)) work.addAll(n.inputs());
        }
        if (live.size() == g.nodes().size()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes())
            if (live.contains(n)) map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    private static boolean isSource(Node n) {
        return n.op() instanceof Op.Input || n.op() instanceof Op.Param || n.op() instanceof Op.State;
    }
}
