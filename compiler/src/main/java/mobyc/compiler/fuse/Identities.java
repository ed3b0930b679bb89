package mobyc.compiler.fuse;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * Removes data movement that moves nothing: a slice with step 1 whose result has its operand's shape (a crop back
 * to the size a model padded to, when the padding was zero), a pad by zero everywhere, a roll by whole turns, an
 * identity permute. Readers read the operand instead, so the copy is never made. Swin's window padding and crops
 * (torchvision's, kept by the model for any size) are all of this kind at sizes that fit the window, and each was
 * a full copy of an activation, forward and backward. A permute that moves only axes of size 1 (Swin's window
 * partition when one window covers the stage: [B, 1, 4, 1, 4, C] by [0, 1, 3, 2, 4, 5]) keeps the elements in
 * their order: it becomes a reshape, which the backends run as a view. A stop_gradient is the identity once the graph
 * is differentiated (the backend passes run after autodiff): of a parameter it was a copy of it each step (the EMA
 * reads every online tensor through one). Preconditions: a differentiated graph (or one that will not be). A node
 * that is itself a graph output or a state's new value stays (the program's outputs stay distinct buffers).
 */
public final class Identities {
    private Identities() {}

    public static Graph run(Graph g) {
        Set<Node> kept = new HashSet<>(g.outputs().values());
        kept.addAll(g.updates().values());
        if (g.nodes().stream().noneMatch(n -> !kept.contains(n) && (isIdentity(n) || keepsOrder(n)))) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            if (!kept.contains(n) && isIdentity(n)) map.put(n, map.get(n.input(0)));
            else if (!kept.contains(n) && keepsOrder(n)) map.put(n, b.at(n.loc()).reshape(map.get(n.input(0)), n.shape()));
            else map.put(n, b.at(n.loc()).copy(n, n.inputs().stream().map(map::get).toList()));
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return DeadCode.run(b.build());
    }

    /** Whether {@code n} returns its first operand unchanged (same shape, same elements in the same order). */
    static boolean isIdentity(Node n) {
        if (n.inputs().isEmpty() || !n.shape().equals(n.input(0).shape()) || n.dtype() != n.input(0).dtype()) return false;
        return switch (n.op()) {
            case Op.Slice s -> s.step() == 1; // same length with step 1: the whole axis
            case Op.StopGradient s -> true; // the backend passes run on differentiated graphs: it has done its work
            case Op.Pad p -> allZero(p.before()) && allZero(p.after());
            case Op.Roll r -> wholeTurns(r, n.shape());
            case Op.Permute p -> {
                for (int i = 0; i < p.perm().length; i++) if (p.perm()[i] != i) yield false;
                yield true;
            }
            default -> false;
        };
    }

    /**
     * Whether {@code n} is a permute, not the identity, that keeps every axis whose size is not a constant 1 in its
     * order: the elements stay in memory order.
     */
    static boolean keepsOrder(Node n) {
        if (!(n.op() instanceof Op.Permute p) || isIdentity(n)) return false;
        int last = -1;
        for (int axis : p.perm()) {
            var d = n.input(0).shape().dims().get(axis);
            if (d.isConstant() && d.constant() == 1) continue;
            if (axis < last) return false;
            last = axis;
        }
        return true;
    }

    private static boolean allZero(long[] xs) {
        for (long x : xs) if (x != 0) return false;
        return true;
    }

    private static boolean wholeTurns(Op.Roll r, Shape shape) {
        for (int i = 0; i < r.shifts().length; i++) {
            int axis = Math.floorMod(r.axes()[i], shape.rank());
            if (r.shifts()[i] == 0) continue;
            if (!shape.dims().get(axis).isConstant()) return false;
            long size = shape.dims().get(axis).constant();
            if (size != 0 && r.shifts()[i] % size != 0) return false;
        }
        return true;
    }
}
