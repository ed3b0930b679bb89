package mobyc.compiler.ir;

import java.util.List;

/**
 * One value of the graph: an op applied to earlier nodes. Immutable; identity is the id within its graph.
 * {@code loc} is where the value came from in the source ("file:line:col"), or null.
 */
public record Node(int id, Op op, List<Node> inputs, DType dtype, Shape shape, String loc) {
    public Node {
        inputs = List.copyOf(inputs);
    }

    public Node input(int i) { return inputs.get(i); }

    public String ref() { return "%" + id; }

    @Override public boolean equals(Object o) { return this == o; }
    @Override public int hashCode() { return System.identityHashCode(this); }
    @Override public String toString() { return ref() + " = " + op.name() + " : " + dtype + shape; }
}
