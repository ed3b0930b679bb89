package mobyc.dsl.eval;

import java.util.List;
import mobyc.compiler.ir.Init;
import mobyc.dsl.ast.Expr;
import mobyc.dsl.diag.Names;

/** The initialisers a parameter or state may name: zeros(), ones(), constant(v), trunc_normal(...), normal(...), uniform(...). */
final class Initializers {
    private Initializers() {}

    static final List<String> NAMES = List.of("zeros", "ones", "constant", "trunc_normal", "normal", "uniform", "unit_normal");

    static Init of(Expr e, Elaborator el, Frame f) {
        if (!(e instanceof Expr.Call c) || !(c.callee() instanceof Expr.Name n) || !NAMES.contains(n.name())) {
            String name = e instanceof Expr.Call c2 && c2.callee() instanceof Expr.Name n2 ? n2.name() : null;
            throw new EvalError(e.pos(), "an initialiser is one of zeros(), ones(), constant(v), trunc_normal(std=...), normal(std=...), uniform(low, high), unit_normal(axis)",
                    name == null ? null : Names.didYouMean(name, NAMES));
        }
        Args a = el.args(c.args(), f, c.pos(), null);
        return switch (n.name()) {
            case "zeros" -> { a.bind("zeros"); yield new Init.Zeros(); }
            case "ones" -> { a.bind("ones"); yield new Init.Ones(); }
            case "constant" -> new Init.Constant(num(a.bind("constant", "value").get("value"), c));
            case "trunc_normal" -> {
                var m = a.bind("trunc_normal", "std?", "mean?", "a?", "b?");
                double std = opt(m.get("std"), 1.0, c), mean = opt(m.get("mean"), 0.0, c);
                double lo = opt(m.get("a"), -2.0, c), hi = opt(m.get("b"), 2.0, c);
                if (!(std > 0)) throw new EvalError(c.pos(), "trunc_normal: std must be positive, got " + std);
                if (!(lo < hi)) throw new EvalError(c.pos(), "trunc_normal: a must be below b");
                yield new Init.TruncNormal(mean, std, lo, hi);
            }
            case "normal" -> {
                var m = a.bind("normal", "std?", "mean?");
                double std = opt(m.get("std"), 1.0, c);
                if (!(std >= 0)) throw new EvalError(c.pos(), "normal: std must not be negative, got " + std);
                yield new Init.Normal(opt(m.get("mean"), 0.0, c), std);
            }
            case "uniform" -> {
                var m = a.bind("uniform", "low?", "high?");
                double lo = opt(m.get("low"), 0.0, c), hi = opt(m.get("high"), 1.0, c);
                if (!(lo < hi)) throw new EvalError(c.pos(), "uniform: low must be below high");
                yield new Init.Uniform(lo, hi);
            }
            case "unit_normal" -> {
                var m = a.bind("unit_normal", "axis?");
                Value ax = m.get("axis");
                if (ax != null && !(ax instanceof Value.IntV)) throw new EvalError(c.pos(), "unit_normal: axis must be an int, got " + ax.typeName());
                yield new Init.UnitNormal(ax == null ? 0 : (int) ((Value.IntV) ax).v());
            }
            default -> throw new IllegalStateException(n.name());
        };
    }

    /** Random initialisers fill floating-point tensors only. */
    static void checkType(Init init, mobyc.compiler.ir.DType dtype, mobyc.dsl.diag.Pos pos) {
        boolean random = init instanceof Init.Normal || init instanceof Init.TruncNormal || init instanceof Init.Uniform || init instanceof Init.UnitNormal;
        if (random && !dtype.isFloating())
            throw new EvalError(pos, "a random initialiser needs a floating-point tensor, not " + dtype, "use zeros(), ones() or constant(v)");
    }

    private static double opt(Value v, double d, Expr.Call c) { return v == null ? d : num(v, c); }

    private static double num(Value v, Expr.Call c) {
        if (Ops.isNumber(v)) return Ops.num(v);
        throw new EvalError(c.pos(), "an initialiser takes numbers, got " + v.typeName());
    }
}
