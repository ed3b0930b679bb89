package mobyc.compiler.ir;

import java.util.stream.Collectors;

/** Prints a graph as stable text: one line per node, comparable in tests. */
public final class Printer {
    private Printer() {}

    public static String print(Graph g) {
        StringBuilder sb = new StringBuilder();
        sb.append("graph ").append(g.name()).append(" {\n");
        for (Node n : g.nodes()) sb.append("  ").append(line(n)).append('\n');
        g.outputs().forEach((k, v) -> sb.append("  output ").append(k).append(" = ").append(v.ref()).append('\n'));
        g.updates().forEach((k, v) -> sb.append("  update ").append(k).append(" := ").append(v.ref()).append('\n'));
        return sb.append("}\n").toString();
    }

    public static String line(Node n) {
        StringBuilder sb = new StringBuilder();
        sb.append(n.ref()).append(" = ").append(n.op().name());
        String a = n.op().attrs();
        if (!n.inputs().isEmpty()) sb.append(' ').append(n.inputs().stream().map(Node::ref).collect(Collectors.joining(", ")));
        if (!a.isEmpty()) sb.append(n.inputs().isEmpty() ? " " : " {").append(a).append(n.inputs().isEmpty() ? "" : "}");
        sb.append(" : ").append(n.dtype()).append(n.shape());
        if (n.op() instanceof Op.Param p) sb.append(" init ").append(p.init());
        if (n.op() instanceof Op.State s) sb.append(" init ").append(s.init());
        return sb.toString();
    }
}
