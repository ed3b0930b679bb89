package mobyc.compiler.autodiff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.ShapeException;

/**
 * Reverse-mode automatic differentiation as a graph pass. The result is one graph holding the forward
 * computation (all outputs and state updates kept) and, as extra outputs {@code grad:<path>}, the gradient of a
 * scalar output with respect to every trainable parameter (zeros for parameters the loss does not reach).
 * Gradients stop at {@code stop_gradient} nodes, integer values and state; each op's gradient comes from its rule in
 * {@link VjpRules}. Preconditions: the loss output is a floating-point scalar.
 */
public final class Autodiff {
    /** Output-name prefix of gradients. */
    public static final String GRAD = "grad:";

    private Autodiff() {}

    /** Gradients of {@code loss} with respect to every parameter. */
    public static Graph differentiate(Graph g, String loss) { return differentiate(g, loss, Set.of()); }

    /**
     * Gradients of {@code loss} with respect to every parameter and to the named float inputs
     * ({@code grad:input:<name>}; tests use these to check rules against finite differences).
     */
    public static Graph differentiate(Graph g, String loss, Set<String> inputs) {
        Node lossNode = g.outputs().get(loss);
        if (lossNode == null) throw new IllegalArgumentException("no output named '" + loss + "' to differentiate");
        if (lossNode.shape().rank() != 0 || !lossNode.dtype().isFloating())
            throw new IllegalArgumentException("the loss must be a floating-point scalar, got " + lossNode.dtype() + lossNode.shape());
        GraphBuilder b = new GraphBuilder(g.name() + ".grad");
        Map<Node, Node> copy = b.copyAll(g);
        boolean[] wanted = reachesFromSources(g, inputs);
        Map<Node, Node> grads = new HashMap<>();
        grads.put(lossNode, b.constant(1, lossNode.dtype()));
        List<Node> nodes = g.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            Node gn = grads.get(n);
            if (gn == null || !wanted[n.id()] || n.inputs().isEmpty()) continue;
            Vjp rule = VjpRules.of(n.op());
            if (rule == null) continue;
            Node y = copy.get(n);
            b.at(n.loc());
            List<Node> gi;
            try {
                gi = rule.apply(b, y, gn);
            } catch (ShapeException e) {
                throw new IllegalStateException("gradient of " + n + " at " + n.loc() + ": " + e.getMessage(), e);
            }
            for (int k = 0; k < n.inputs().size(); k++) {
                Node in = n.input(k), d = gi.get(k);
                if (d == null || !wanted[in.id()] || !in.dtype().isFloating()) continue;
                Node old = grads.get(in);
                grads.put(in, old == null ? d : b.add(old, d));
            }
        }
        for (var e : g.outputs().entrySet()) b.output(e.getKey(), copy.get(e.getValue()));
        for (var e : g.updates().entrySet()) b.update(e.getKey(), copy.get(e.getValue()));
        for (Node p : g.params()) {
            Node d = grads.get(p);
            if (d == null) d = b.expand(b.constant(0, p.dtype()), p.shape());
            b.output(GRAD + ((Op.Param) p.op()).path(), d);
        }
        for (Node in : g.inputs()) {
            String name = ((Op.Input) in.op()).inputName();
            if (!inputs.contains(name)) continue;
            Node d = grads.get(in);
            if (d == null) d = b.expand(b.constant(0, in.dtype()), in.shape());
            b.output(GRAD + "input:" + name, d);
        }
        return b.build();
    }

    /** Which nodes depend, through differentiable edges, on a parameter or a chosen input. */
    private static boolean[] reachesFromSources(Graph g, Set<String> inputs) {
        boolean[] r = new boolean[g.nodes().size()];
        for (Node n : g.nodes()) {
            boolean v = switch (n.op()) {
                case Op.Param p -> n.dtype().isFloating();
                case Op.Input i -> inputs.contains(i.inputName()) && n.dtype().isFloating();
                case Op.StopGradient s -> false;
                default -> n.dtype().isFloating() && n.inputs().stream().anyMatch(i -> r[i.id()]);
            };
            r[n.id()] = v;
        }
        return r;
    }

    /** The parameter paths whose gradients a differentiated graph outputs, in graph order. */
    public static Map<String, String> gradientOutputs(Graph g) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : g.outputs().keySet()) if (k.startsWith(GRAD) && !k.startsWith(GRAD + "input:")) out.put(k.substring(GRAD.length()), k);
        return out;
    }
}
