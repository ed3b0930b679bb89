package mobyc.dsl.eval;

import java.util.function.DoubleUnaryOperator;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.dsl.eval.Value.*;

/** Elementwise math, reductions, normalisations, losses, contractions and randomness. */
final class TensorBuiltins {
    private TensorBuiltins() {}

    static void register() {
        unary("exp", Op.UnaryFn.EXP, Math::exp);
        unary("log", Op.UnaryFn.LOG, Math::log);
        unary("sqrt", Op.UnaryFn.SQRT, Math::sqrt);
        unary("rsqrt", Op.UnaryFn.RSQRT, v -> 1 / Math.sqrt(v));
        unary("tanh", Op.UnaryFn.TANH, Math::tanh);
        unary("erf", Op.UnaryFn.ERF, null);
        unary("relu", Op.UnaryFn.RELU, v -> Math.max(v, 0));
        unary("gelu", Op.UnaryFn.GELU, null);
        unary("abs", Op.UnaryFn.ABS, Math::abs);
        unary("sigmoid", Op.UnaryFn.SIGMOID, v -> 1 / (1 + Math.exp(-v)));
        unary("floor", Op.UnaryFn.FLOOR, Math::floor);
        unary("neg", Op.UnaryFn.NEG, v -> -v);
        Builtins.register("pow", (a, c) -> {
            var m = a.bind("pow", "x", "y");
            return Ops.binary("**", m.get("x"), m.get("y"), c.pos(), c.g());
        });
        binary("maximum", Op.BinaryFn.MAX);
        binary("minimum", Op.BinaryFn.MIN);
        Builtins.register("where", (a, c) -> {
            var m = a.bind("where", "cond", "a", "b");
            Node cond = c.tensor(m.get("cond"), "where's condition");
            Node x = m.get("a") instanceof TensorV t ? t.node() : null, y = m.get("b") instanceof TensorV t ? t.node() : null;
            Node like = x != null ? x : y != null ? y : cond;
            Node xa = c.tensorOr(m.get("a"), like, "where's a"), yb = c.tensorOr(m.get("b"), like, "where's b");
            return new TensorV(c.at(() -> c.g().where(c.g().cast(cond, xa.dtype()), xa, yb)));
        });
        Builtins.register("stop_grad", (a, c) -> c.el().detach(a.bind("stop_grad", "x").get("x")));
        Builtins.register("detach", (a, c) -> c.el().detach(a.bind("detach", "x").get("x")));

        Builtins.register("sum", (a, c) -> reduce(Op.ReduceFn.SUM, "sum", a, c));
        Builtins.register("mean", (a, c) -> reduce(Op.ReduceFn.MEAN, "mean", a, c));
        Builtins.register("var", (a, c) -> {
            var m = a.bind("var", "x", "axis?", "keepdim?", "unbiased?");
            Node x = c.tensor(m.get("x"), "var's x");
            int[] axes = c.axes(x, m.get("axis"));
            boolean keep = m.get("keepdim") != null && c.bool(m.get("keepdim"), "keepdim");
            boolean unbiased = m.get("unbiased") != null && c.bool(m.get("unbiased"), "unbiased");
            return new TensorV(c.at(() -> variance(c.g(), x, axes, keep, unbiased)));
        });

        Builtins.register("softmax", (a, c) -> {
            var m = a.bind("softmax", "x", "axis?");
            Node x = c.tensor(m.get("x"), "softmax's x");
            return new TensorV(c.at(() -> c.g().softmax(x, c.axis(x, orInt(m.get("axis"), -1)))));
        });
        Builtins.register("log_softmax", (a, c) -> {
            var m = a.bind("log_softmax", "x", "axis?");
            Node x = c.tensor(m.get("x"), "log_softmax's x");
            return new TensorV(c.at(() -> c.g().logSoftmax(x, c.axis(x, orInt(m.get("axis"), -1)))));
        });
        Builtins.register("layer_norm", (a, c) -> {
            var m = a.bind("layer_norm", "x", "weight", "bias", "eps?");
            Node x = c.tensor(m.get("x"), "layer_norm's x");
            double eps = m.get("eps") == null ? 1e-5 : c.number(m.get("eps"), "eps");
            return new TensorV(c.at(() -> c.g().layerNorm(x, c.tensor(m.get("weight"), "weight"), c.tensor(m.get("bias"), "bias"), eps)));
        });
        Builtins.register("batch_norm", (a, c) -> {
            var m = a.bind("batch_norm", "x", "mean", "var", "weight", "bias", "eps?", "axis?");
            Node x = c.tensor(m.get("x"), "batch_norm's x");
            double eps = m.get("eps") == null ? 1e-5 : c.number(m.get("eps"), "eps");
            int axis = c.axis(x, orInt(m.get("axis"), 1));
            return new TensorV(c.at(() -> c.g().batchNorm(x, c.tensor(m.get("mean"), "mean"), c.tensor(m.get("var"), "var"),
                    c.tensor(m.get("weight"), "weight"), c.tensor(m.get("bias"), "bias"), axis, eps)));
        });
        for (String name : new String[] {"l2_normalize", "normalize"}) {
            Builtins.register(name, (a, c) -> {
                var m = a.bind(name, "x", "axis?", "eps?");
                Node x = c.tensor(m.get("x"), name + "'s x");
                double eps = m.get("eps") == null ? 1e-12 : c.number(m.get("eps"), "eps");
                return new TensorV(c.at(() -> c.g().l2Normalize(x, c.axis(x, orInt(m.get("axis"), -1)), eps)));
            });
        }
        Builtins.register("cross_entropy", (a, c) -> {
            var m = a.bind("cross_entropy", "logits", "labels", "reduction?");
            Node x = c.tensor(m.get("logits"), "logits"), y = c.tensor(m.get("labels"), "labels");
            String red = m.get("reduction") == null ? "mean" : Elaborator.str(m.get("reduction"));
            Node per = c.at(() -> c.g().crossEntropy(x, y));
            return new TensorV(switch (red) {
                case "mean" -> c.g().reduce(Op.ReduceFn.MEAN, per, new int[] {0}, false);
                case "sum" -> c.g().reduce(Op.ReduceFn.SUM, per, new int[] {0}, false);
                case "none" -> per;
                default -> throw new EvalError(c.pos(), "reduction must be \"mean\", \"sum\" or \"none\", got \"" + red + "\"");
            });
        });

        Builtins.register("matmul", (a, c) -> {
            var m = a.bind("matmul", "a", "b");
            return Ops.binary("@", m.get("a"), m.get("b"), c.pos(), c.g());
        });
        Builtins.register("linear", (a, c) -> {
            var m = a.bind("linear", "x", "weight", "bias?");
            Node x = c.tensor(m.get("x"), "linear's x"), w = c.tensor(m.get("weight"), "linear's weight");
            if (w.shape().rank() != 2) throw new EvalError(c.pos(), "linear's weight must be [out, in], got " + w.shape());
            Node y = c.at(() -> c.g().matmul(x, c.g().permute(w, 1, 0)));
            if (m.get("bias") == null) return new TensorV(y);
            Node b = c.tensor(m.get("bias"), "linear's bias");
            return new TensorV(c.at(() -> c.g().add(y, b)));
        });
        Builtins.register("conv2d", (a, c) -> {
            var m = a.bind("conv2d", "x", "weight", "bias?", "stride?", "padding?");
            Node x = c.tensor(m.get("x"), "conv2d's x"), w = c.tensor(m.get("weight"), "conv2d's weight");
            int[] s = pair(m.get("stride"), 1, c, "stride"), p = pair(m.get("padding"), 0, c, "padding");
            if (s[0] <= 0 || s[1] <= 0) throw new EvalError(c.pos(), "conv2d stride must be positive");
            if (p[0] < 0 || p[1] < 0) throw new EvalError(c.pos(), "conv2d padding must not be negative");
            Node y = c.at(() -> c.g().conv2d(x, w, s[0], s[1], p[0], p[1]));
            if (m.get("bias") != null) {
                Node b = c.tensor(m.get("bias"), "conv2d's bias");
                Node yy = y;
                y = c.at(() -> c.g().add(yy, c.g().reshape(b, Shape.of(b.shape().dim(0), Dim.of(1), Dim.of(1)))));
            }
            return new TensorV(y);
        });

        Builtins.register("rand", (a, c) -> {
            Shape s = c.shape(a.bind("rand", "shape").get("shape"), "shape");
            return new TensorV(c.at(() -> c.g().random(s, c.stream())));
        });
        Builtins.register("dropout", (a, c) -> {
            var m = a.bind("dropout", "x", "p?");
            Node x = c.tensor(m.get("x"), "dropout's x");
            double p = m.get("p") == null ? 0.5 : c.number(m.get("p"), "p");
            checkP(p, c);
            if (!c.training() || p == 0) return new TensorV(x);
            Node u = c.g().random(x.shape(), c.stream());
            return new TensorV(keep(c.g(), x, u, p));
        });
        Builtins.register("drop_path", (a, c) -> {
            var m = a.bind("drop_path", "x", "p");
            Node x = c.tensor(m.get("x"), "drop_path's x");
            double p = c.number(m.get("p"), "p");
            checkP(p, c);
            if (!c.training() || p == 0) return new TensorV(x);
            Dim[] dims = new Dim[x.shape().rank()];
            dims[0] = x.shape().dim(0);
            for (int i = 1; i < dims.length; i++) dims[i] = Dim.of(1);
            Node u = c.g().random(Shape.of(dims), c.stream());
            return new TensorV(keep(c.g(), x, u, p));
        });
    }

    /** x * (u >= p) / (1 - p): keeps each element (or sample) with probability 1 - p. */
    private static Node keep(GraphBuilder g, Node x, Node u, double p) {
        Node mask = g.binary(Op.BinaryFn.GE, u, g.constant(p, DType.F32));
        return g.mul(x, g.mul(mask, g.constant(1.0 / (1.0 - p), DType.F32)));
    }

    private static void checkP(double p, Builtins.Ctx c) {
        if (!(p >= 0 && p < 1)) throw new EvalError(c.pos(), "a drop probability must be in [0, 1), got " + p);
    }

    private static Value orInt(Value v, long d) { return v == null ? new IntV(d) : v; }

    private static int[] pair(Value v, int d, Builtins.Ctx c, String what) {
        if (v == null) return new int[] {d, d};
        if (v instanceof ListV l && l.items().size() == 2)
            return new int[] {small(c.integer(l.items().get(0), what), c, what), small(c.integer(l.items().get(1), what), c, what)};
        int x = small(c.integer(v, what), c, what);
        return new int[] {x, x};
    }

    private static int small(long x, Builtins.Ctx c, String what) {
        if (Math.abs(x) > 1 << 20) throw new EvalError(c.pos(), what + " " + x + " is out of range");
        return (int) x;
    }

    static Value reduce(Op.ReduceFn fn, String name, Args a, Builtins.Ctx c) {
        var m = a.bind(name, "x", "axis?", "keepdim?");
        Node x = c.tensor(m.get("x"), name + "'s x");
        int[] axes = c.axes(x, m.get("axis"));
        boolean keep = m.get("keepdim") != null && c.bool(m.get("keepdim"), "keepdim");
        return new TensorV(c.at(() -> c.g().reduce(fn, x, axes, keep)));
    }

    /** Biased variance, or unbiased (n / (n - 1)) with n counted at run time when it depends on the batch. */
    static Node variance(GraphBuilder g, Node x, int[] axes, boolean keep, boolean unbiased) {
        Node mean = g.reduce(Op.ReduceFn.MEAN, x, axes, true);
        Node d = g.sub(x, mean);
        Node v = g.reduce(Op.ReduceFn.MEAN, g.mul(d, d), axes, keep);
        if (!unbiased) return v;
        Dim n = Dim.of(1);
        for (int ax : axes) n = n.times(x.shape().dim(ax));
        if (n.isConstant()) return g.mul(v, g.constant(n.constant() / (double) Math.max(1, n.constant() - 1), x.dtype()));
        Node count = g.reduce(Op.ReduceFn.SUM, g.expand(g.constant(1, x.dtype()), x.shape()), axes, keep);
        return g.div(g.mul(v, count), g.sub(count, g.constant(1, x.dtype())));
    }

    private static void unary(String name, Op.UnaryFn fn, DoubleUnaryOperator scalar) {
        Builtins.register(name, (a, c) -> {
            Value v = a.bind(name, "x").get("x");
            if (v instanceof TensorV t) return new TensorV(c.at(() -> c.g().unary(fn, t.node())));
            if (scalar != null && Ops.isNumber(v)) {
                if (fn == Op.UnaryFn.ABS && v instanceof IntV i) return new IntV(Math.abs(i.v()));
                return new FloatV(scalar.applyAsDouble(Ops.num(v)));
            }
            throw new EvalError(c.pos(), name + "() needs a tensor" + (scalar != null ? " or a number" : "") + ", got " + v.typeName());
        });
    }

    private static void binary(String name, Op.BinaryFn fn) {
        Builtins.register(name, (a, c) -> {
            var m = a.bind(name, "a", "b");
            Node like = m.get("a") instanceof TensorV t ? t.node() : m.get("b") instanceof TensorV t2 ? t2.node() : null;
            if (like == null) throw new EvalError(c.pos(), name + "() needs at least one tensor; for numbers use " + (fn == Op.BinaryFn.MAX ? "max" : "min") + "(a, b)");
            Node x = c.tensorOr(m.get("a"), like, "a"), y = c.tensorOr(m.get("b"), like, "b");
            return new TensorV(c.at(() -> c.g().binary(fn, x, y)));
        });
    }
}
