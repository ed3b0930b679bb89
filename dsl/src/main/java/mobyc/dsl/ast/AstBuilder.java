package mobyc.dsl.ast;

import java.util.ArrayList;
import java.util.List;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.diag.SourceFile;
import mobyc.dsl.parser.MobyParser;
import mobyc.dsl.parser.MobyParser.*;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;

/** Turns ANTLR's parse tree into AST records; literal errors (absurd numbers, bad escapes) become diagnostics. */
public final class AstBuilder {
    private final SourceFile src;
    private final Diagnostics diags;

    public AstBuilder(SourceFile src, Diagnostics diags) {
        this.src = src;
        this.diags = diags;
    }

    private Pos pos(Token t) { return new Pos(src, t.getLine(), t.getCharPositionInLine() + 1); }
    private Pos pos(ParserRuleContext c) { return pos(c.getStart()); }

    public Decl.FileUnit file(FileContext ctx) {
        List<Decl.Import> imports = new ArrayList<>();
        for (var i : ctx.importDecl()) imports.add(new Decl.Import(pos(i.STRING().getSymbol()), unquote(i.STRING().getSymbol())));
        List<Decl> decls = new ArrayList<>();
        for (var t : ctx.topDecl()) {
            if (t.moduleDecl() != null) decls.add(module(t.moduleDecl()));
            else if (t.moduleAlias() != null) {
                ModuleAliasContext m = t.moduleAlias();
                decls.add(new Decl.ModuleAlias(pos(m.ID(0).getSymbol()), m.ID(0).getText(), m.target.getText(), pos(m.target), args(m.args())));
            }
            else if (t.fnDecl() != null) decls.add(fn(t.fnDecl()));
            else if (t.constDecl() != null)
                decls.add(new Decl.Const(pos(t.constDecl().ID().getSymbol()), t.constDecl().ID().getText(), expr(t.constDecl().expr())));
        }
        return new Decl.FileUnit(src, imports, decls);
    }

    private Decl.Module module(ModuleDeclContext c) {
        List<Decl.Param> hps = new ArrayList<>();
        for (var h : c.hyperParam())
            hps.add(new Decl.Param(pos(h.ID().getSymbol()), h.ID().getText(), type(h.type()), h.expr() == null ? null : expr(h.expr())));
        return new Decl.Module(pos(c.ID().getSymbol()), c.ID().getText(), hps, members(c.member()));
    }

    private List<Decl.MemberDecl> members(List<MemberContext> ms) {
        List<Decl.MemberDecl> out = new ArrayList<>();
        for (var m : ms) {
            Decl.MemberDecl d = member(m);
            if (d != null) out.add(d);
        }
        return out;
    }

    private Decl.MemberDecl member(MemberContext m) {
        return switch (m) {
            case ParamMemberContext p -> new Decl.ParamMember(pos(p.ID().getSymbol()), p.ID().getText(), tensorType(p.tensorType()), expr(p.expr()));
            case StateMemberContext s -> new Decl.StateMember(pos(s.ID().getSymbol()), s.ID().getText(), tensorType(s.tensorType()), expr(s.expr()));
            case LetMemberContext l -> new Decl.LetMember(pos(l.ID().getSymbol()), l.ID().getText(), expr(l.expr()));
            case IfMemberContext i -> new Decl.IfMember(pos(i), expr(i.expr()), members(i.then.member()),
                    i.otherwise == null ? List.of() : members(i.otherwise.member()));
            case AssertMemberContext a -> new Decl.AssertMember(pos(a), expr(a.expr(0)), a.expr().size() > 1 ? expr(a.expr(1)) : null);
            case FnMemberContext f -> fn(f.fnDecl());
            default -> null;
        };
    }

    private Decl.Fn fn(FnDeclContext c) {
        List<Decl.Param> ps = new ArrayList<>();
        for (var p : c.fnParam())
            ps.add(new Decl.Param(pos(p.ID().getSymbol()), p.ID().getText(), type(p.type()), p.expr() == null ? null : expr(p.expr())));
        return new Decl.Fn(pos(c.ID().getSymbol()), c.ID().getText(), ps, c.type() == null ? null : type(c.type()), block(c.block()));
    }

    private TypeRef type(TypeContext t) {
        if (t == null) return null;
        return switch (t) {
            case ScalarTypeContext s -> new TypeRef.Scalar(pos(s), s.scalarType.getText());
            case ListTypeContext l -> new TypeRef.ListOf(pos(l), l.type() == null ? null : type(l.type()));
            case ModuleTypeContext m -> new TypeRef.ModuleRef(pos(m));
            case TensorTypeRefContext r -> tensorType(r.tensorType());
            case TupleTypeContext tu -> {
                List<TypeRef> items = new ArrayList<>();
                for (var x : tu.type()) items.add(type(x));
                yield new TypeRef.Tuple(pos(tu), items);
            }
            default -> null;
        };
    }

    private TypeRef.Tensor tensorType(TensorTypeContext t) {
        String dtype = t.dtype == null ? null : t.dtype.getText();
        if (dtype != null && mobyc.compiler.ir.DType.parse(dtype) == null)
            diags.error(pos(t.dtype), "unknown element type '" + dtype + "'", "element types are f32, i32, bf16 and f16");
        List<Expr> dims = new ArrayList<>();
        for (var d : t.dimPattern()) dims.add(d instanceof ExprDimContext e ? expr(e.expr()) : null);
        return new TypeRef.Tensor(pos(t), dtype, dims);
    }

    private List<Stmt> block(BlockContext b) {
        List<Stmt> out = new ArrayList<>();
        if (b == null) return out;
        for (var s : b.stmt()) {
            Stmt st = stmt(s);
            if (st != null) out.add(st);
        }
        return out;
    }

    private Stmt stmt(StmtContext s) {
        return switch (s) {
            case LetStmtContext l -> new Stmt.Let(pos(l.ID().getSymbol()), l.ID().getText(), expr(l.expr()));
            case LetTupleStmtContext l -> new Stmt.LetTuple(pos(l), l.ID().stream().map(x -> x.getText()).toList(), expr(l.expr()));
            case AssignStmtContext a -> new Stmt.Assign(pos(a), a.ID().getText(), expr(a.expr()));
            case UpdateStmtContext u -> new Stmt.Update(pos(u), u.ID().getText(), expr(u.expr()));
            case IfStmtContext i -> {
                List<Stmt> other;
                if (i.elseIf != null) {
                    Stmt e = stmt(i.elseIf);
                    if (!(e instanceof Stmt.If)) diags.error(pos(i.elseIf), "expected '{' or 'if' after 'else'");
                    other = e == null ? List.of() : List.of(e);
                } else other = block(i.otherwise);
                yield new Stmt.If(pos(i), expr(i.expr()), block(i.then), other);
            }
            case ForStmtContext f -> new Stmt.For(pos(f), f.ID().getText(), expr(f.expr()), block(f.block()));
            case NoGradStmtContext n -> new Stmt.NoGrad(pos(n), block(n.block()));
            case ReturnStmtContext r -> new Stmt.Return(pos(r), r.expr().stream().map(this::expr).toList());
            case AssertStmtContext a -> new Stmt.Assert(pos(a), expr(a.expr(0)), a.expr().size() > 1 ? expr(a.expr(1)) : null);
            case ExprStmtContext e -> new Stmt.ExprStmt(pos(e), expr(e.expr()));
            default -> null;
        };
    }

    public Expr expr(ExprContext e) {
        if (e == null) return new Expr.IntLit(Pos.NONE, 0);
        Pos p = pos(e);
        return switch (e) {
            case MethodCallContext m -> new Expr.MethodCall(pos(m.ID().getSymbol()), expr(m.expr()), m.ID().getText(), args(m.args()));
            case CallContext c -> new Expr.Call(p, expr(c.expr()), args(c.args()));
            case IndexExprContext i -> new Expr.Index(p, expr(i.expr()), i.index().stream().map(this::index).toList());
            case MemberExprContext m -> new Expr.Member(pos(m.ID().getSymbol()), expr(m.expr()), m.ID().getText());
            case PowExprContext pw -> new Expr.Binary(p, "**", expr(pw.expr(0)), expr(pw.expr(1)));
            case UnaryExprContext u -> new Expr.Unary(p, u.op.getText(), expr(u.expr()));
            case MulExprContext m -> bin(m.op, m.expr(0), m.expr(1));
            case AddExprContext a -> bin(a.op, a.expr(0), a.expr(1));
            case CompareExprContext c -> bin(c.op, c.expr(0), c.expr(1));
            case EqualExprContext q -> bin(q.op, q.expr(0), q.expr(1));
            case AndExprContext a -> new Expr.Binary(p, "&&", expr(a.expr(0)), expr(a.expr(1)));
            case OrExprContext o -> new Expr.Binary(p, "||", expr(o.expr(0)), expr(o.expr(1)));
            case CondExprContext c -> new Expr.Cond(p, expr(c.expr(0)), expr(c.expr(1)), expr(c.expr(2)));
            case ComprehensionContext c -> new Expr.Comprehension(p, expr(c.expr(0)), c.ID().getText(), expr(c.expr(1)));
            case ListExprContext l -> new Expr.ListLit(p, l.expr().stream().map(this::expr).toList());
            case TupleExprContext t -> new Expr.TupleLit(p, t.expr().stream().map(this::expr).toList());
            case ParenExprContext pe -> expr(pe.expr());
            case IntLitContext i -> intLit(i.INT().getSymbol());
            case FloatLitContext f -> floatLit(f.FLOAT().getSymbol());
            case StringLitContext s -> new Expr.StrLit(p, unquote(s.STRING().getSymbol()));
            case BoolLitContext b -> new Expr.BoolLit(p, b.getText().equals("true"));
            case NameExprContext n -> new Expr.Name(p, n.name.getText());
            default -> new Expr.IntLit(p, 0);
        };
    }

    private Expr bin(Token op, ExprContext l, ExprContext r) {
        return new Expr.Binary(pos(op), op.getText(), expr(l), expr(r));
    }

    private Expr.IndexItem index(IndexContext i) {
        return switch (i) {
            case EllipsisIndexContext e -> new Expr.Ellipsis(pos(e));
            case SliceIndexContext s -> new Expr.Range(pos(s), s.start == null ? null : expr(s.start),
                    s.stop == null ? null : expr(s.stop), s.step == null ? null : expr(s.step));
            case ExprIndexContext x -> new Expr.At(pos(x), expr(x.expr()));
            default -> new Expr.Ellipsis(pos(i));
        };
    }

    private List<Expr.Arg> args(ArgsContext a) {
        List<Expr.Arg> out = new ArrayList<>();
        if (a == null) return out;
        for (var x : a.arg()) out.add(new Expr.Arg(pos(x), x.ID() == null ? null : x.ID().getText(), expr(x.expr())));
        return out;
    }

    private Expr intLit(Token t) {
        String s = t.getText();
        try {
            return new Expr.IntLit(pos(t), Long.parseLong(s));
        } catch (NumberFormatException ex) {
            diags.error(pos(t), "integer literal " + abbreviate(s) + " is too large", "integers are 64-bit: at most 9223372036854775807");
            return new Expr.IntLit(pos(t), 0);
        }
    }

    private Expr floatLit(Token t) {
        String s = t.getText();
        double v;
        try {
            v = Double.parseDouble(s);
        } catch (NumberFormatException ex) {
            v = Double.NaN;
        }
        if (Double.isInfinite(v) || Double.isNaN(v)) {
            diags.error(pos(t), "number " + abbreviate(s) + " is out of range", "floating-point literals must be finite (at most about 1.8e308)");
            v = 0;
        }
        return new Expr.FloatLit(pos(t), v);
    }

    private String unquote(Token t) {
        String s = t.getText();
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() - 1) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    default -> {
                        diags.error(new Pos(src, t.getLine(), t.getCharPositionInLine() + i), "unknown escape '\\" + n + "' in string",
                                "known escapes are \\n, \\t, \\\" and \\\\");
                        sb.append(n);
                    }
                }
            } else sb.append(c);
        }
        return sb.toString();
    }

    static String abbreviate(String s) {
        return s.length() <= 30 ? s : s.substring(0, 12) + "..." + s.substring(s.length() - 8) + " (" + s.length() + " digits)";
    }
}
