package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
import mobyc.dsl.ast.Expr;
import mobyc.dsl.ast.TypeRef;
import mobyc.dsl.diag.Pos;

/**
 * Shape patterns of signatures, such as {@code [B, N, dim]} or {@code [..., in_features]}. A bare name not yet
 * bound binds to the size it meets; any other dimension expression is evaluated and must equal it.
 */
final class Patterns {
    private Patterns() {}

    static void match(TypeRef.Tensor t, Node n, Frame f, Elaborator el, Pos pos, String what) {
        DType want = Elaborator.dtype(t);
        if (n.dtype() != want) throw new EvalError(pos, what + " must be " + want + ", got " + n.dtype() + n.shape());
        List<Expr> dims = t.dims();
        int ell = dims.indexOf(null);
        Shape s = n.shape();
        int fixed = ell < 0 ? dims.size() : dims.size() - 1;
        if (ell < 0 ? s.rank() != fixed : s.rank() < fixed)
            throw new EvalError(pos, what + " has shape " + s + ", expected " + show(t) + " (rank " + (ell < 0 ? "" : "at least ") + fixed + ")");
        for (int i = 0; i < dims.size(); i++) {
            if (i == ell) continue;
            int axis = ell < 0 || i < ell ? i : s.rank() - (dims.size() - i);
            Dim actual = s.dim(axis);
            Expr e = dims.get(i);
            if (e instanceof Expr.Name nm && unbound(nm.name(), f, el)) {
                f.define(nm.name(), Value.ofDim(actual));
                continue;
            }
            Dim expected = Ops.dim(el.eval(e, f), e.pos());
            if (!expected.equals(actual))
                throw new EvalError(pos, what + " has shape " + s + ", expected " + show(t) + " (axis " + axis + ": " + actual + " is not " + expected + ")");
        }
    }

    /** The shape of an entry input: unbound names become symbols. */
    static Shape symbolic(TypeRef.Tensor t, Frame f, Elaborator el, String what) {
        List<Dim> out = new ArrayList<>();
        for (Expr e : t.dims()) {
            if (e == null) throw new EvalError(t.pos(), what + ": an entry point's inputs need a fixed rank, not '...'");
            if (e instanceof Expr.Name nm && unbound(nm.name(), f, el)) {
                Dim d = Dim.sym(nm.name());
                f.define(nm.name(), new Value.DimV(d));
                out.add(d);
                continue;
            }
            Dim d = Ops.dim(el.eval(e, f), e.pos());
            if (d.isConstant() && d.constant() <= 0) throw new EvalError(e.pos(), what + " has a size of " + d + "; sizes must be positive");
            out.add(d);
        }
        return new Shape(out);
    }

    /** Shape of an entry input with every unbound name given a concrete size. */
    private static boolean unbound(String name, Frame f, Elaborator el) {
        if (f.lookup(name) != null) return false;
        if (f.self != null && (f.self.members().containsKey(name) || f.self.hyper().containsKey(name))) return false;
        return !el.comp.globals().containsKey(name);
    }

    static String show(TypeRef.Tensor t) {
        StringBuilder sb = new StringBuilder(t.dtype() == null ? "" : t.dtype()).append('[');
        for (int i = 0; i < t.dims().size(); i++) {
            if (i > 0) sb.append(", ");
            Expr e = t.dims().get(i);
            sb.append(e == null ? "..." : Unparse.expr(e));
        }
        return sb.append(']').toString();
    }
}
