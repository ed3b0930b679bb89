package mobyc.dsl;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.ast.Expr;
import mobyc.dsl.ast.Stmt;
import mobyc.dsl.ast.TypeRef;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Names;
import mobyc.dsl.eval.Builtins;

/**
 * Static name resolution over every declaration, including code that elaboration never reaches (branches not
 * taken, modules no entry uses), so that every unknown name in a file is reported at once.
 */
final class Resolver {
    private final Compilation comp;
    private final Diagnostics diags;
    private final Deque<Set<String>> scopes = new ArrayDeque<>();

    Resolver(Compilation comp, Diagnostics diags) {
        this.comp = comp;
        this.diags = diags;
    }

    void run() {
        for (Decl.FileUnit u : comp.units()) {
            for (Decl d : u.decls()) {
                scopes.clear();
                switch (d) {
                    case Decl.Module m -> module(m);
                    case Decl.ModuleAlias a -> alias(a);
                    case Decl.Fn f -> fn(f);
                    case Decl.Const c -> expr(c.value());
                    case Decl.Import i -> { }
                }
            }
        }
    }

    private void alias(Decl.ModuleAlias a) {
        Decl t = comp.globals().get(a.target());
        if (!(t instanceof Decl.Module) && !(t instanceof Decl.ModuleAlias))
            diags.error(a.targetPos(), "'" + a.target() + "' is not a module", Names.didYouMean(a.target(), comp.globals().keySet()));
        for (Expr.Arg arg : a.args()) {
            if (arg.name() == null) diags.error(arg.pos(), "the hyper-parameters of an alias are given by name");
            expr(arg.value());
        }
    }

    private void module(Decl.Module m) {
        Set<String> top = new HashSet<>();
        for (Decl.Param p : m.hyperParams()) {
            if (!top.add(p.name())) diags.error(p.pos(), "hyper-parameter '" + p.name() + "' is declared twice");
        }
        collectMembers(m.members(), top);
        scopes.push(top);
        for (Decl.Param p : m.hyperParams()) if (p.defaultValue() != null) expr(p.defaultValue());
        members(m.members());
        scopes.pop();
    }

    private void collectMembers(List<Decl.MemberDecl> ms, Set<String> into) {
        for (Decl.MemberDecl m : ms) {
            switch (m) {
                case Decl.ParamMember p -> into.add(p.name());
                case Decl.StateMember s -> into.add(s.name());
                case Decl.LetMember l -> into.add(l.name());
                case Decl.Fn f -> into.add(f.name());
                case Decl.IfMember i -> { collectMembers(i.then(), into); collectMembers(i.otherwise(), into); }
                case Decl.AssertMember a -> { }
            }
        }
    }

    private void members(List<Decl.MemberDecl> ms) {
        for (Decl.MemberDecl m : ms) {
            switch (m) {
                case Decl.ParamMember p -> { dims(p.type()); if (!(p.init() instanceof Expr.Call)) expr(p.init()); }
                case Decl.StateMember s -> { dims(s.type()); if (!(s.init() instanceof Expr.Call)) expr(s.init()); }
                case Decl.LetMember l -> expr(l.value());
                case Decl.Fn f -> fn(f);
                case Decl.IfMember i -> { expr(i.cond()); members(i.then()); members(i.otherwise()); }
                case Decl.AssertMember a -> { expr(a.cond()); if (a.message() != null) expr(a.message()); }
            }
        }
    }

    private void dims(TypeRef.Tensor t) {
        for (Expr e : t.dims()) if (e != null) expr(e);
    }

    private void fn(Decl.Fn f) {
        Set<String> params = new HashSet<>();
        scopes.push(params);
        for (Decl.Param p : f.params()) {
            if (p.type() instanceof TypeRef.Tensor t) pattern(t, params);
            if (p.defaultValue() != null) expr(p.defaultValue());
            if (!params.add(p.name()) && f.params().stream().filter(q -> q.name().equals(p.name())).count() > 1)
                diags.error(p.pos(), "parameter '" + p.name() + "' is declared twice");
        }
        if (f.result() instanceof TypeRef.Tensor t) pattern(t, params);
        stmts(f.body());
        scopes.pop();
    }

    /** Bare unknown names in a shape pattern bind sizes; other dimension expressions are checked. */
    private void pattern(TypeRef.Tensor t, Set<String> into) {
        for (Expr e : t.dims()) {
            if (e == null) continue;
            if (e instanceof Expr.Name n && !known(n.name())) into.add(n.name());
            else expr(e);
        }
    }

    private void stmts(List<Stmt> body) {
        scopes.push(new HashSet<>());
        for (Stmt s : body) stmt(s);
        scopes.pop();
    }

    private void stmt(Stmt s) {
        switch (s) {
            case Stmt.Let l -> { expr(l.value()); scopes.peek().add(l.name()); }
            case Stmt.LetTuple l -> { expr(l.value()); scopes.peek().addAll(l.names()); }
            case Stmt.Assign a -> { expr(a.value()); name(a.name(), a); }
            case Stmt.Update u -> { expr(u.value()); name(u.name(), u); }
            case Stmt.If i -> { expr(i.cond()); stmts(i.then()); stmts(i.otherwise()); }
            case Stmt.For f -> {
                expr(f.iterable());
                scopes.push(new HashSet<>(Set.of(f.var())));
                stmts(f.body());
                scopes.pop();
            }
            case Stmt.NoGrad n -> stmts(n.body());
            case Stmt.Return r -> r.values().forEach(this::expr);
            case Stmt.Assert a -> { expr(a.cond()); if (a.message() != null) expr(a.message()); }
            case Stmt.ExprStmt e -> expr(e.expr());
        }
    }

    private void name(String n, Stmt s) {
        if (!known(n)) diags.error(s.pos(), "unknown name '" + n + "'", Names.didYouMean(n, visible()));
    }

    private void expr(Expr e) {
        switch (e) {
            case Expr.Name n -> { if (!known(n.name())) diags.error(n.pos(), "unknown name '" + n.name() + "'", Names.didYouMean(n.name(), visible())); }
            case Expr.ListLit l -> l.items().forEach(this::expr);
            case Expr.TupleLit t -> t.items().forEach(this::expr);
            case Expr.Comprehension c -> {
                expr(c.iterable());
                scopes.push(new HashSet<>(Set.of(c.var())));
                expr(c.body());
                scopes.pop();
            }
            case Expr.Unary u -> expr(u.operand());
            case Expr.Binary b -> { expr(b.left()); expr(b.right()); }
            case Expr.Cond c -> { expr(c.cond()); expr(c.then()); expr(c.otherwise()); }
            case Expr.Call c -> { expr(c.callee()); c.args().forEach(a -> expr(a.value())); }
            case Expr.MethodCall m -> { expr(m.receiver()); m.args().forEach(a -> expr(a.value())); }
            case Expr.Member m -> expr(m.receiver());
            case Expr.Index i -> {
                expr(i.receiver());
                for (Expr.IndexItem it : i.items()) {
                    switch (it) {
                        case Expr.At a -> expr(a.index());
                        case Expr.Range r -> {
                            if (r.start() != null) expr(r.start());
                            if (r.stop() != null) expr(r.stop());
                            if (r.step() != null) expr(r.step());
                        }
                        case Expr.Ellipsis el -> { }
                    }
                }
            }
            default -> { }
        }
    }

    private boolean known(String n) {
        for (Set<String> s : scopes) if (s.contains(n)) return true;
        return comp.globals().containsKey(n) || Builtins.isBuiltin(n) || n.equals("training") || n.equals("pi");
    }

    private Set<String> visible() {
        Set<String> out = new TreeSet<>();
        for (Set<String> s : scopes) out.addAll(s);
        out.addAll(comp.globals().keySet());
        out.addAll(Builtins.names());
        return out;
    }
}
