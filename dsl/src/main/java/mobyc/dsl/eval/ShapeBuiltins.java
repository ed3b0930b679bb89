package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
import mobyc.dsl.eval.Value.*;

/** Creating tensors and moving data: reshape, permute, concat, roll, pad, gather, chunk and friends. */
final class ShapeBuiltins {
    private ShapeBuiltins() {}

    static void register() {
        for (String name : new String[] {"reshape", "view"}) {
            Builtins.register(name, (a, c) -> {
                var m = a.bind(name, "x", "shape");
                Node x = c.tensor(m.get("x"), name + "'s x");
                Shape s = inferShape(x, c.list(m.get("shape"), "shape"), c);
                return new TensorV(c.at(() -> c.g().reshape(x, s)));
            });
        }
        Builtins.register("flatten", (a, c) -> {
            var m = a.bind("flatten", "x", "start?", "end?");
            Node x = c.tensor(m.get("x"), "flatten's x");
            if (x.shape().rank() == 0) return new TensorV(c.g().reshape(x, Shape.of(1)));
            int s = c.axis(x, m.get("start") == null ? new IntV(0) : m.get("start"));
            int e = c.axis(x, m.get("end") == null ? new IntV(-1) : m.get("end"));
            if (e < s) throw new EvalError(c.pos(), "flatten: end axis comes before start axis");
            List<Dim> dims = new ArrayList<>(x.shape().dims().subList(0, s));
            Dim n = Dim.of(1);
            for (int i = s; i <= e; i++) n = n.times(x.shape().dim(i));
            dims.add(n);
            dims.addAll(x.shape().dims().subList(e + 1, x.shape().rank()));
            return new TensorV(c.at(() -> c.g().reshape(x, new Shape(dims))));
        });
        Builtins.register("permute", (a, c) -> {
            var m = a.bind("permute", "x", "dims");
            Node x = c.tensor(m.get("x"), "permute's x");
            List<Value> ds = c.list(m.get("dims"), "dims");
            int[] perm = new int[ds.size()];
            for (int i = 0; i < perm.length; i++) {
                long d = c.integer(ds.get(i), "a permute axis");
                int r = x.shape().rank();
                if (d < -r || d >= r) throw new EvalError(c.pos(), "permute axis " + d + " is out of range for a tensor of rank " + r);
                perm[i] = (int) (d < 0 ? d + r : d);
            }
            return new TensorV(c.at(() -> c.g().permute(x, perm)));
        });
        Builtins.register("transpose", (a, c) -> {
            var m = a.bind("transpose", "x", "a", "b");
            Node x = c.tensor(m.get("x"), "transpose's x");
            int i = c.axis(x, m.get("a")), j = c.axis(x, m.get("b"));
            int[] perm = new int[x.shape().rank()];
            for (int k = 0; k < perm.length; k++) perm[k] = k;
            perm[i] = j;
            perm[j] = i;
            return new TensorV(c.at(() -> c.g().permute(x, perm)));
        });
        Builtins.register("unsqueeze", (a, c) -> {
            var m = a.bind("unsqueeze", "x", "axis");
            Node x = c.tensor(m.get("x"), "unsqueeze's x");
            long ax = c.integer(m.get("axis"), "axis");
            int r = x.shape().rank();
            if (ax < -r - 1 || ax > r) throw new EvalError(c.pos(), "axis " + ax + " is out of range for unsqueeze of a rank-" + r + " tensor");
            int at = (int) (ax < 0 ? ax + r + 1 : ax);
            List<Dim> dims = new ArrayList<>(x.shape().dims());
            dims.add(at, Dim.of(1));
            return new TensorV(c.at(() -> c.g().reshape(x, new Shape(dims))));
        });
        Builtins.register("squeeze", (a, c) -> {
            var m = a.bind("squeeze", "x", "axis?");
            Node x = c.tensor(m.get("x"), "squeeze's x");
            List<Dim> dims = new ArrayList<>();
            int only = m.get("axis") == null ? -1 : c.axis(x, m.get("axis"));
            for (int i = 0; i < x.shape().rank(); i++) {
                boolean one = x.shape().dim(i).equals(Dim.of(1));
                if (i == only && !one) throw new EvalError(c.pos(), "squeeze: axis " + i + " has size " + x.shape().dim(i) + ", not 1");
                if (one && (only < 0 || i == only)) continue;
                dims.add(x.shape().dim(i));
            }
            return new TensorV(c.at(() -> c.g().reshape(x, new Shape(dims))));
        });
        Builtins.register("expand", (a, c) -> {
            var m = a.bind("expand", "x", "shape");
            Node x = c.tensor(m.get("x"), "expand's x");
            List<Value> want = c.list(m.get("shape"), "shape");
            List<Dim> dims = new ArrayList<>();
            int offset = want.size() - x.shape().rank();
            for (int i = 0; i < want.size(); i++) {
                Value v = want.get(i);
                boolean keep = v instanceof IntV iv && iv.v() == -1;
                if (keep && i < offset) throw new EvalError(c.pos(), "expand: -1 is not allowed for a new leading axis");
                dims.add(keep ? x.shape().dim(i - offset) : c.dim(v));
            }
            return new TensorV(c.at(() -> c.g().expand(x, new Shape(dims))));
        });
        for (String name : new String[] {"concat", "cat"}) {
            Builtins.register(name, (a, c) -> {
                var m = a.bind(name, "tensors", "axis?");
                List<Node> xs = tensors(c.list(m.get("tensors"), "tensors"), c);
                if (xs.isEmpty()) throw new EvalError(c.pos(), name + " needs at least one tensor");
                int axis = c.axis(xs.getFirst(), m.get("axis") == null ? new IntV(0) : m.get("axis"));
                return new TensorV(xs.size() == 1 ? xs.getFirst() : c.at(() -> c.g().concat(xs, axis)));
            });
        }
        Builtins.register("stack", (a, c) -> {
            var m = a.bind("stack", "tensors", "axis?");
            List<Node> xs = tensors(c.list(m.get("tensors"), "tensors"), c);
            if (xs.isEmpty()) throw new EvalError(c.pos(), "stack needs at least one tensor");
            long ax = m.get("axis") == null ? 0 : c.integer(m.get("axis"), "axis");
            int r = xs.getFirst().shape().rank();
            if (ax < -r - 1 || ax > r) throw new EvalError(c.pos(), "axis " + ax + " is out of range for stack");
            int at = (int) (ax < 0 ? ax + r + 1 : ax);
            List<Node> parts = new ArrayList<>();
            for (Node x : xs) {
                List<Dim> dims = new ArrayList<>(x.shape().dims());
                dims.add(at, Dim.of(1));
                parts.add(c.at(() -> c.g().reshape(x, new Shape(dims))));
            }
            return new TensorV(parts.size() == 1 ? parts.getFirst() : c.at(() -> c.g().concat(parts, at)));
        });
        Builtins.register("roll", (a, c) -> {
            var m = a.bind("roll", "x", "shifts", "axes?");
            Node x = c.tensor(m.get("x"), "roll's x");
            List<Value> sh = m.get("shifts") instanceof ListV l ? l.items() : List.of(m.get("shifts"));
            if (m.get("axes") == null) {
                if (sh.size() != 1) throw new EvalError(c.pos(), "roll without axes takes one shift");
                Node flat = c.at(() -> c.g().reshape(x, new Shape(List.of(x.shape().numel()))));
                int s = (int) c.integer(sh.getFirst(), "shift");
                Node r = c.at(() -> c.g().roll(flat, new int[] {s}, new int[] {0}));
                return new TensorV(c.at(() -> c.g().reshape(r, x.shape())));
            }
            int[] axes = c.axes(x, m.get("axes"));
            if (axes.length != sh.size()) throw new EvalError(c.pos(), "roll: " + sh.size() + " shifts for " + axes.length + " axes");
            int[] shifts = new int[axes.length];
            for (int i = 0; i < shifts.length; i++) {
                long s = c.integer(sh.get(i), "shift");
                if (Math.abs(s) > Integer.MAX_VALUE / 2) throw new EvalError(c.pos(), "shift " + s + " is out of range");
                shifts[i] = (int) s;
            }
            return new TensorV(c.at(() -> c.g().roll(x, shifts, axes)));
        });
        Builtins.register("pad", (a, c) -> {
            var m = a.bind("pad", "x", "pads", "value?");
            Node x = c.tensor(m.get("x"), "pad's x");
            List<Value> p = c.list(m.get("pads"), "pads");
            int r = x.shape().rank();
            if (p.size() % 2 != 0 || p.size() > 2 * r)
                throw new EvalError(c.pos(), "pad takes pairs (before, after) from the last axis backwards, at most " + r + " pairs; got " + p.size() + " numbers");
            long[] before = new long[r], after = new long[r];
            for (int i = 0; i < p.size() / 2; i++) {
                before[r - 1 - i] = c.integer(p.get(2 * i), "a pad amount");
                after[r - 1 - i] = c.integer(p.get(2 * i + 1), "a pad amount");
                if (before[r - 1 - i] < 0 || after[r - 1 - i] < 0) throw new EvalError(c.pos(), "pad amounts must not be negative");
            }
            double value = m.get("value") == null ? 0 : c.number(m.get("value"), "value");
            return new TensorV(c.at(() -> c.g().pad(x, before, after, value)));
        });
        Builtins.register("gather", (a, c) -> {
            var m = a.bind("gather", "table", "index");
            return new TensorV(c.at(() -> c.g().gather(c.tensor(m.get("table"), "gather's table"), c.tensor(m.get("index"), "gather's index"))));
        });
        Builtins.register("chunk", (a, c) -> {
            var m = a.bind("chunk", "x", "chunks", "axis?");
            Node x = c.tensor(m.get("x"), "chunk's x");
            long n = c.integer(m.get("chunks"), "chunks");
            int axis = c.axis(x, m.get("axis") == null ? new IntV(0) : m.get("axis"));
            Dim len = x.shape().dim(axis);
            if (n <= 0) throw new EvalError(c.pos(), "chunks must be positive");
            if (!len.isConstant()) throw new EvalError(c.pos(), "chunk needs a known size on axis " + axis + ", which is " + len);
            long size = (len.constant() - 1) / n + 1;
            List<Value> out = new ArrayList<>();
            for (long s = 0; s < len.constant(); s += size) {
                long st = s;
                out.add(new TensorV(c.at(() -> c.g().slice(x, axis, st, Math.min(st + size, len.constant()), 1))));
            }
            return new ListV(out);
        });
        Builtins.register("unbind", (a, c) -> {
            var m = a.bind("unbind", "x", "axis?");
            Node x = c.tensor(m.get("x"), "unbind's x");
            int axis = c.axis(x, m.get("axis") == null ? new IntV(0) : m.get("axis"));
            Dim len = x.shape().dim(axis);
            if (!len.isConstant()) throw new EvalError(c.pos(), "unbind needs a known size on axis " + axis + ", which is " + len);
            if (len.constant() > 4096) throw new EvalError(c.pos(), "unbind into " + len.constant() + " tensors is too many");
            List<Dim> dims = new ArrayList<>(x.shape().dims());
            dims.remove(axis);
            List<Value> out = new ArrayList<>();
            for (long i = 0; i < len.constant(); i++) {
                long s = i;
                Node sl = c.at(() -> c.g().slice(x, axis, s, s + 1, 1));
                out.add(new TensorV(c.at(() -> c.g().reshape(sl, new Shape(dims)))));
            }
            return new ListV(out);
        });

        Builtins.register("zeros", (a, c) -> full(a, c, "zeros", 0));
        Builtins.register("ones", (a, c) -> full(a, c, "ones", 1));
        Builtins.register("full", (a, c) -> {
            var m = a.bind("full", "shape", "value", "dtype?");
            DType dt = Builtins.dtypeArg(m.get("dtype"), c);
            Shape s = c.shape(m.get("shape"), "shape");
            return new TensorV(c.at(() -> c.g().expand(Ops.scalar(m.get("value"), dt, c.pos(), c.g()), s)));
        });
        Builtins.register("zeros_like", (a, c) -> like(a, c, "zeros_like", 0));
        Builtins.register("ones_like", (a, c) -> like(a, c, "ones_like", 1));
        Builtins.register("arange", (a, c) -> {
            var m = a.bind("arange", "n", "dtype?");
            long n = c.integer(m.get("n"), "arange's n");
            if (n <= 0 || n > Dim.MAX) throw new EvalError(c.pos(), "arange(" + n + "): n must be between 1 and " + Dim.MAX);
            DType dt = m.get("dtype") == null ? DType.I32 : Builtins.dtypeArg(m.get("dtype"), c);
            return new TensorV(c.at(() -> c.g().arange(n, dt)));
        });
    }

    private static Value full(Args a, Builtins.Ctx c, String name, double v) {
        var m = a.bind(name, "shape", "dtype?");
        DType dt = Builtins.dtypeArg(m.get("dtype"), c);
        Shape s = c.shape(m.get("shape"), "shape");
        return new TensorV(c.at(() -> c.g().expand(c.g().constant(v, dt), s)));
    }

    private static Value like(Args a, Builtins.Ctx c, String name, double v) {
        Node x = c.tensor(a.bind(name, "x").get("x"), name + "'s x");
        return new TensorV(c.at(() -> c.g().expand(c.g().constant(v, x.dtype()), x.shape())));
    }

    private static List<Node> tensors(List<Value> vs, Builtins.Ctx c) {
        List<Node> out = new ArrayList<>();
        for (Value v : vs) out.add(c.tensor(v, "each item"));
        return out;
    }

    /** A target shape with at most one -1, inferred from the element count (exactly, also for symbolic sizes). */
    static Shape inferShape(Node x, List<Value> want, Builtins.Ctx c) {
        List<Dim> dims = new ArrayList<>();
        int infer = -1;
        Dim known = Dim.of(1);
        for (int i = 0; i < want.size(); i++) {
            Value v = want.get(i);
            if (v instanceof IntV iv && iv.v() == -1) {
                if (infer >= 0) throw new EvalError(c.pos(), "reshape: only one size may be -1");
                infer = i;
                dims.add(null);
                continue;
            }
            Dim d = c.dim(v);
            if (d.isConstant() && d.constant() <= 0) throw new EvalError(c.pos(), "reshape: size " + d + " must be positive");
            dims.add(d);
            try {
                known = known.times(d);
            } catch (ArithmeticException e) {
                throw new EvalError(c.pos(), "reshape: size overflow in " + want);
            }
        }
        if (infer >= 0) {
            Dim q = x.shape().numel().dividedBy(known);
            if (q == null) throw new EvalError(c.pos(), "cannot reshape " + x.shape() + " to " + want + ": " + x.shape().numel() + " elements do not divide by " + known);
            dims.set(infer, q);
        }
        return new Shape(dims);
    }
}
