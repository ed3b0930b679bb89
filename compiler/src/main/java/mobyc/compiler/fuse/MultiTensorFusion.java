package mobyc.compiler.fuse;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.kernel.Expr;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.compiler.kernel.KernelInput;

/**
 * Groups fused kernels that do the same thing to many parameter-shaped tensors (the EMA update of a momentum
 * encoder: {@code t * m + p * (1 - m)} per parameter) into one {@link Op.MultiTensor} node, so a backend runs them
 * as one dispatch over all their elements instead of one small dispatch per tensor. Each member is replaced by
 * {@code reshape(slice(packed, 0, off, off + n), shape)} of the packed 1-D result (a zero-copy view on cpu).
 *
 * <p>A member is an {@link Op.Fused} node that
 * <ul>
 *   <li>is f32, of a concrete shape, and is not a graph output (a view that is an output would be copied);</li>
 *   <li>reads every input flat: at its own shape or as a scalar (no broadcast along some axes);</li>
 *   <li>is computed from parameters, state, constants and scalar inputs only, never from per-batch data, so it can
 *       run at the start of the step: packing it delays no consumer behind batch work and keeps no batch-sized
 *       temporary alive longer.</li>
 * </ul>
 * Members of one group have the same body and the same input kinds (dtype; own shape, or the same scalar shape),
 * none depends on another (directly or through any path), and there are at least {@link #MIN_GROUP}. Members whose
 * inputs depend on an earlier member of the same kind are left out and may form the next group (a second EMA
 * update that reads the first).
 *
 * <p>Preconditions: a verified graph, after {@link ElementwiseFusion}. Postconditions: the same outputs and updates
 * with the same values (interp gives identical bits: each member is evaluated by the same kernel); the packed node
 * comes after every member's inputs and before every reader of a member; nodes that read no member keep their
 * order. Returns {@code g} itself when nothing groups.
 */
public final class MultiTensorFusion {
    /** The smallest group worth a multi-tensor node. */
    public static final int MIN_GROUP = 2;

    private MultiTensorFusion() {}

    public static Graph run(Graph g) {
        for (List<Node> group = nextGroup(g); group != null; group = nextGroup(g)) g = rewrite(g, group);
        return g;
    }

    /** The body and input kinds members of one group share. */
    private record Kind(List<Expr> body, List<String> inputs) {}

    /** The first group of at least {@link #MIN_GROUP} independent members of one kind, in graph order, or null. */
    private static List<Node> nextGroup(Graph g) {
        Set<Node> outputs = new HashSet<>(g.outputs().values());
        Set<Node> early = new HashSet<>();
        Map<Kind, List<Node>> byKind = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (isEarly(n, early)) early.add(n);
            Kind k = kind(n);
            if (k != null && early.contains(n) && !outputs.contains(n)) byKind.computeIfAbsent(k, x -> new ArrayList<>()).add(n);
        }
        for (List<Node> candidates : byKind.values()) {
            if (candidates.size() < MIN_GROUP) continue;
            List<Node> group = independent(g, candidates);
            if (group.size() >= MIN_GROUP) return group;
        }
        return null;
    }

    /** Whether {@code n} depends on nothing but parameters, state, constants and scalar inputs. */
    private static boolean isEarly(Node n, Set<Node> early) {
        return switch (n.op()) {
            case Op.Param p -> true;
            case Op.State s -> true;
            case Op.Constant c -> true;
            case Op.Input i -> n.shape().isConcrete() && n.shape().numel().constant() == 1;
            case Op.Random r -> false;
            default -> early.containsAll(n.inputs());
        };
    }

    /** The kind of a possible member, or null when {@code n} cannot be one. */
    private static Kind kind(Node n) {
        if (!(n.op() instanceof Op.Fused f) || n.dtype() != DType.F32 || !n.shape().isConcrete()) return null;
        FusedKernel k = f.kernel();
        List<String> ins = new ArrayList<>();
        for (KernelInput in : k.inputs()) {
            KernelInput.Access a = in.access(k.shape());
            if (a == KernelInput.Access.BROADCAST) return null;
            ins.add(in.dtype() + (a == KernelInput.Access.SAME ? " same" : " scalar" + in.shape()));
        }
        return new Kind(k.body(), ins);
    }

    /** The candidates (in graph order) that depend on no earlier accepted candidate through any path. */
    private static List<Node> independent(Graph g, List<Node> candidates) {
        Map<Node, Integer> index = new HashMap<>();
        for (int c = 0; c < candidates.size(); c++) index.put(candidates.get(c), c);
        Map<Node, BitSet> reaches = new HashMap<>(); // node -> candidates it depends on, itself included; absent = none
        BitSet accepted = new BitSet();
        List<Node> group = new ArrayList<>();
        for (Node n : g.nodes()) {
            BitSet r = null;
            for (Node in : n.inputs()) {
                BitSet ri = reaches.get(in);
                if (ri == null) continue;
                if (r == null) r = new BitSet();
                r.or(ri);
            }
            Integer c = index.get(n);
            if (c != null) {
                if (r == null || !r.intersects(accepted)) {
                    accepted.set(c);
                    group.add(n);
                }
                if (r == null) r = new BitSet();
                r.set(c);
            }
            if (r != null) reaches.put(n, r);
        }
        return group;
    }

    /** Replaces {@code group} by one multi-tensor node and a view per member. */
    private static Graph rewrite(Graph g, List<Node> group) {
        Set<Node> members = new HashSet<>(group), after = new HashSet<>();
        for (Node n : g.nodes()) {
            if (members.contains(n)) continue;
            for (Node in : n.inputs())
                if (members.contains(in) || after.contains(in)) {
                    after.add(n);
                    break;
                }
        }
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) // everything that reads no member, in order: every member's inputs among it
            if (!members.contains(n) && !after.contains(n)) map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
        List<Node> ins = new ArrayList<>();
        List<Shape> shapes = new ArrayList<>();
        for (Node m : group) {
            for (Node in : m.inputs()) ins.add(map.get(in));
            shapes.add(m.shape());
        }
        Op.MultiTensor op = new Op.MultiTensor(((Op.Fused) group.getFirst().op()).kernel(), shapes);
        Node packed = b.at(group.getFirst().loc()).add(op, ins, op.kernel().dtype(), Shape.of(op.totalNumel()));
        long off = 0;
        for (int j = 0; j < group.size(); j++) {
            Node m = group.get(j);
            long n = op.numel(j);
            b.at(m.loc());
            map.put(m, b.reshape(b.slice(packed, 0, off, off + n, 1), m.shape()));
            off += n;
        }
        for (Node n : g.nodes()) if (after.contains(n)) map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }
}
