package mobyc.compiler.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a graph node by node, checking each op's shape rule as it goes; {@link #build} freezes the result.
 * Sources are unique by name/path: asking twice for the same parameter gives the same node.
 */
public final class GraphBuilder {
    /** Refuse graphs beyond this many nodes: a runaway compile-time loop, not a model. */
    public static final int MAX_NODES = 1_000_000;

    private final String name;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Node> sources = new HashMap<>();
    private final LinkedHashMap<String, Node> outputs = new LinkedHashMap<>();
    private final LinkedHashMap<String, Node> updates = new LinkedHashMap<>();
    private String loc;

    public GraphBuilder(String name) { this.name = name; }

    /** Source location attached to the nodes added from now on. */
    public GraphBuilder at(String loc) { this.loc = loc; return this; }

    public int size() { return nodes.size(); }

    public Node add(Op op, List<Node> inputs, DType dtype, Shape shape) {
        ShapeRules.Result r = ShapeRules.infer(op, inputs, dtype, shape);
        for (Dim d : r.shape().dims())
            if (d.isConstant() && (d.constant() < 0 || d.constant() > Dim.MAX))
                throw new ShapeException("dimension " + d.constant() + " is out of range (0.." + Dim.MAX + ")");
        if (nodes.size() >= MAX_NODES) throw new ShapeException("the graph exceeds " + MAX_NODES + " nodes");
        Node n = new Node(nodes.size(), op, inputs, r.dtype(), r.shape(), loc);
        nodes.add(n);
        return n;
    }

    private Node add(Op op, Node... in) { return add(op, List.of(in), null, null); }

    // ---- sources
    public Node input(String name, DType t, Shape s) { return source("input:" + name, new Op.Input(name), t, s); }
    public Node param(String path, DType t, Shape s, Init init) { return source("param:" + path, new Op.Param(path, init), t, s); }
    public Node state(String path, DType t, Shape s, Init init) { return source("state:" + path, new Op.State(path, init), t, s); }

    /** The parameter declared at {@code path} so far, or null. */
    public Node findParam(String path) { return sources.get("param:" + path); }

    private Node source(String key, Op op, DType t, Shape s) {
        Node old = sources.get(key);
        if (old != null) {
            if (!old.shape().equals(s) || old.dtype() != t)
                throw new ShapeException(key + " declared twice with different shapes: " + old.dtype() + old.shape() + " and " + t + s);
            return old;
        }
        Node n = add(op, List.of(), t, s);
        sources.put(key, n);
        return n;
    }

    public Node constant(double v, DType t) { return add(new Op.Constant(v), List.of(), t, Shape.SCALAR); }
    public Node arange(long n, DType t) { return add(new Op.Arange(), List.of(), t, Shape.of(n)); }
    public Node random(Shape s, long stream) { return add(new Op.Random(stream), List.of(), DType.F32, s); }

    // ---- elementwise
    public Node unary(Op.UnaryFn fn, Node x) { return add(new Op.Unary(fn), x); }
    public Node binary(Op.BinaryFn fn, Node a, Node b) { return add(new Op.Binary(fn), a, b); }
    public Node add(Node a, Node b) { return binary(Op.BinaryFn.ADD, a, b); }
    public Node sub(Node a, Node b) { return binary(Op.BinaryFn.SUB, a, b); }
    public Node mul(Node a, Node b) { return binary(Op.BinaryFn.MUL, a, b); }
    public Node div(Node a, Node b) { return binary(Op.BinaryFn.DIV, a, b); }
    public Node where(Node c, Node a, Node b) { return add(new Op.Where(), c, a, b); }
    public Node cast(Node x, DType t) { return x.dtype() == t ? x : add(new Op.Cast(t), x); }
    public Node stopGradient(Node x) { return add(new Op.StopGradient(), x); }

    // ---- reductions and normalisations
    public Node reduce(Op.ReduceFn fn, Node x, int[] axes, boolean keep) { return add(new Op.Reduce(fn, axes.clone(), keep), x); }
    public Node softmax(Node x, int axis) { return add(new Op.Softmax(axis), x); }
    public Node logSoftmax(Node x, int axis) { return add(new Op.LogSoftmax(axis), x); }
    public Node layerNorm(Node x, Node w, Node b, double eps) { return add(new Op.LayerNorm(eps), x, w, b); }
    public Node batchNorm(Node x, Node mean, Node var, Node w, Node b, int axis, double eps) {
        return add(new Op.BatchNorm(axis, eps), x, mean, var, w, b);
    }
    public Node l2Normalize(Node x, int axis, double eps) { return add(new Op.L2Normalize(axis, eps), x); }
    public Node crossEntropy(Node logits, Node labels) { return add(new Op.CrossEntropy(), logits, labels); }

    // ---- contractions
    public Node matmul(Node a, Node b) { return add(new Op.MatMul(), a, b); }
    /** op(a) @ op(b) with op a transpose of the last two axes where the flag is set. */
    public Node matmul(Node a, Node b, boolean transA, boolean transB) { return add(new Op.MatMul(transA, transB), a, b); }
    public Node conv2d(Node x, Node w, int sh, int sw, int ph, int pw) { return add(new Op.Conv2d(sh, sw, ph, pw), x, w); }

    // ---- data movement
    public Node reshape(Node x, Shape s) { return x.shape().equals(s) ? x : add(new Op.Reshape(), List.of(x), null, s); }
    public Node permute(Node x, int... perm) {
        boolean identity = true;
        for (int i = 0; i < perm.length; i++) identity &= perm[i] == i;
        return identity && perm.length == x.shape().rank() ? x : add(new Op.Permute(perm.clone()), x);
    }
    public Node expand(Node x, Shape s) { return x.shape().equals(s) ? x : add(new Op.Expand(), List.of(x), null, s); }
    public Node slice(Node x, int axis, long start, long end, long step) { return add(new Op.Slice(axis, start, end, step), x); }
    public Node concat(List<Node> xs, int axis) { return add(new Op.Concat(axis), xs, null, null); }
    public Node roll(Node x, int[] shifts, int[] axes) { return add(new Op.Roll(shifts.clone(), axes.clone()), x); }
    public Node pad(Node x, long[] before, long[] after, double value) {
        if (Arrays.stream(before).allMatch(v -> v == 0) && Arrays.stream(after).allMatch(v -> v == 0)) return x;
        return add(new Op.Pad(before.clone(), after.clone(), value), x);
    }
    public Node gather(Node table, Node index) { return add(new Op.Gather(), table, index); }

    /** Adds a copy of {@code n} (from another graph) over new operands: how passes rebuild graphs. */
    public Node copy(Node n, List<Node> inputs) {
        String saved = loc;
        loc = n.loc();
        try {
            return switch (n.op()) {
                case Op.Input i -> input(i.inputName(), n.dtype(), n.shape());
                case Op.Param p -> param(p.path(), n.dtype(), n.shape(), p.init());
                case Op.State s -> state(s.path(), n.dtype(), n.shape(), s.init());
                default -> add(n.op(), inputs, n.dtype(), n.shape());
            };
        } finally {
            loc = saved;
        }
    }

    /** Copies every node of {@code g} (not its outputs or updates); returns old node -> new node. */
    public Map<Node, Node> copyAll(Graph g) {
        Map<Node, Node> copy = new HashMap<>();
        for (Node n : g.nodes()) {
            List<Node> ins = new ArrayList<>(n.inputs().size());
            for (Node i : n.inputs()) ins.add(copy.get(i));
            copy.put(n, copy(n, ins));
        }
        return copy;
    }

    /** Sum over the axes {@code g} was broadcast along, so it takes {@code shape} again (the adjoint of broadcasting). */
    public Node sumTo(Node g, Shape shape) {
        if (g.shape().equals(shape)) return g;
        int extra = g.shape().rank() - shape.rank();
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < g.shape().rank(); i++) {
            if (i < extra) axes.add(i);
            else if (!g.shape().dim(i).equals(shape.dim(i - extra)) && shape.dim(i - extra).equals(Dim.of(1))) axes.add(i);
        }
        Node r = axes.isEmpty() ? g : reduce(Op.ReduceFn.SUM, g, axes.stream().mapToInt(Integer::intValue).toArray(), true);
        return reshape(r, shape);
    }

    // ---- results
    public GraphBuilder output(String name, Node n) { outputs.put(name, n); return this; }

    public GraphBuilder update(String statePath, Node value) {
        Node s = sources.get("state:" + statePath);
        if (s == null) throw new ShapeException("no state named " + statePath);
        boolean fits;
        try {
            fits = ShapeRules.broadcast(new Op.Expand(), value.shape(), s.shape()).equals(s.shape());
        } catch (ShapeException e) {
            fits = false;
        }
        if (!fits) throw new ShapeException("state " + statePath + " has shape " + s.shape() + ", the new value has " + value.shape());
        Node v = value.shape().equals(s.shape()) ? value : expand(value, s.shape());
        updates.put(statePath, cast(v, s.dtype()));
        return this;
    }

    public boolean hasUpdate(String statePath) { return updates.containsKey(statePath); }

    /** Freezes the graph, dropping nodes no output or update needs (sources that were declared stay). */
    public Graph build() {
        boolean[] live = new boolean[nodes.size()];
        List<Node> work = new ArrayList<>(outputs.values());
        work.addAll(updates.values());
        while (!work.isEmpty()) {
            Node n = work.removeLast();
            if (live[n.id()]) continue;
            live[n.id()] = true;
            work.addAll(n.inputs());
        }
        List<Node> kept = new ArrayList<>();
        Map<Node, Node> renum = new HashMap<>();
        for (Node n : nodes) {
            boolean declared = n.op() instanceof Op.Param || n.op() instanceof Op.State || n.op() instanceof Op.Input;
            if (!live[n.id()] && !declared) continue;
            List<Node> ins = new ArrayList<>();
            for (Node i : n.inputs()) ins.add(renum.get(i));
            Node m = new Node(kept.size(), n.op(), ins, n.dtype(), n.shape(), n.loc());
            renum.put(n, m);
            kept.add(m);
        }
        LinkedHashMap<String, Node> outs = new LinkedHashMap<>();
        outputs.forEach((k, v) -> outs.put(k, renum.get(v)));
        LinkedHashMap<String, Node> ups = new LinkedHashMap<>();
        updates.forEach((k, v) -> ups.put(k, renum.get(v)));
        return new Graph(name, kept, outs, ups);
    }
}
