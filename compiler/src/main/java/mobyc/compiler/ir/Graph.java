package mobyc.compiler.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * An immutable dataflow graph: nodes in topological order, named outputs, and state updates (the new value each
 * state takes after a run: BatchNorm running statistics, queues, pointers).
 */
public record Graph(String name, List<Node> nodes, SequencedMap<String, Node> outputs, SequencedMap<String, Node> updates) {
    public Graph {
        nodes = List.copyOf(nodes);
        outputs = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(outputs));
        updates = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(updates));
    }

    public List<Node> inputs() { return sources(Op.Input.class); }
    public List<Node> params() { return sources(Op.Param.class); }
    public List<Node> states() { return sources(Op.State.class); }

    private List<Node> sources(Class<? extends Op> kind) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) if (kind.isInstance(n.op())) out.add(n);
        return out;
    }

    /** Number of trainable scalars; null when a parameter shape is symbolic. */
    public Long parameterCount() {
        long n = 0;
        for (Node p : params()) {
            Dim d = p.shape().numel();
            if (!d.isConstant()) return null;
            n += d.constant();
        }
        return n;
    }

    /** Forward floating-point operations of the whole graph, symbolic in the batch dimensions. */
    public Dim flops() {
        Dim total = Dim.of(0);
        for (Node n : nodes) total = total.plus(Flops.of(n));
        return total;
    }

    public Map<Node, List<Node>> users() {
        Map<Node, List<Node>> users = new LinkedHashMap<>();
        for (Node n : nodes) users.put(n, new ArrayList<>());
        for (Node n : nodes) for (Node i : n.inputs()) users.get(i).add(n);
        return users;
    }

    @Override public String toString() { return Printer.print(this); }
}
