package mobyc.dsl.ast;

import java.util.List;
import mobyc.dsl.diag.Pos;

/** Statements of function bodies. */
public sealed interface Stmt {
    Pos pos();

    record Let(Pos pos, String name, Expr value) implements Stmt {}
    record LetTuple(Pos pos, List<String> names, Expr value) implements Stmt {}
    record Assign(Pos pos, String name, Expr value) implements Stmt {}
    /** {@code state := value}: the state's value after this run. */
    record Update(Pos pos, String name, Expr value) implements Stmt {}
    record If(Pos pos, Expr cond, List<Stmt> then, List<Stmt> otherwise) implements Stmt {}
    record For(Pos pos, String var, Expr iterable, List<Stmt> body) implements Stmt {}
    record NoGrad(Pos pos, List<Stmt> body) implements Stmt {}
    record Return(Pos pos, List<Expr> values) implements Stmt {}
    record Assert(Pos pos, Expr cond, Expr message) implements Stmt {}
    record ExprStmt(Pos pos, Expr expr) implements Stmt {}
}
