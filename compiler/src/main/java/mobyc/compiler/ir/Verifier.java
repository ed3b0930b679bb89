package mobyc.compiler.ir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks a graph's invariants: ids, topological order, every op's shape rule, outputs and updates. */
public final class Verifier {
    private Verifier() {}

    /** Returns the problems found; empty when the graph is well formed. */
    public static List<String> check(Graph g) {
        List<String> problems = new ArrayList<>();
        Set<Node> seen = new HashSet<>();
        Set<String> sourceKeys = new HashSet<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            Node n = g.nodes().get(i);
            if (n.id() != i) problems.add(n.ref() + ": id " + n.id() + " at position " + i);
            for (Node in : n.inputs())
                if (!seen.contains(in)) problems.add(n.ref() + ": operand " + in.ref() + " is not defined before use");
            String key = switch (n.op()) {
                case Op.Input x -> "input " + x.inputName();
                case Op.Param x -> "param " + x.path();
                case Op.State x -> "state " + x.path();
                default -> null;
            };
            if (key != null && !sourceKeys.add(key)) problems.add(n.ref() + ": " + key + " defined twice");
            try {
                ShapeRules.Result r = ShapeRules.infer(n.op(), n.inputs(), n.dtype(), n.shape());
                if (!r.shape().equals(n.shape()) || r.dtype() != n.dtype())
                    problems.add(n.ref() + ": recorded " + n.dtype() + n.shape() + " but the rule gives " + r.dtype() + r.shape());
            } catch (ShapeException e) {
                problems.add(n.ref() + ": " + e.getMessage());
            }
            seen.add(n);
        }
        g.outputs().forEach((k, v) -> { if (!seen.contains(v)) problems.add("output " + k + " is not a node of the graph"); });
        g.updates().forEach((k, v) -> {
            if (!seen.contains(v)) problems.add("update " + k + " is not a node of the graph");
            Node s = g.states().stream().filter(x -> ((Op.State) x.op()).path().equals(k)).findFirst().orElse(null);
            if (s == null) problems.add("update of unknown state " + k);
            else if (!s.shape().equals(v.shape()) || s.dtype() != v.dtype())
                problems.add("update " + k + ": " + v.dtype() + v.shape() + " does not match the state's " + s.dtype() + s.shape());
        });
        return problems;
    }

    public static Graph verify(Graph g) {
        List<String> p = check(g);
        if (!p.isEmpty()) throw new IllegalStateException("invalid graph " + g.name() + ":\n  " + String.join("\n  ", p));
        return g;
    }
}
