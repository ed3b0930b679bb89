package mobyc.compiler.fuse;

import java.util.ArrayList;
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

/**
 * A trained MLP's GELU with its derivative computed beside it. In a training program the online encoder's first
 * Linear {@code h = matmul(x, w[, b])} is read by {@code gelu(h)} and, in the backward, by the GEMMs that the activations
 * pass gave a dgelu_gate epilogue ({@code (dy @ w2) * dgelu(h)}). This pass rewrites
 * <pre>
 *   h = matmul(x, w, b)                          g = matmul(x, w, b) gelu
 *   g = gelu(h)                     into         d = matmul(x, w, b) dgelu      (right after g)
 *   ... matmul(dy, w2, h) dgelu_gate             ... matmul(dy, w2, d) gate
 * </pre>
 * Each node still means what it says (interp computes d's product again), and a backend that sees a gelu product
 * followed by a dgelu product of the same operands ({@code mobyc.compiler.plan.Siblings}) runs one GEMM and writes
 * both from each block of the result while it is in cache: GELU and its derivative share the exponential and the
 * erfc fit, the pre-activation is never written or read back, and the backward's epilogue is a multiply instead of
 * the derivative. The derivative takes the pre-activation's place among the saved values: no more memory.
 * <p>Preconditions: a float matmul without an activation, not a graph output or update, read by exactly one gelu of
 * its shape and otherwise only as the gate of dgelu_gate matmuls (at least one). Runs after the activations pass.
 */
public final class GeluPairs {
    private GeluPairs() {}

    public static Graph run(Graph g) {
        Map<Node, List<Node>> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, Node> geluOf = new HashMap<>(); // pre-activation -> its gelu
        for (Node n : g.nodes()) {
            Node gelu = pairable(n, readers.getOrDefault(n, List.of()), results);
            if (gelu != null) geluOf.put(n, gelu);
        }
        if (geluOf.isEmpty()) return g;
        Set<Node> gelus = new HashSet<>(geluOf.values());
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>(), derivative = new HashMap<>();
        for (Node n : g.nodes()) {
            List<Node> ins = n.inputs().stream().map(map::get).toList();
            if (geluOf.containsKey(n)) {
                Op.MatMul m = (Op.MatMul) n.op();
                map.put(geluOf.get(n), b.at(geluOf.get(n).loc()).add(new Op.MatMul(m.transA(), m.transB(), Op.Activation.GELU), ins, null, null));
                derivative.put(n, b.at(n.loc()).add(new Op.MatMul(m.transA(), m.transB(), Op.Activation.DGELU), ins, null, null));
            } else if (gelus.contains(n)) {
                continue; // built with its pre-activation
            } else if (n.op() instanceof Op.MatMul m && m.activation() == Op.Activation.DGELU_GATE && derivative.containsKey(n.inputs().getLast())) {
                List<Node> gated = new ArrayList<>(ins.subList(0, ins.size() - 1));
                gated.add(derivative.get(n.inputs().getLast()));
                map.put(n, b.at(n.loc()).add(new Op.MatMul(m.transA(), m.transB(), Op.Activation.GATE), gated, null, null));
            } else {
                map.put(n, b.copy(n, ins));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    /** The gelu reading {@code h} when h and its readers fit the pass (see the class comment), else null. */
    private static Node pairable(Node h, List<Node> readers, Set<Node> results) {
        if (!(h.op() instanceof Op.MatMul m) || m.activation() != Op.Activation.NONE || h.dtype() != DType.F32 || results.contains(h))
            return null;
        Node gelu = null;
        int gates = 0;
        for (Node r : readers) {
            if (r.op() instanceof Op.Unary u && u.fn() == Op.UnaryFn.GELU && gelu == null && r.shape().equals(h.shape())) {
                gelu = r;
            } else if (r.op() instanceof Op.MatMul rm && rm.activation() == Op.Activation.DGELU_GATE
                    && r.inputs().indexOf(h) == r.inputs().size() - 1) {
                gates++;
            } else {
                return null;
            }
        }
        return gates > 0 ? gelu : null;
    }
}
