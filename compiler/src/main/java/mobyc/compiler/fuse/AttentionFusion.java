package mobyc.compiler.fuse;

import static mobyc.compiler.fuse.Readers.isPermute;
import static mobyc.compiler.fuse.Readers.only;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * Replaces multi-head attention written out in primitive ops by one {@link Op.Attention}, so that neither the
 * forward nor (through its gradient rule) the backward stores the [Bw, heads, n, n] scores or probabilities.
 * The pattern, as Swin's WindowAttention (plain and masked) and DeiT's Attention elaborate:
 * <pre>
 *   t    = permute(reshape(qkv [Bw, n, 3*H*hd], [Bw, n, 3, H, hd]), [2, 0, 3, 1, 4])       [3, Bw, H, n, hd]
 *   q, k, v = reshape(slice(t, axis 0, i:i+1), [Bw, H, n, hd])                               i = 0, 1, 2
 *   s    = matmul(q * c, permute(k, [0, 1, 3, 2]))   (or matmul(.., k, transB))                [Bw, H, n, n]
 *   s    = s + bias [H, n, n]                                                                  optional
 *   s    = reshape(reshape(s, [Bw/nW, nW, H, n, n]) + mask' [nW, 1, n, n], [Bw, H, n, n])    optional
 *   out  = reshape(permute(matmul(softmax(s, axis -1), v), [0, 2, 1, 3]), [Bw, n, H*hd])
 * </pre>
 * becomes {@code attention(qkv, bias, reshape(mask', [nW, n, n]))}. Preconditions of a match (anything else is
 * left exactly as it was): all values f32; c a scalar constant; the operands of each add in either order, with
 * exactly the shapes above (no other broadcast); the softmax over the last axis; H and hd known; every
 * intermediate value (t, the slices, q, k, v, q * c, k^T, the scores, the masked scores, the probabilities, the
 * product with v, its transpose) read only by the next op of the pattern (so nothing else needs them); the mask
 * computed from constants alone (no parameter, input, state or random number: it takes no gradient). qkv and
 * the bias may have other readers. Postcondition: no softmax of a matched attention remains; the graph's outputs
 * and updates are unchanged. Returns {@code g} itself when nothing matches.
 */
public final class AttentionFusion {
    private AttentionFusion() {}

    /** One matched attention: the pattern's last node and the fused op's operands (mask as found: [nW, 1, n, n]). */
    private record Match(Node out, Op.Attention op, Node qkv, Node bias, Node mask) {}

    public static Graph run(Graph g) {
        Map<Node, List<Node>> users = Readers.of(g);
        Map<Node, Match> matches = new HashMap<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.Softmax)) continue;
            Match m = match(n, users);
            if (m != null) matches.put(m.out, m);
        }
        if (matches.isEmpty()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            Match m = matches.get(n);
            if (m == null) {
                map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
                continue;
            }
            b.at(n.loc());
            List<Node> ins = new ArrayList<>();
            ins.add(map.get(m.qkv));
            if (m.bias != null) ins.add(map.get(m.bias));
            if (m.mask != null) {
                Shape s = m.mask.shape();
                Node mk = m.mask.op() instanceof Op.Reshape && m.mask.input(0).shape().rank() == 3 ? m.mask.input(0) : m.mask;
                ins.add(b.reshape(map.get(mk), Shape.of(s.dim(0), s.dim(2), s.dim(3))));
            }
            map.put(n, b.add(m.op, ins, null, null));
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return DeadCode.run(b.build());
    }

    /** The attention around softmax {@code sm}, or null where any precondition fails. */
    private static Match match(Node sm, Map<Node, List<Node>> users) {
        Shape ss = sm.shape();
        if (ss.rank() != 4 || ((Op.Softmax) sm.op()).axis() != 3 && ((Op.Softmax) sm.op()).axis() != -1) return null;
        Dim bw = ss.dim(0), heads = ss.dim(1), n = ss.dim(2);
        if (!heads.isConstant() || !ss.dim(3).equals(n) || !f32(sm)) return null;
        // softmax -> matmul(p, v) -> permute [0, 2, 1, 3] -> reshape [Bw, n, H*hd]
        Node pv = only(users, sm);
        if (!(pv != null && pv.op() instanceof Op.MatMul m && !m.transA() && !m.transB() && pv.input(0) == sm && pv.input(1) != sm)) return null;
        Node v = pv.input(1);
        Shape vs = v.shape();
        if (vs.rank() != 4 || !vs.dim(0).equals(bw) || !vs.dim(1).equals(heads) || !vs.dim(2).equals(n) || !vs.dim(3).isConstant()) return null;
        Dim hd = vs.dim(3);
        Node tp = only(users, pv);
        if (tp == null || !isPermute(tp, 0, 2, 1, 3)) return null;
        Node out = only(users, tp);
        if (out == null || !(out.op() instanceof Op.Reshape) || !out.shape().equals(Shape.of(bw, n, heads.times(hd)))) return null;

        // the scores, with the optional mask and bias
        Node s = sm.input(0), mask = null, bias = null;
        if (s.op() instanceof Op.Reshape && only(users, s) == sm) {
            Node add = s.input(0);
            if (!isAdd(add) || only(users, add) != s) return null;
            Shape as = add.shape();
            if (as.rank() != 5 || !as.dim(2).equals(heads) || !as.dim(3).equals(n) || !as.dim(4).equals(n)) return null;
            Node inner = null;
            for (int side = 0; side < 2; side++) {
                Node a = add.input(side), o = add.input(1 - side);
                if (a.op() instanceof Op.Reshape && a.shape().equals(as) && a.input(0).shape().equals(ss) && only(users, a) == add
                        && o.shape().equals(Shape.of(as.dim(1), Dim.of(1), n, n))) {
                    inner = a;
                    mask = o;
                    break;
                }
            }
            if (inner == null || !f32(mask) || !constantOnly(mask)) return null;
            s = inner.input(0);
        }
        if (isAdd(s)) {
            if (only(users, s) == null) return null;
            Node scores = null;
            for (int side = 0; side < 2; side++) {
                Node a = s.input(side), o = s.input(1 - side);
                if (a.shape().equals(ss) && o.shape().equals(Shape.of(heads, n, n)) && a.op() instanceof Op.MatMul) {
                    scores = a;
                    bias = o;
                    break;
                }
            }
            if (scores == null || !f32(bias)) return null;
            s = scores;
        }
        if (!(s.op() instanceof Op.MatMul mm) || mm.transA() || !s.shape().equals(ss) || only(users, s) == null) return null;

        // q * c and k (transposed)
        Node qs = s.input(0), kT = s.input(1), k;
        if (mm.transB()) k = kT;
        else if (isPermute(kT, 0, 1, 3, 2) && only(users, kT) == s) k = kT.input(0);
        else return null;
        if (!isMul(qs) || only(users, qs) != s) return null;
        Node q = null;
        double scale = 0;
        for (int side = 0; side < 2; side++) {
            Node c = qs.input(side);
            if (c.op() instanceof Op.Constant cst && c.shape().rank() == 0 && f32(c)) {
                q = qs.input(1 - side);
                scale = cst.value();
                break;
            }
        }
        if (q == null) return null;

        // q, k, v: the three slices of one permuted reshape of qkv
        Node t = slicedFrom(q, 0, qs, users), tk = slicedFrom(k, 1, k == kT ? s : kT, users), tv = slicedFrom(v, 2, pv, users);
        if (t == null || t != tk || t != tv || !isPermute(t, 2, 0, 3, 1, 4) || users.get(t).size() != 3) return null;
        Node r = t.input(0);
        if (!(r.op() instanceof Op.Reshape) || only(users, r) != t || !r.shape().equals(Shape.of(bw, n, Dim.of(3), heads, hd))) return null;
        Node qkv = r.input(0);
        if (!qkv.shape().equals(Shape.of(bw, n, heads.times(hd).times(Dim.of(3)))) || !f32(qkv)) return null;
        return new Match(out, new Op.Attention((int) heads.constant(), scale, bias != null, mask != null), qkv, bias, mask);
    }

    /** x = reshape(slice(t, axis 0, i:i+1), [Bw, H, n, hd]) read only by {@code reader}: t, else null. */
    private static Node slicedFrom(Node x, int i, Node reader, Map<Node, List<Node>> users) {
        if (!(x.op() instanceof Op.Reshape) || only(users, x) != reader || !f32(x)) return null;
        Node sl = x.input(0);
        if (!(sl.op() instanceof Op.Slice s) || only(users, sl) != x || s.axis() != 0 || s.start() != i || s.step() != 1) return null;
        Node t = sl.input(0);
        if (t.shape().rank() != 5 || !t.shape().dim(0).equals(Dim.of(3)) || !sl.shape().dim(0).equals(Dim.of(1))) return null;
        if (!x.shape().equals(new Shape(t.shape().dims().subList(1, 5)))) return null;
        return t;
    }


    private static boolean isAdd(Node n) { return n.op() instanceof Op.Binary b && b.fn() == Op.BinaryFn.ADD && f32(n); }

    private static boolean isMul(Node n) { return n.op() instanceof Op.Binary b && b.fn() == Op.BinaryFn.MUL && f32(n); }

    private static boolean f32(Node n) { return n.dtype() == DType.F32; }


    /** Whether {@code n} depends on no parameter, input, state or random number. */
    private static boolean constantOnly(Node n) {
        Set<Node> seen = new HashSet<>();
        ArrayDeque<Node> work = new ArrayDeque<>(List.of(n));
        while (!work.isEmpty()) {
            Node x = work.pop();
            if (!seen.add(x)) continue;
            if (x.op() instanceof Op.Param || x.op() instanceof Op.Input || x.op() instanceof Op.State || x.op() instanceof Op.Random) return false;
            work.addAll(x.inputs());
        }
        return true;
    }
}
