package mobyc.dsl.eval;

import java.util.stream.Collectors;
import mobyc.dsl.ast.Expr;

/** Prints an expression back as source, for messages. */
final class Unparse {
    private Unparse() {}

    static String expr(Expr e) {
        return switch (e) {
            case Expr.IntLit i -> Long.toString(i.value());
            case Expr.FloatLit f -> Double.toString(f.value());
            case Expr.StrLit s -> "\"" + s.value() + "\"";
            case Expr.BoolLit b -> Boolean.toString(b.value());
            case Expr.Name n -> n.name();
            case Expr.ListLit l -> l.items().stream().map(Unparse::expr).collect(Collectors.joining(", ", "[", "]"));
            case Expr.TupleLit l -> l.items().stream().map(Unparse::expr).collect(Collectors.joining(", ", "(", ")"));
            case Expr.Comprehension c -> "[" + expr(c.body()) + " for " + c.var() + " in " + expr(c.iterable()) + "]";
            case Expr.Unary u -> u.op() + expr(u.operand());
            case Expr.Binary b -> expr(b.left()) + " " + b.op() + " " + expr(b.right());
            case Expr.Cond c -> expr(c.cond()) + " ? " + expr(c.then()) + " : " + expr(c.otherwise());
            case Expr.Call c -> expr(c.callee()) + "(...)";
            case Expr.MethodCall m -> expr(m.receiver()) + "." + m.method() + "(...)";
            case Expr.Member m -> expr(m.receiver()) + "." + m.name();
            case Expr.Index i -> expr(i.receiver()) + "[...]";
        };
    }
}
