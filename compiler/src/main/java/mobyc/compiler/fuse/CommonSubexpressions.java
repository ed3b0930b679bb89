package mobyc.compiler.fuse;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * Common subexpressions: a node with the same op (every attribute equal), the same inputs, dtype and shape as an
 * earlier one is that one. Every op of the IR is a function of its inputs and attributes (random numbers too: a
 * function of seed, step, stream and element), so the graph computes the same values with fewer kernels. What a
 * training step repeats: BatchNorm's batch mean (its mean, and its variances' own), the unbiased variance's
 * (x - mean)^2, the same input patchified for the online and the target encoder. Sources (inputs, parameters,
 * state) stay as they are, and so does a node that is a graph output or a state's new value (outputs stay distinct
 * buffers: gradient clipping scales each gradient in place); a later repeat of one reads it. Returns {@code g}
 * itself when nothing repeats.
 */
public final class CommonSubexpressions {
    private CommonSubexpressions() {}

    private record Key(List<Object> op, List<Node> inputs, DType dtype, Shape shape) {}

    public static Graph run(Graph g) {
        Set<Node> kept = new HashSet<>(g.outputs().values());
        kept.addAll(g.updates().values());
        Map<Key, Node> first = new HashMap<>();
        Map<Node, Node> same = new HashMap<>(); // a repeat -> the earlier node it equals
        for (Node n : g.nodes()) {
            if (isSource(n.op())) continue;
            List<Node> ins = n.inputs().stream().map(i -> same.getOrDefault(i, i)).toList();
            Key key = new Key(attributes(n.op()), ins, n.dtype(), n.shape());
            if (kept.contains(n)) { // an output or a state's new value stays its own buffer (a caller may scale one gradient in place)
                first.putIfAbsent(key, n);
                continue;
            }
            Node earlier = first.putIfAbsent(key, n);
            if (earlier != null) same.put(n, earlier);
        }
        if (same.isEmpty()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            Node to = same.get(n);
            map.put(n, to != null ? map.get(to) : b.copy(n, n.inputs().stream().map(map::get).toList()));
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    private static boolean isSource(Op op) { return op instanceof Op.Input || op instanceof Op.Param || op instanceof Op.State; }

    /** The op's class and every record component, arrays by their contents (a record compares arrays by identity). */
    static List<Object> attributes(Op op) {
        List<Object> key = new ArrayList<>();
        key.add(op.getClass());
        for (RecordComponent c : op.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(op);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + c.getName() + " of " + op.name(), e);
            }
            key.add(v != null && v.getClass().isArray() ? Arrays.asList(Arrays.deepToString(new Object[] {v})) : v);
        }
        return key;
    }
}
