package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.dsl.eval.Value.*;

/** Compile-time helpers: range, len, min/max of numbers, conversions, and math on numbers. */
final class ScalarBuiltins {
    private ScalarBuiltins() {}

    /** Longest list a compile-time range may produce. */
    static final long MAX_RANGE = 1_000_000;

    static void register() {
        Builtins.register("range", (a, c) -> {
            var m = a.bind("range", "start", "stop?", "step?");
            long start = c.integer(m.get("start"), "range start"), stop, step = m.get("step") == null ? 1 : c.integer(m.get("step"), "range step");
            if (m.get("stop") == null) { stop = start; start = 0; } else stop = c.integer(m.get("stop"), "range stop");
            if (step == 0) throw new EvalError(c.pos(), "range step must not be zero");
            double count = Math.max(0, Math.ceil(((double) stop - start) / step));
            if (count > MAX_RANGE) throw new EvalError(c.pos(), "range of " + (long) count + " items is too long for a compile-time loop (limit " + MAX_RANGE + ")");
            List<Value> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) out.add(new IntV(i));
            return new ListV(out);
        });
        Builtins.register("len", (a, c) -> {
            Value v = a.bind("len", "x").get("x");
            if (v instanceof ListV l) return new IntV(l.items().size());
            if (v instanceof StrV s) return new IntV(s.v().length());
            if (v instanceof TensorV t) return Value.ofDim(t.node().shape().dim(0));
            throw new EvalError(c.pos(), "len() of " + v.typeName());
        });
        Builtins.register("min", (a, c) -> extreme(a, c, true));
        Builtins.register("max", (a, c) -> extreme(a, c, false));
        Builtins.register("float", (a, c) -> {
            Value v = a.bind("float", "x").get("x");
            if (v instanceof TensorV t) return new TensorV(c.g().cast(t.node(), DType.F32));
            if (Ops.isNumber(v)) return new FloatV(Ops.num(v));
            throw new EvalError(c.pos(), "float() of " + v.typeName());
        });
        Builtins.register("int", (a, c) -> {
            Value v = a.bind("int", "x").get("x");
            if (v instanceof TensorV t) return new TensorV(c.g().cast(t.node(), DType.I32));
            if (v instanceof IntV) return v;
            if (v instanceof FloatV f) {
                if (!(Math.abs(f.v()) < 9.2e18)) throw new EvalError(c.pos(), "int() of " + f + " is out of range");
                return new IntV((long) f.v());
            }
            throw new EvalError(c.pos(), "int() of " + v.typeName());
        });
        Builtins.register("str", (a, c) -> new StrV(Elaborator.str(a.bind("str", "x").get("x"))));
        Builtins.register("sum_list", (a, c) -> {
            Value acc = new IntV(0);
            for (Value v : c.list(a.bind("sum_list", "items").get("items"), "items")) acc = Ops.binary("+", acc, v, c.pos(), c.g());
            return acc;
        });
        Builtins.register("prod", (a, c) -> {
            Value acc = new IntV(1);
            for (Value v : c.list(a.bind("prod", "items").get("items"), "items")) acc = Ops.binary("*", acc, v, c.pos(), c.g());
            return acc;
        });
    }

    private static Value extreme(Args a, Builtins.Ctx c, boolean min) {
        String name = min ? "min" : "max";
        if (!a.positional().isEmpty() && a.positional().getFirst() instanceof TensorV) {
            if (min) throw new EvalError(c.pos(), "min() of a tensor is not supported", "use -max(-x, axis=...) or minimum(a, b)");
            return TensorBuiltins.reduce(Op.ReduceFn.MAX, "max", a, c);
        }
        List<Value> items = a.positional().size() == 1 && a.positional().getFirst() instanceof ListV l ? l.items() : a.positional();
        if (items.isEmpty() || !a.named().isEmpty()) throw new EvalError(c.pos(), name + "() takes numbers or a list of numbers");
        Value best = null;
        for (Value v : items) {
            if (!Ops.isNumber(v)) throw new EvalError(c.pos(), name + "() of " + v.typeName() + "; for tensors use " + (min ? "minimum" : "maximum") + "(a, b)");
            if (best == null || (min ? Ops.num(v) < Ops.num(best) : Ops.num(v) > Ops.num(best))) best = v;
        }
        return best;
    }
}
