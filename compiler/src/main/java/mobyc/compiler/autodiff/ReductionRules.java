package mobyc.compiler.autodiff;

import static mobyc.compiler.autodiff.ElementwiseRules.c;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Op.BinaryFn;
import mobyc.compiler.ir.Op.ReduceFn;
import mobyc.compiler.ir.Op.UnaryFn;
import mobyc.compiler.ir.Shape;

/** Rules for reductions, normalisations and the cross-entropy loss. */
final class ReductionRules {
    private ReductionRules() {}

    /** The shape of {@code x} with {@code axes} kept as size 1 (where a reduced value broadcasts back). */
    static Shape kept(Shape x, int[] axes) {
        List<Dim> d = new ArrayList<>(x.dims());
        for (int a : axes) d.set(a, Dim.of(1));
        return new Shape(d);
    }

    static int[] norm(Shape s, int[] axes) {
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) out[i] = s.axis(axes[i]);
        return out;
    }

    /** Number of elements reduced over {@code axes}, as a scalar node (a run-time count when sizes are symbolic). */
    static Node count(GraphBuilder b, Node x, int[] axes) {
        Dim n = Dim.of(1);
        for (int a : axes) n = n.times(x.shape().dim(a));
        if (n.isConstant()) return b.constant(n.constant(), x.dtype());
        return b.reduce(ReduceFn.SUM, b.expand(b.constant(1, x.dtype()), x.shape()), axes, true);
    }

    static List<Node> reduce(GraphBuilder b, Node y, Node g) {
        Op.Reduce r = (Op.Reduce) y.op();
        Node x = y.input(0);
        int[] axes = norm(x.shape(), r.axes());
        Node gk = b.reshape(g, kept(x.shape(), axes));
        Node gx = switch (r.fn()) {
            case SUM -> b.expand(gk, x.shape());
            case MEAN -> b.div(b.expand(gk, x.shape()), count(b, x, axes));
            case MAX -> {
                Node yk = b.reshape(y, kept(x.shape(), axes));
                Node hit = b.binary(BinaryFn.EQ, x, yk);
                Node ties = b.reduce(ReduceFn.SUM, hit, axes, true);
                yield b.mul(hit, b.div(gk, ties));
            }
        };
        return Arrays.asList(gx);
    }

    static List<Node> softmax(GraphBuilder b, Node y, Node g) {
        int axis = y.shape().axis(((Op.Softmax) y.op()).axis());
        Node dot = b.reduce(ReduceFn.SUM, b.mul(g, y), new int[] {axis}, true);
        return Arrays.asList(b.mul(y, b.sub(g, dot)));
    }

    static List<Node> logSoftmax(GraphBuilder b, Node y, Node g) {
        int axis = y.shape().axis(((Op.LogSoftmax) y.op()).axis());
        Node sum = b.reduce(ReduceFn.SUM, g, new int[] {axis}, true);
        return Arrays.asList(b.sub(g, b.mul(b.unary(UnaryFn.EXP, y), sum)));
    }

    static List<Node> layerNorm(GraphBuilder b, Node y, Node g) {
        double eps = ((Op.LayerNorm) y.op()).eps();
        Node x = y.input(0), w = y.input(1);
        // the input gradient in one kernel, the weight's and bias's in another ([2, C]: sum of g xhat, sum of g)
        Node gx = b.add(new Op.LayerNormGrad(eps), List.of(x, w, g), null, null);
        Node sums = b.add(new Op.LayerNormParamGrad(eps), List.of(x, g), null, null);
        Node gw = b.reshape(b.slice(sums, 0, 0, 1, 1), w.shape());
        Node gb = b.reshape(b.slice(sums, 0, 1, 2, 1), w.shape());
        return Arrays.asList(gx, gw, gb);
    }

    static List<Node> batchNorm(GraphBuilder b, Node y, Node g) {
        Op.BatchNorm bn = (Op.BatchNorm) y.op();
        Node x = y.input(0), mean = y.input(1), var = y.input(2), w = y.input(3);
        int axis = x.shape().axis(bn.axis());
        List<Dim> cd = new ArrayList<>();
        for (int i = 0; i < x.shape().rank(); i++) cd.add(i == axis ? x.shape().dim(i) : Dim.of(1));
        Shape cs = new Shape(cd);
        int[] others = new int[x.shape().rank() - 1];
        for (int i = 0, k = 0; i < x.shape().rank(); i++) if (i != axis) others[k++] = i;
        Node rstd = b.reshape(b.unary(UnaryFn.RSQRT, b.add(var, c(b, bn.eps(), var))), cs);
        Node xc = b.sub(x, b.reshape(mean, cs));
        Node gw = b.reduce(ReduceFn.SUM, b.mul(g, b.mul(xc, rstd)), others, false);
        Node gb = b.reduce(ReduceFn.SUM, g, others, false);
        Node gs = b.mul(g, b.reshape(w, cs));
        Node gx = b.mul(gs, rstd);
        Node gmean = b.unary(UnaryFn.NEG, b.reduce(ReduceFn.SUM, gx, others, false));
        Node r3 = b.mul(rstd, b.mul(rstd, rstd));
        Node gvar = b.reshape(b.reduce(ReduceFn.SUM, b.mul(b.mul(gs, xc), b.mul(r3, c(b, -0.5, x))), others, true), var.shape());
        return Arrays.asList(gx, gmean, gvar, gw, gb);
    }

    static List<Node> l2Normalize(GraphBuilder b, Node y, Node g) {
        Op.L2Normalize op = (Op.L2Normalize) y.op();
        Node x = y.input(0);
        int[] ax = {x.shape().axis(op.axis())};
        Node n = b.unary(UnaryFn.SQRT, b.reduce(ReduceFn.SUM, b.mul(x, x), ax, true));
        Node d = b.binary(BinaryFn.MAX, n, c(b, op.eps(), x));
        Node above = b.binary(BinaryFn.GT, n, c(b, op.eps(), x));
        Node dot = b.reduce(ReduceFn.SUM, b.mul(g, y), ax, true);
        return Arrays.asList(b.div(b.sub(g, b.mul(y, b.mul(dot, above))), d));
    }

    static List<Node> crossEntropy(GraphBuilder b, Node y, Node g) {
        Node logits = y.input(0), labels = y.input(1);
        Dim n = logits.shape().dim(0), classes = logits.shape().dim(1);
        if (!classes.isConstant()) throw new IllegalArgumentException("cross_entropy gradient needs a known class count");
        Node p = b.softmax(logits, 1);
        Node cls = b.reshape(b.arange(classes.constant(), DType.I32), Shape.of(Dim.of(1), classes));
        Node onehot = b.cast(b.binary(BinaryFn.EQ, cls, b.reshape(labels, Shape.of(n, Dim.of(1)))), logits.dtype());
        Node gl = b.mul(b.sub(p, onehot), b.reshape(g, Shape.of(n, Dim.of(1))));
        return Arrays.asList(gl, null);
    }
}
