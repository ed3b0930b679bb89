package mobyc.compiler.fuse;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.kernel.Expr;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.compiler.kernel.KernelInput;

/**
 * Fuses chains of elementwise ops into single {@link Op.Fused} kernels, so their intermediate values are never
 * written to memory.
 *
 * <p>A group grows from a result node (an elementwise op: unary, binary, where, cast) backwards through its
 * operands, taking an operand when it is an elementwise op or an expand with the group's shape, is not a graph
 * output or state update, and is read only by nodes of the group. So every intermediate value stays inside its group
 * and each fused kernel has exactly one result. Absorbed expands become broadcast reads of their operand; scalar
 * constants become constants of the kernel; every other operand is an input of the kernel. Groups of two or more ops
 * are replaced by one fused node at the result's place.
 *
 * <p>Preconditions: a verified graph of f32/i32 values (nodes of other dtypes are left alone). Postconditions: the
 * same outputs and updates with the same values (interp gives identical bits), no two elementwise ops of the same
 * shape where one is read only by the other, and every fused node's inputs are nodes outside any group. Returns
 * {@code g} itself when nothing fuses.
 */
public final class ElementwiseFusion {
    private ElementwiseFusion() {}

    public static Graph run(Graph g) {
        Map<Node, List<Node>> users = g.users();
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, List<Node>> groupOf = new HashMap<>(); // result node -> members in topological order
        Set<Node> taken = new HashSet<>();
        List<Node> nodes = g.nodes();
        for (int at = nodes.size() - 1; at >= 0; at--) {
            Node root = nodes.get(at);
            if (taken.contains(root) || !isElementwise(root)) continue;
            Set<Node> members = new HashSet<>();
            members.add(root);
            PriorityQueue<Node> work = new PriorityQueue<>(Comparator.comparingInt(Node::id).reversed());
            work.addAll(root.inputs());
            while (!work.isEmpty()) { // highest id first: every reader of a node is decided before the node
                Node p = work.poll();
                if (members.contains(p) || taken.contains(p) || results.contains(p) || !p.shape().equals(root.shape())) continue;
                boolean expand = p.op() instanceof Op.Expand && executable(p);
                if (!expand && !isElementwise(p)) continue;
                if (!members.containsAll(users.get(p))) continue;
                members.add(p);
                if (!expand) work.addAll(p.inputs());
            }
            if (members.size() < 2) continue;
            List<Node> ordered = new ArrayList<>(members);
            ordered.sort(Comparator.comparingInt(Node::id));
            taken.addAll(members);
            groupOf.put(root, ordered);
        }
        if (groupOf.isEmpty()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : nodes) {
            List<Node> group = groupOf.get(n);
            if (group != null) {
                Kernel k = kernel(group);
                List<Node> ins = k.inputs.stream().map(map::get).toList();
                map.put(n, b.at(n.loc()).add(new Op.Fused(k.kernel), ins, k.kernel.dtype(), k.kernel.shape()));
            } else if (!taken.contains(n)) {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    private record Kernel(FusedKernel kernel, List<Node> inputs) {}

    /** The kernel of a group (members in topological order, the result last) and the nodes it reads. */
    private static Kernel kernel(List<Node> group) {
        Node root = group.getLast();
        Set<Node> members = new HashSet<>(group);
        LinkedHashMap<Node, Integer> inputs = new LinkedHashMap<>();
        List<KernelInput> declared = new ArrayList<>();
        List<Expr> body = new ArrayList<>();
        Map<Node, Integer> value = new HashMap<>();
        for (Node m : group) {
            if (m.op() instanceof Op.Expand) {
                Node x = m.input(0);
                value.put(m, x.op() instanceof Op.Constant c && x.shape().rank() == 0
                        ? value.computeIfAbsent(x, unused -> add(body, new Expr.Const(c.value(), x.dtype())))
                        : load(x, root, inputs, declared, body, value));
                continue;
            }
            int[] o = new int[m.inputs().size()];
            for (int i = 0; i < o.length; i++) {
                Node x = m.input(i);
                if (members.contains(x)) o[i] = value.get(x);
                else if (x.op() instanceof Op.Constant c && x.shape().rank() == 0) {
                    o[i] = value.computeIfAbsent(x, unused -> add(body, new Expr.Const(c.value(), x.dtype())));
                } else o[i] = load(x, root, inputs, declared, body, value);
            }
            Expr e = switch (m.op()) {
                case Op.Unary u -> new Expr.Unary(u.fn(), o[0], m.dtype());
                case Op.Binary bin -> new Expr.Binary(bin.fn(), o[0], o[1], m.dtype());
                case Op.Where w -> new Expr.Where(o[0], o[1], o[2], m.dtype());
                case Op.Cast c -> new Expr.Cast(o[0], m.dtype());
                default -> throw new IllegalStateException(m.op().name() + " is not elementwise");
            };
            value.put(m, add(body, e));
        }
        return new Kernel(new FusedKernel(root.shape(), declared, body), List.copyOf(inputs.keySet()));
    }

    private static int load(Node x, Node root, Map<Node, Integer> inputs, List<KernelInput> declared, List<Expr> body, Map<Node, Integer> value) {
        Integer v = value.get(x);
        if (v != null) return v;
        int k = inputs.computeIfAbsent(x, unused -> {
            declared.add(KernelInput.of(x.dtype(), x.shape(), root.shape()));
            return declared.size() - 1;
        });
        int at = add(body, new Expr.Load(k, x.dtype()));
        value.put(x, at);
        return at;
    }

    private static int add(List<Expr> body, Expr e) {
        body.add(e);
        return body.size() - 1;
    }

    /** Unary, binary, where and cast over executable dtypes. */
    static boolean isElementwise(Node n) {
        boolean op = n.op() instanceof Op.Unary || n.op() instanceof Op.Binary || n.op() instanceof Op.Where || n.op() instanceof Op.Cast;
        return op && executable(n);
    }

    private static boolean executable(Node n) {
        if (!n.dtype().isExecutable()) return false;
        for (Node i : n.inputs()) if (!i.dtype().isExecutable()) return false;
        return true;
    }
}
