package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.List;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
import mobyc.dsl.ast.Expr;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.eval.Value.*;

/** {@code x[...]}: list items, and tensor indexing with Python's rules (ints drop an axis, slices keep it, '...'). */
final class Indexing {
    private Indexing() {}

    static Value index(Value recv, List<Expr.IndexItem> items, Elaborator el, Frame f, Pos pos) {
        if (recv instanceof ListV l) return listIndex(l, items, el, f, pos);
        if (!(recv instanceof TensorV t)) throw new EvalError(pos, recv.typeName() + " cannot be indexed");
        Node x = t.node();
        int ellipses = (int) items.stream().filter(i -> i instanceof Expr.Ellipsis).count();
        if (ellipses > 1) throw new EvalError(pos, "an index can hold '...' only once");
        int explicit = items.size() - ellipses;
        int rank = x.shape().rank();
        if (explicit > rank) throw new EvalError(pos, "too many indices (" + explicit + ") for a tensor of rank " + rank);
        List<Integer> dropped = new ArrayList<>();
        int axis = 0;
        for (Expr.IndexItem it : items) {
            switch (it) {
                case Expr.Ellipsis e -> axis += rank - explicit;
                case Expr.At a -> {
                    long i = integer(el.eval(a.index(), f), a.pos());
                    Dim n = x.shape().dim(axis);
                    if (!n.isConstant()) throw new EvalError(a.pos(), "cannot index axis " + axis + " of symbolic size " + n);
                    long len = n.constant();
                    if (i < -len || i >= len) throw new EvalError(a.pos(), "index " + i + " is out of range for axis " + axis + " of size " + len);
                    long s = i < 0 ? i + len : i;
                    final int ax = axis;
                    final Node in = x;
                    x = el.at(a.pos(), () -> el.g.slice(in, ax, s, s + 1, 1));
                    dropped.add(axis);
                    axis++;
                }
                case Expr.Range r -> {
                    long start = r.start() == null ? 0 : integer(el.eval(r.start(), f), r.pos());
                    long stop = r.stop() == null ? Long.MAX_VALUE : integer(el.eval(r.stop(), f), r.pos());
                    long step = r.step() == null ? 1 : integer(el.eval(r.step(), f), r.pos());
                    if (step <= 0) throw new EvalError(r.pos(), "a slice step must be positive, got " + step);
                    if (start != 0 || stop != Long.MAX_VALUE || step != 1) {
                        final int ax = axis;
                        final Node in = x;
                        x = el.at(r.pos(), () -> el.g.slice(in, ax, start, stop, step));
                    }
                    axis++;
                }
            }
        }
        if (!dropped.isEmpty()) {
            List<Dim> dims = new ArrayList<>();
            for (int i = 0; i < rank; i++) if (!dropped.contains(i)) dims.add(x.shape().dim(i));
            final Node in = x;
            x = el.at(pos, () -> el.g.reshape(in, new Shape(dims)));
        }
        return new TensorV(x);
    }

    private static Value listIndex(ListV l, List<Expr.IndexItem> items, Elaborator el, Frame f, Pos pos) {
        if (items.size() != 1) throw new EvalError(pos, "a list takes one index");
        Expr.IndexItem it = items.getFirst();
        int n = l.items().size();
        if (it instanceof Expr.At a) {
            long i = integer(el.eval(a.index(), f), a.pos());
            if (i < -n || i >= n) throw new EvalError(a.pos(), "index " + i + " is out of range for a list of " + n);
            return l.items().get((int) (i < 0 ? i + n : i));
        }
        if (it instanceof Expr.Range r) {
            long start = r.start() == null ? 0 : integer(el.eval(r.start(), f), r.pos());
            long stop = r.stop() == null ? n : integer(el.eval(r.stop(), f), r.pos());
            long step = r.step() == null ? 1 : integer(el.eval(r.step(), f), r.pos());
            if (step <= 0) throw new EvalError(r.pos(), "a slice step must be positive");
            start = Math.clamp(start < 0 ? start + n : start, 0, n);
            stop = Math.clamp(stop < 0 ? stop + n : stop, 0, n);
            List<Value> out = new ArrayList<>();
            for (long i = start; i < stop; i += step) out.add(l.items().get((int) i));
            return new ListV(out);
        }
        throw new EvalError(pos, "'...' does not index a list");
    }

    static long integer(Value v, Pos pos) {
        if (v instanceof IntV i) return i.v();
        if (v instanceof DimV d) throw new EvalError(pos, "an index must be known at compile time, but " + d + " is symbolic");
        throw new EvalError(pos, "an index must be an int, got " + v.typeName());
    }
}
