package mobyc.compiler.fuse;

import static mobyc.compiler.fuse.Readers.isPermute;
import static mobyc.compiler.fuse.Readers.only;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * Folds Swin's cyclic shift, window partition, window merge and reverse shift into the fused attention (after
 * {@link AttentionFusion}), so that one kernel reads each window's tokens where they lie in the image and writes its
 * output back there. The pattern, as SwinBlock's shifted_window_attention elaborates:
 * <pre>
 *   r   = roll(y [B, H, W, C], shifts [-sh, -sw], axes [1, 2])                              optional
 *   win = reshape(permute(reshape(r, [B, H/w, w, W/w, w, C]), [0, 1, 3, 2, 4, 5]), [B*nW, w*w, C])
 *   a   = attention(linear_qkv(win), bias?, mask?)                                          [B*nW, w*w, C]
 *   m   = reshape(permute(reshape(linear_proj(a), [B, H/w, W/w, w, w, C']), [0, 1, 3, 2, 4, 5]), [B, H, W, C'])
 *   out = roll(m, shifts [sh, sw], axes [1, 2])                                             iff the first roll
 * </pre>
 * becomes {@code out = linear_proj(attention{windows}(linear_qkv(y), bias?, mask?))} on [B, H, W, .] (see
 * {@link Op.Windows}), where a linear is {@code matmul(x, w2d)} with an optional {@code + b1d}. This is exact: a
 * linear acts on each row alone, so it commutes with any reordering of rows, and the attention op reorders its rows
 * itself. Preconditions (anything else is left as it was): the attention not yet windowed; the two rolls, when
 * present, over axes 1 and 2 only and opposite; every intermediate (the roll, the partition's three ops, the qkv
 * product and bias add, the attention, the proj product and bias add, the merge's ops) read only by the next op of
 * the pattern (not an output or update either). Postcondition: no roll or permute of a matched block remains; the
 * graph's outputs and updates are unchanged. Returns {@code g} itself when nothing matches.
 */
public final class WindowFolding {
    private WindowFolding() {}

    private static final int[] PARTITION = {0, 1, 3, 2, 4, 5};

    /** A row-wise linear: a product by a 2-D weight, then the 1-D bias added (null when there is none). */
    private record Linear(Node matmul, Node bias) {
        Node last(Map<Node, List<Node>> users) { return bias == null ? matmul : only(users, matmul); }

        /** The same linear applied to {@code x} (already in the new graph); {@code map} gives the weights there. */
        Node emit(GraphBuilder b, Node x, Map<Node, Node> map, Node biasAdd) {
            Node y = b.add(matmul.op(), List.of(x, map.get(matmul.input(1))), null, null);
            if (bias == null) return y;
            List<Node> ins = biasAdd.input(0) == matmul ? List.of(y, map.get(bias)) : List.of(map.get(bias), y);
            return b.add(biasAdd.op(), ins, null, null);
        }
    }

    /** One matched block: the attention, the image y, the two linears, the block's last node, the pattern's other nodes. */
    private record Match(Node attention, Node image, Linear qkv, Linear proj, Node last, Op.Windows windows, Set<Node> inner) {}

    public static Graph run(Graph g) {
        Map<Node, List<Node>> users = Readers.of(g);
        Map<Node, Match> byAttention = new HashMap<>(), byLast = new HashMap<>();
        Set<Node> dropped = new HashSet<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.Attention a) || a.windows() != null) continue;
            Match m = match(n, users);
            if (m == null) continue;
            byAttention.put(n, m);
            byLast.put(m.last, m);
            dropped.addAll(m.inner);
        }
        if (byAttention.isEmpty()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            Match m = byAttention.get(n);
            if (m != null) {
                b.at(n.loc());
                Node qkv = m.qkv.emit(b, map.get(m.image), map, m.qkv.last(users));
                Op.Attention a = (Op.Attention) n.op();
                List<Node> ins = new ArrayList<>(List.of(qkv));
                n.inputs().subList(1, n.inputs().size()).forEach(x -> ins.add(map.get(x)));
                map.put(n, b.add(new Op.Attention(a.heads(), a.scale(), a.hasBias(), a.hasMask(), m.windows), ins, null, null));
            } else if ((m = byLast.get(n)) != null) {
                b.at(n.loc());
                map.put(n, m.proj.emit(b, map.get(m.attention), map, m.proj.last(users)));
            } else if (!dropped.contains(n)) {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
            }
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return DeadCode.run(b.build());
    }

    /** The shifted-window block around attention {@code att}, or null where a precondition fails. */
    private static Match match(Node att, Map<Node, List<Node>> users) {
        Set<Node> inner = new HashSet<>();
        // qkv = linear(win), win = partition(roll(y))
        Linear qkv = linearInto(att.input(0), users);
        if (qkv == null || only(users, att.input(0)) != att) return null;
        Node win = qkv.matmul.input(0);
        if (!(win.op() instanceof Op.Reshape) || only(users, win) != qkv.matmul || win.shape().rank() != 3) return null;
        Node p = win.input(0);
        if (!isPermute(p, PARTITION) || only(users, p) != win) return null;
        Node t = p.input(0);
        Shape ts = t.shape();
        if (!(t.op() instanceof Op.Reshape) || only(users, t) != p || ts.rank() != 6) return null;
        for (int i = 1; i < 5; i++) if (!ts.dim(i).isConstant()) return null;
        int gh = (int) ts.dim(1).constant(), size = (int) ts.dim(2).constant(), gw = (int) ts.dim(3).constant();
        if (ts.dim(4).constant() != size || !win.shape().dim(1).equals(Dim.of((long) size * size)) || !win.shape().dim(2).equals(ts.dim(5)))
            return null;
        Node src = t.input(0);
        Shape image = Shape.of(ts.dim(0), Dim.of((long) gh * size), Dim.of((long) gw * size), ts.dim(5));
        if (!src.shape().equals(image)) return null;
        int[] shift = {0, 0};
        Node y = src;
        if (src.op() instanceof Op.Roll roll) {
            if (only(users, src) != t || !shifts(roll, 4, shift)) return null;
            y = src.input(0);
            inner.add(src);
        }
        inner.addAll(List.of(t, p, win, qkv.matmul, att));
        if (qkv.bias != null) inner.add(qkv.last(users));

        // out = roll(merge(linear(a)))
        Linear proj = linearFrom(att, users);
        if (proj == null) return null;
        Node o = proj.last(users);
        Node r1 = only(users, o);
        if (r1 == null || !(r1.op() instanceof Op.Reshape)
                || !r1.shape().equals(Shape.of(ts.dim(0), Dim.of(gh), Dim.of(gw), Dim.of(size), Dim.of(size), o.shape().dim(2)))) return null;
        Node q = only(users, r1);
        if (q == null || !isPermute(q, PARTITION)) return null;
        Node m = only(users, q);
        Shape merged = Shape.of(ts.dim(0), Dim.of((long) gh * size), Dim.of((long) gw * size), o.shape().dim(2));
        if (m == null || !(m.op() instanceof Op.Reshape) || !m.shape().equals(merged)) return null;
        Node last = m;
        if (shift[0] != 0 || shift[1] != 0) {
            Node back = only(users, m);
            int[] undo = {0, 0};
            if (back == null || !(back.op() instanceof Op.Roll roll) || !shifts(roll, 4, undo)
                    || Math.floorMod(undo[0] + shift[0], gh * size) != 0 || Math.floorMod(undo[1] + shift[1], gw * size) != 0) return null;
            inner.add(m);
            last = back;
        }
        inner.add(proj.matmul);
        if (proj.bias != null) inner.add(o);
        inner.addAll(List.of(r1, q));
        inner.remove(last);
        Op.Windows windows = new Op.Windows(gh * size, gw * size, size, -shift[0], -shift[1]);
        return new Match(att, y, qkv, proj, last, windows, inner);
    }

    /** The linear whose last node is {@code x}: matmul(., w2d) or matmul(., w2d) + b1d (the matmul read only by the add). */
    private static Linear linearInto(Node x, Map<Node, List<Node>> users) {
        if (rowProduct(x)) return new Linear(x, null);
        if (!isAdd(x)) return null;
        for (int side = 0; side < 2; side++) {
            Node mm = x.input(side), bias = x.input(1 - side);
            if (rowProduct(mm) && only(users, mm) == x && rowBias(bias, x)) return new Linear(mm, bias);
        }
        return null;
    }

    /** The linear applied to {@code x} by its only reader (a matmul taking x as its left operand), or null. */
    private static Linear linearFrom(Node x, Map<Node, List<Node>> users) {
        Node mm = only(users, x);
        if (mm == null || !rowProduct(mm) || mm.input(0) != x) return null;
        Node add = only(users, mm);
        if (add != null && isAdd(add)) {
            Node other = add.input(0) == mm ? add.input(1) : add.input(0);
            if (other != mm && rowBias(other, add)) return new Linear(mm, other);
        }
        return new Linear(mm, null);
    }

    /** matmul(x, w) with w 2-D and x not transposed: each row of x times w. */
    private static boolean rowProduct(Node n) {
        return n.op() instanceof Op.MatMul mm && !mm.transA() && n.input(1).shape().rank() == 2 && n.input(0).shape().rank() >= 2;
    }

    /** A 1-D bias of the add's last axis (the add's shape is then the product's). */
    private static boolean rowBias(Node bias, Node add) {
        Shape s = add.shape();
        return bias.shape().rank() == 1 && bias.shape().dim(0).equals(s.dim(s.rank() - 1));
    }

    /** Adds roll's shifts over axes 1 and 2 of a rank-{@code rank} tensor into {@code shift}; false when it rolls any other axis. */
    private static boolean shifts(Op.Roll roll, int rank, int[] shift) {
        for (int i = 0; i < roll.axes().length; i++) {
            int axis = Math.floorMod(roll.axes()[i], rank);
            if (axis != 1 && axis != 2) return false;
            shift[axis - 1] += roll.shifts()[i];
        }
        return true;
    }


    private static boolean isAdd(Node n) { return n.op() instanceof Op.Binary b && b.fn() == Op.BinaryFn.ADD; }

}
