package mobyc.compiler.lower;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/** Lowers a graph to a program: sources bind buffers, every other node becomes a kernel writing its own buffer. */
public final class Lower {
    private Lower() {}

    public static Program lower(Graph g) {
        List<Program.Buffer> buffers = new ArrayList<>();
        List<Program.Kernel> kernels = new ArrayList<>();
        Map<Node, Integer> where = new HashMap<>();
        for (Node n : g.nodes()) {
            Program.Kind kind;
            String name = null;
            switch (n.op()) {
                case Op.Input i -> { kind = Program.Kind.INPUT; name = i.inputName(); }
                case Op.Param p -> { kind = Program.Kind.PARAM; name = p.path(); }
                case Op.State s -> { kind = Program.Kind.STATE; name = s.path(); }
                default -> kind = Program.Kind.TEMP;
            }
            int id = buffers.size();
            buffers.add(new Program.Buffer(id, kind, name, n.dtype(), n.shape()));
            where.put(n, id);
            if (kind == Program.Kind.TEMP) {
                List<Integer> ins = new ArrayList<>();
                for (Node i : n.inputs()) ins.add(where.get(i));
                kernels.add(new Program.Kernel(n.op(), ins, id, n.id()));
            }
        }
        LinkedHashMap<String, Integer> outs = new LinkedHashMap<>();
        g.outputs().forEach((k, v) -> outs.put(k, where.get(v)));
        LinkedHashMap<String, Integer> ups = new LinkedHashMap<>();
        g.updates().forEach((k, v) -> ups.put(k, where.get(v)));
        return new Program(g, buffers, kernels, outs, ups);
    }
}
