package mobyc.dsl.ast;

import java.util.List;
import mobyc.dsl.diag.Pos;

/** Top-level declarations and module members. */
public sealed interface Decl {
    Pos pos();
    String name();

    record Import(Pos pos, String name) implements Decl {}
    record Const(Pos pos, String name, Expr value) implements Decl {}
    record Param(Pos pos, String name, TypeRef type, Expr defaultValue) {}
    record Fn(Pos pos, String name, List<Param> params, TypeRef result, List<Stmt> body) implements Decl, MemberDecl {}
    record Module(Pos pos, String name, List<Param> hyperParams, List<MemberDecl> members) implements Decl {}
    /** {@code module Name = Target(hp=value, ...);}: Target with those hyper-parameters as new defaults. */
    record ModuleAlias(Pos pos, String name, String target, Pos targetPos, List<Expr.Arg> args) implements Decl {}

    /** Members of a module body. */
    sealed interface MemberDecl { Pos pos(); }
    record ParamMember(Pos pos, String name, TypeRef.Tensor type, Expr init) implements MemberDecl {}
    record StateMember(Pos pos, String name, TypeRef.Tensor type, Expr init) implements MemberDecl {}
    record LetMember(Pos pos, String name, Expr value) implements MemberDecl {}
    record IfMember(Pos pos, Expr cond, List<MemberDecl> then, List<MemberDecl> otherwise) implements MemberDecl {}
    record AssertMember(Pos pos, Expr cond, Expr message) implements MemberDecl {}

    /** A parsed file. */
    record FileUnit(mobyc.dsl.diag.SourceFile source, List<Import> imports, List<Decl> decls) {}
}
