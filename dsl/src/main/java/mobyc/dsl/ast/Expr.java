package mobyc.dsl.ast;

import java.util.List;
import mobyc.dsl.diag.Pos;

/** Expressions of .moby. Every node knows its source position. */
public sealed interface Expr {
    Pos pos();

    record IntLit(Pos pos, long value) implements Expr {}
    record FloatLit(Pos pos, double value) implements Expr {}
    record StrLit(Pos pos, String value) implements Expr {}
    record BoolLit(Pos pos, boolean value) implements Expr {}
    record Name(Pos pos, String name) implements Expr {}
    record ListLit(Pos pos, List<Expr> items) implements Expr {}
    record TupleLit(Pos pos, List<Expr> items) implements Expr {}
    record Comprehension(Pos pos, Expr body, String var, Expr iterable) implements Expr {}
    record Unary(Pos pos, String op, Expr operand) implements Expr {}
    record Binary(Pos pos, String op, Expr left, Expr right) implements Expr {}
    record Cond(Pos pos, Expr cond, Expr then, Expr otherwise) implements Expr {}
    record Call(Pos pos, Expr callee, List<Arg> args) implements Expr {}
    record MethodCall(Pos pos, Expr receiver, String method, List<Arg> args) implements Expr {}
    record Member(Pos pos, Expr receiver, String name) implements Expr {}
    record Index(Pos pos, Expr receiver, List<IndexItem> items) implements Expr {}

    /** A call argument, named ({@code name=value}) or positional (name null). */
    record Arg(Pos pos, String name, Expr value) {}

    sealed interface IndexItem { Pos pos(); }
    record At(Pos pos, Expr index) implements IndexItem {}
    record Range(Pos pos, Expr start, Expr stop, Expr step) implements IndexItem {}
    record Ellipsis(Pos pos) implements IndexItem {}
}
