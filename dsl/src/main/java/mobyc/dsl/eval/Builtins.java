package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.eval.Value.*;

/**
 * The built-in functions of .moby, by name. Each is also a method: {@code x.sum(axis=1)} is {@code sum(x, axis=1)}.
 * Families live in {@link ScalarBuiltins}, {@link TensorBuiltins} and {@link ShapeBuiltins}.
 */
public final class Builtins {
    /** What a built-in sees of the elaborator: the graph, the frame, the call's position. */
    public record Ctx(Elaborator el, Frame f, Pos pos) {
        GraphBuilder g() { return el.g; }

        Node tensor(Value v, String what) {
            if (v instanceof TensorV t) return t.node();
            throw new EvalError(pos, what + " must be a tensor, got " + v.typeName());
        }

        /** A tensor, or a number made a scalar constant of type {@code like}'s dtype. */
        Node tensorOr(Value v, Node like, String what) {
            if (v instanceof TensorV t) return t.node();
            if (Ops.isNumber(v) || v instanceof BoolV) return Ops.scalar(v, like.dtype(), pos, el.g);
            throw new EvalError(pos, what + " must be a tensor or a number, got " + v.typeName());
        }

        long integer(Value v, String what) {
            if (v instanceof IntV i) return i.v();
            throw new EvalError(pos, what + " must be an int known at compile time, got " + v.typeName() + " " + v);
        }

        double number(Value v, String what) {
            if (Ops.isNumber(v)) return Ops.num(v);
            throw new EvalError(pos, what + " must be a number, got " + v.typeName());
        }

        boolean bool(Value v, String what) { return Ops.bool(v, pos, what); }

        Dim dim(Value v) { return Ops.dim(v, pos); }

        <T> T at(java.util.function.Supplier<T> s) { return el.at(pos, s); }

        int axis(Node x, Value v) {
            long a = integer(v, "axis");
            int r = x.shape().rank();
            if (a < -r || a >= r) throw new EvalError(pos, "axis " + a + " is out of range for a tensor of rank " + r);
            return (int) (a < 0 ? a + r : a);
        }

        /** An int or a list of ints as axes (normalised), or all axes when null. */
        int[] axes(Node x, Value v) {
            if (v == null) {
                int[] all = new int[x.shape().rank()];
                for (int i = 0; i < all.length; i++) all[i] = i;
                return all;
            }
            if (v instanceof ListV l) {
                int[] out = new int[l.items().size()];
                for (int i = 0; i < out.length; i++) out[i] = axis(x, l.items().get(i));
                return out;
            }
            return new int[] {axis(x, v)};
        }

        List<Value> list(Value v, String what) {
            if (v instanceof ListV l) return l.items();
            throw new EvalError(pos, what + " must be a list, got " + v.typeName());
        }

        Shape shape(Value v, String what) {
            List<Dim> dims = new ArrayList<>();
            for (Value d : list(v, what)) dims.add(dim(d));
            return new Shape(dims);
        }

        long stream() { return el.nextStream(f); }
        boolean training() { return el.training; }
    }

    @FunctionalInterface
    interface Fn {
        Value call(Args a, Ctx c);
    }

    private static final Map<String, Fn> TABLE = new TreeMap<>();

    static void register(String name, Fn fn) {
        if (TABLE.put(name, fn) != null) throw new IllegalStateException("builtin " + name + " registered twice");
    }

    static {
        ScalarBuiltins.register();
        TensorBuiltins.register();
        ShapeBuiltins.register();
        MomentumBuiltins.register();
    }

    private Builtins() {}

    public static boolean isBuiltin(String name) { return TABLE.containsKey(name); }
    public static Collection<String> names() { return TABLE.keySet(); }

    static Value call(String name, Args a, Ctx c) {
        for (Value v : a.positional()) if (v instanceof ErrorV) throw EvalError.Poisoned.INSTANCE;
        for (Value v : a.named().values()) if (v instanceof ErrorV) throw EvalError.Poisoned.INSTANCE;
        Fn fn = TABLE.get(name);
        if (fn == null) throw new EvalError(c.pos(), "unknown built-in '" + name + "'");
        return fn.call(a, c);
    }

    static DType dtypeArg(Value v, Ctx c) {
        if (v == null) return DType.F32;
        if (v instanceof StrV s && DType.parse(s.v()) != null) return DType.parse(s.v());
        throw new EvalError(c.pos(), "dtype must be \"f32\" or \"i32\", got " + v);
    }
}
