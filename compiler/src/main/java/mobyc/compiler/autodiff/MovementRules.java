package mobyc.compiler.autodiff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Op.BinaryFn;
import mobyc.compiler.ir.Shape;

/** Rules for data movement: each is the adjoint map (reshape back, inverse permutation, scatter by padding). */
final class MovementRules {
    private MovementRules() {}

    static List<Node> reshape(GraphBuilder b, Node y, Node g) { return Arrays.asList(b.reshape(g, y.input(0).shape())); }

    static List<Node> permute(GraphBuilder b, Node y, Node g) {
        int[] p = ((Op.Permute) y.op()).perm();
        int[] inv = new int[p.length];
        for (int i = 0; i < p.length; i++) inv[p[i]] = i;
        return Arrays.asList(b.permute(g, inv));
    }

    static List<Node> expand(GraphBuilder b, Node y, Node g) { return Arrays.asList(b.sumTo(g, y.input(0).shape())); }

    /** The gradient of a slice is the gradient put back in place, zeros elsewhere: pads, and for steps an interleave. */
    static List<Node> slice(GraphBuilder b, Node y, Node g) {
        Op.Slice s = (Op.Slice) y.op();
        Node x = y.input(0);
        int ax = x.shape().axis(s.axis());
        long len = x.shape().dim(ax).constant();
        long start = Math.clamp(s.start() < 0 ? s.start() + len : s.start(), 0, len);
        long count = y.shape().dim(ax).constant();
        long k = s.step();
        Node t = g;
        if (k > 1) {
            List<Dim> d = new ArrayList<>(g.shape().dims());
            d.add(ax + 1, Dim.of(1));
            t = b.reshape(g, new Shape(d));
            long[] before = new long[d.size()], after = new long[d.size()];
            after[ax + 1] = k - 1;
            t = b.pad(t, before, after, 0);
            t = b.reshape(t, g.shape().with(ax, Dim.of(count * k)));
        }
        long covered = start + count * k;
        long[] before = new long[x.shape().rank()], after = new long[x.shape().rank()];
        before[ax] = start;
        if (covered <= len) after[ax] = len - covered;
        t = b.pad(t, before, after, 0);
        if (covered > len) t = b.slice(t, ax, 0, len, 1);
        return Arrays.asList(t);
    }

    static List<Node> concat(GraphBuilder b, Node y, Node g) {
        int ax = y.shape().axis(((Op.Concat) y.op()).axis());
        List<Node> out = new ArrayList<>();
        Dim offset = Dim.of(0);
        for (Node in : y.inputs()) {
            Dim len = in.shape().dim(ax);
            if (!offset.isConstant() || !len.isConstant()) {
                if (y.inputs().size() == 1) { out.add(g); break; }
                throw new IllegalArgumentException("concat gradient needs known sizes along axis " + ax);
            }
            out.add(b.slice(g, ax, offset.constant(), offset.constant() + len.constant(), 1));
            offset = offset.plus(len);
        }
        return out;
    }

    static List<Node> roll(GraphBuilder b, Node y, Node g) {
        Op.Roll r = (Op.Roll) y.op();
        int[] back = new int[r.shifts().length];
        for (int i = 0; i < back.length; i++) back[i] = -r.shifts()[i];
        return Arrays.asList(b.roll(g, back, r.axes()));
    }

    static List<Node> pad(GraphBuilder b, Node y, Node g) {
        Op.Pad p = (Op.Pad) y.op();
        Node t = g;
        Shape xs = y.input(0).shape();
        for (int i = 0; i < xs.rank(); i++) {
            if (p.before()[i] == 0 && p.after()[i] == 0) continue;
            Dim n = xs.dim(i);
            if (!n.isConstant()) throw new IllegalArgumentException("pad gradient needs a known size on axis " + i);
            t = b.slice(t, i, p.before()[i], p.before()[i] + n.constant(), 1);
        }
        return Arrays.asList(t);
    }

    /** The adjoint of a row gather is a scatter-add, done as onehot(index)^T @ g (tables here are small). */
    static List<Node> gather(GraphBuilder b, Node y, Node g) {
        Node table = y.input(0), index = y.input(1);
        Dim rows = table.shape().dim(0);
        Dim m = index.shape().numel();
        Dim width = table.shape().numel().dividedBy(rows);
        if (!rows.isConstant()) throw new IllegalArgumentException("gather gradient needs a known table size");
        Node flatIndex = b.reshape(index, Shape.of(m, Dim.of(1)));
        Node ids = b.reshape(b.arange(rows.constant(), DType.I32), Shape.of(Dim.of(1), rows));
        Node onehot = b.cast(b.binary(BinaryFn.EQ, flatIndex, ids), g.dtype());
        Node g2 = b.reshape(g, Shape.of(m, width));
        Node gt = b.matmul(b.permute(onehot, 1, 0), g2);
        return Arrays.asList(b.reshape(gt, table.shape()), null);
    }
}
