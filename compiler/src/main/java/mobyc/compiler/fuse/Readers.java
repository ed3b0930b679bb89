package mobyc.compiler.fuse;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/** What the pattern-matching passes ask of a graph: who reads a value (graph outputs and updates included), and op shapes. */
final class Readers {
    private Readers() {}

    /** Each node's readers; an output or update counts as a reader too (null stands for it), so such values stay. */
    static Map<Node, List<Node>> of(Graph g) {
        Map<Node, List<Node>> users = g.users();
        g.outputs().values().forEach(v -> users.get(v).add(null));
        g.updates().values().forEach(v -> users.get(v).add(null));
        return users;
    }

    /** The single reader of {@code n}, or null when it has none or several. */
    static Node only(Map<Node, List<Node>> users, Node n) {
        List<Node> u = users.get(n);
        return u != null && u.size() == 1 ? u.getFirst() : null;
    }

    static boolean isPermute(Node n, int... perm) { return n.op() instanceof Op.Permute p && Arrays.equals(p.perm(), perm); }
}
