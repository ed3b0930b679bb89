package mobyc.dsl.eval;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.ShapeException;
import mobyc.dsl.Compilation;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.ast.Expr;
import mobyc.dsl.ast.Stmt;
import mobyc.dsl.ast.TypeRef;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Names;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.eval.Value.*;

/**
 * Runs a .moby program at compile time: hyper-parameters, loops and conditionals are evaluated, modules are
 * instantiated, and every tensor operation becomes a node of the graph being built, its shape checked as it is
 * added. This is where static checking happens: shapes are symbolic in the sizes a signature leaves open (B, N).
 */
public final class Elaborator {
    /** Bound on compile-time work: a loop of a billion steps is a mistake, not a model. */
    public static final long MAX_STEPS = 5_000_000;
    public static final int MAX_DEPTH = 128;
    /** Largest parameter or state tensor. */
    public static final long MAX_PARAM_ELEMENTS = Integer.MAX_VALUE;

    final Compilation comp;
    final GraphBuilder g;
    final boolean training;
    final Diagnostics diags;
    private final Map<String, Value> constCache = new HashMap<>();
    private final Map<String, Integer> streamCounters = new HashMap<>();
    private long steps;
    private int depth;
    /** Where the next module instantiation puts its parameters (set by 'let' members and module arguments). */
    private String instPath;
    /** Inside a no_grad block: values stored by ':=' are detached too. */
    private int noGradDepth;
    /** While an ema_copy is instantiated: {target path prefix, online path prefix}; its parameters become state copies. */
    private String[] copyScope;

    public Elaborator(Compilation comp, GraphBuilder g, boolean training, Diagnostics diags) {
        this.comp = comp;
        this.g = g;
        this.training = training;
        this.diags = diags;
    }

    public GraphBuilder graph() { return g; }

    void report(EvalError e) { diags.error(e.pos(), e.getMessage(), e.hint()); }

    private void step(Pos pos) {
        if (++steps > MAX_STEPS) {
            if (steps > MAX_STEPS + 1) throw EvalError.Poisoned.INSTANCE;
            throw new EvalError(pos, "compile-time evaluation did not finish within " + MAX_STEPS + " steps",
                    "is a loop bound or a range absurdly large?");
        }
    }

    // ================================================================ modules

    /** Instantiates a module with the given hyper-parameters; its parameters are named under {@code path}. */
    public ModuleInstance instantiate(Decl.Module decl, Map<String, Value> args, Map<String, Pos> argPos, String path, Pos pos) {
        if (++depth > MAX_DEPTH) {
            depth--;
            throw new EvalError(pos, "modules nested too deeply (more than " + MAX_DEPTH + " levels); does " + decl.name() + " contain itself?");
        }
        try {
            ModuleInstance inst = new ModuleInstance(decl, path);
            Frame f = new Frame(inst);
            List<String> names = decl.hyperParams().stream().map(Decl.Param::name).toList();
            for (String k : args.keySet())
                if (!names.contains(k))
                    throw new EvalError(argPos.getOrDefault(k, pos), decl.name() + " has no hyper-parameter '" + k + "'",
                            hint(Names.didYouMean(k, names), "its hyper-parameters are (" + String.join(", ", names) + ")"));
            for (Decl.Param hp : decl.hyperParams()) {
                Value v = args.get(hp.name());
                Pos at = argPos.getOrDefault(hp.name(), pos);
                if (v == null) {
                    if (hp.defaultValue() == null)
                        throw new EvalError(pos, decl.name() + " needs a value for its hyper-parameter '" + hp.name() + "'");
                    String saved = instPath;
                    instPath = inst.child(hp.name());
                    try {
                        v = eval(hp.defaultValue(), f);
                    } finally {
                        instPath = saved;
                    }
                    at = hp.pos();
                }
                v = coerce(v, hp.type(), at, decl.name() + " hyper-parameter '" + hp.name() + "'");
                inst.hyper().put(hp.name(), v);
            }
            for (Decl.MemberDecl m : decl.members()) if (m instanceof Decl.Fn fn) inst.fns().put(fn.name(), fn);
            members(decl.members(), inst, f);
            return inst;
        } finally {
            depth--;
        }
    }

    private static String hint(String a, String b) { return a != null ? a : b; }

    private void members(List<Decl.MemberDecl> ms, ModuleInstance inst, Frame f) {
        for (Decl.MemberDecl m : ms) {
            if (diags.full()) return;
            try {
                member(m, inst, f);
            } catch (EvalError e) {
                report(e);
                if (m instanceof Decl.LetMember l) inst.members().put(l.name(), Value.ERROR);
                if (m instanceof Decl.ParamMember p) inst.members().put(p.name(), Value.ERROR);
                if (m instanceof Decl.StateMember s) inst.members().put(s.name(), Value.ERROR);
            } catch (EvalError.Poisoned p) {
                if (m instanceof Decl.LetMember l) inst.members().put(l.name(), Value.ERROR);
            }
        }
    }

    private void member(Decl.MemberDecl m, ModuleInstance inst, Frame f) {
        switch (m) {
            case Decl.ParamMember p -> {
                checkFresh(p.name(), p.pos(), inst);
                String path = inst.child(p.name());
                Shape s = concreteShape(p.type(), f, p.pos(), "parameter '" + p.name() + "'");
                Init init = Initializers.of(p.init(), this, f);
                Initializers.checkType(init, dtype(p.type()), p.init().pos());
                if (copyScope != null && (path + ".").startsWith(copyScope[0] + ".")) {
                    Node copied = momentumCopy(path, dtype(p.type()), s, p.pos());
                    inst.members().put(p.name(), new TensorV(copied));
                    inst.statePaths().put(p.name(), path);
                    return;
                }
                inst.members().put(p.name(), new TensorV(at(p.pos(), () -> g.param(path, dtype(p.type()), s, init))));
                inst.paramPaths().put(p.name(), path);
            }
            case Decl.StateMember s -> {
                checkFresh(s.name(), s.pos(), inst);
                String path = inst.child(s.name());
                Shape sh = concreteShape(s.type(), f, s.pos(), "state '" + s.name() + "'");
                Init init = Initializers.of(s.init(), this, f);
                Initializers.checkType(init, dtype(s.type()), s.init().pos());
                inst.members().put(s.name(), new TensorV(at(s.pos(), () -> g.state(path, dtype(s.type()), sh, init))));
                inst.statePaths().put(s.name(), path);
            }
            case Decl.LetMember l -> {
                checkFresh(l.name(), l.pos(), inst);
                String saved = instPath;
                instPath = inst.child(l.name());
                try {
                    inst.members().put(l.name(), eval(l.value(), f));
                } finally {
                    instPath = saved;
                }
            }
            case Decl.IfMember i -> {
                if (Ops.bool(eval(i.cond(), f), i.cond().pos(), "'if'")) members(i.then(), inst, f);
                else members(i.otherwise(), inst, f);
            }
            case Decl.AssertMember a -> checkAssert(a.cond(), a.message(), f);
            case Decl.Fn fn -> { }
        }
    }

    /** A parameter of an ema_copy: a state initialised as a copy of the online parameter at the same relative path. */
    private Node momentumCopy(String path, DType dtype, Shape s, Pos pos) {
        String from = copyScope[1] + path.substring(copyScope[0].length());
        Node online = g.findParam(from);
        if (online == null) throw new EvalError(pos, "ema_copy: the copy has a parameter '" + path + "' but the original has no '" + from + "'");
        if (!online.shape().equals(s) || online.dtype() != dtype)
            throw new EvalError(pos, "ema_copy: '" + path + "' is " + dtype + s + " but the original '" + from + "' is " + online.dtype() + online.shape(),
                    "an override may change behaviour (drop_path_rate), not shapes");
        return at(pos, () -> g.state(path, dtype, s, new Init.Copy(from)));
    }

    /**
     * {@code ema_copy(m, overrides...)} in a let member: instantiates m's module again with m's hyper-parameters
     * (and the overrides) under this member's path; every parameter becomes a state that starts as a copy of m's.
     */
    ModuleInstance emaCopy(ModuleInstance online, Map<String, Value> overrides, Map<String, Pos> overridePos, Pos pos) {
        String path = instPath;
        if (path == null) throw new EvalError(pos, "ema_copy creates a module: use it as a member, let name = ema_copy(module);");
        if (copyScope != null) throw new EvalError(pos, "ema_copy cannot be nested inside another ema_copy");
        LinkedHashMap<String, Value> args = new LinkedHashMap<>(online.hyper());
        for (var e : args.entrySet())
            if (containsModule(e.getValue()) && !overrides.containsKey(e.getKey()))
                throw new EvalError(pos, "ema_copy: " + online.decl().name() + "'s hyper-parameter '" + e.getKey() + "' holds a module, which a copy cannot share",
                        "copy modules whose hyper-parameters are values (the backbone, the projector)");
        args.putAll(overrides);
        copyScope = new String[] {path, online.path()};
        instPath = null;
        try {
            return instantiate(online.decl(), args, overridePos, path, pos);
        } finally {
            copyScope = null;
        }
    }

    private static boolean containsModule(Value v) {
        return v instanceof ModuleV || v instanceof ListV l && l.items().stream().anyMatch(Elaborator::containsModule);
    }

    /**
     * {@code ema_update(target, online, m)}: for every parameter of {@code online} and its copy in {@code target}
     * (made by ema_copy), {@code copy := m * copy + (1 - m) * stop_grad(param)}; later reads see the new values.
     */
    void emaUpdate(ModuleInstance target, ModuleInstance online, Value m, Pos pos) {
        for (var e : online.members().entrySet()) {
            String name = e.getKey();
            Value tv = target.members().get(name);
            if (online.paramPaths().containsKey(name)) {
                if (!target.statePaths().containsKey(name) || !(tv instanceof TensorV t))
                    throw new EvalError(pos, "ema_update: '" + target.child(name) + "' is not a copy of '" + online.paramPaths().get(name) + "'",
                            "make the target with let target = ema_copy(online);");
                Node p = ((TensorV) e.getValue()).node(), old = t.node();
                Node mm = m instanceof TensorV mt ? mt.node() : Ops.scalar(m, old.dtype(), pos, g);
                Node next = at(pos, () -> g.add(g.mul(mm, old), g.mul(g.sub(Ops.scalar(new FloatV(1.0), old.dtype(), pos, g), mm), g.stopGradient(p))));
                Node value = g.stopGradient(next);
                at(pos, () -> g.update(target.statePaths().get(name), value));
                target.members().put(name, new TensorV(value));
            } else {
                emaUpdateMember(e.getValue(), tv, name, pos, m);
            }
        }
    }

    private void emaUpdateMember(Value online, Value target, String name, Pos pos, Value m) {
        if (online instanceof ModuleV om) {
            if (!(target instanceof ModuleV tm) || tm.instance().decl() != om.instance().decl())
                throw new EvalError(pos, "ema_update: the target has no module '" + name + "' matching the original's");
            emaUpdate(tm.instance(), om.instance(), m, pos);
        } else if (online instanceof ListV ol && containsModule(ol)) {
            if (!(target instanceof ListV tl) || tl.items().size() != ol.items().size())
                throw new EvalError(pos, "ema_update: the target's '" + name + "' does not match the original's");
            for (int i = 0; i < ol.items().size(); i++) emaUpdateMember(ol.items().get(i), tl.items().get(i), name + "." + i, pos, m);
        }
    }

    private void checkFresh(String name, Pos pos, ModuleInstance inst) {
        if (inst.members().containsKey(name) || inst.fns().containsKey(name))
            throw new EvalError(pos, "'" + name + "' is already a member of " + inst.decl().name());
        if (inst.hyper().containsKey(name))
            throw new EvalError(pos, "'" + name + "' is already a hyper-parameter of " + inst.decl().name(), "give the member another name");
    }

    private void checkAssert(Expr cond, Expr message, Frame f) {
        if (!Ops.bool(eval(cond, f), cond.pos(), "assert")) {
            String msg = message == null ? "assertion failed" : "assertion failed: " + str(eval(message, f));
            throw new EvalError(cond.pos(), msg);
        }
    }

    static String str(Value v) { return v instanceof StrV s ? s.v() : v.toString(); }

    // ================================================================ functions

    public Value callFn(Decl.Fn fn, ModuleInstance self, Args args) {
        if (++depth > MAX_DEPTH) {
            depth--;
            throw new EvalError(args.pos(), "calls nested too deeply (more than " + MAX_DEPTH + "); is " + fn.name() + " recursive?");
        }
        try {
            Frame f = new Frame(self);
            String[] names = fn.params().stream().map(p -> p.defaultValue() == null ? p.name() : p.name() + "?").toArray(String[]::new);
            Map<String, Value> bound = args.bind(fn.name(), names);
            for (Decl.Param p : fn.params()) {
                Value v = bound.get(p.name());
                if (v instanceof ErrorV) throw EvalError.Poisoned.INSTANCE;
                if (v == null) v = eval(p.defaultValue(), f);
                Pos at = args.namedPos().getOrDefault(p.name(), args.pos());
                if (p.type() instanceof TypeRef.Tensor t) {
                    if (!(v instanceof TensorV tv))
                        throw new EvalError(at, "argument '" + p.name() + "' of " + fn.name() + " must be a tensor, got " + v.typeName());
                    Patterns.match(t, tv.node(), f, this, at, "argument '" + p.name() + "' of " + fn.name());
                } else if (p.type() != null) {
                    v = coerce(v, p.type(), at, "argument '" + p.name() + "' of " + fn.name());
                }
                Value already = f.lookup(p.name());
                if (already != null && !(v instanceof TensorV) && (already instanceof IntV || already instanceof DimV) && !already.equals(v))
                    throw new EvalError(at, "argument '" + p.name() + "' of " + fn.name() + " is " + v + ", but a tensor argument's shape makes it " + already);
                f.define(p.name(), v);
            }
            Value result = exec(fn.body(), f);
            if (result == null) result = Value.NONE;
            if (fn.result() != null) checkResult(fn, result, f);
            return result;
        } finally {
            depth--;
        }
    }

    private void checkResult(Decl.Fn fn, Value result, Frame f) {
        String what = "the result of " + fn.name();
        if (fn.result() instanceof TypeRef.Tensor t) {
            if (!(result instanceof TensorV tv)) throw new EvalError(fn.result().pos(), what + " must be a tensor, got " + result.typeName());
            Patterns.match(t, tv.node(), f, this, fn.result().pos(), what);
        } else if (fn.result() instanceof TypeRef.Tuple tu && result instanceof ListV l && l.items().size() == tu.items().size()) {
            for (int i = 0; i < l.items().size(); i++)
                if (tu.items().get(i) instanceof TypeRef.Tensor t && l.items().get(i) instanceof TensorV tv)
                    Patterns.match(t, tv.node(), f, this, fn.result().pos(), what + " (item " + i + ")");
        } else {
            coerce(result, fn.result(), fn.result().pos(), what);
        }
    }

    /** Runs statements; returns the returned value, or null when the block ends without 'return'. */
    Value exec(List<Stmt> body, Frame f) {
        for (Stmt s : body) {
            if (diags.full()) return Value.ERROR;
            try {
                Value r = execOne(s, f);
                if (r != null) return r;
            } catch (EvalError e) {
                report(e);
                poison(s, f);
            } catch (EvalError.Poisoned p) {
                poison(s, f);
            }
        }
        return null;
    }

    private void poison(Stmt s, Frame f) {
        switch (s) {
            case Stmt.Let l -> f.define(l.name(), Value.ERROR);
            case Stmt.LetTuple l -> l.names().forEach(n -> f.define(n, Value.ERROR));
            case Stmt.Assign a -> f.assign(a.name(), Value.ERROR);
            case Stmt.Return r -> throw EvalError.Poisoned.INSTANCE;
            default -> { }
        }
    }

    private Value execOne(Stmt s, Frame f) {
        step(s.pos());
        switch (s) {
            case Stmt.Let l -> {
                if (f.definedHere(l.name())) throw new EvalError(l.pos(), "'" + l.name() + "' is already defined in this block", "assign it with '" + l.name() + " = ...'");
                f.define(l.name(), eval(l.value(), f));
            }
            case Stmt.LetTuple l -> {
                Value v = eval(l.value(), f);
                if (!(v instanceof ListV lv)) throw new EvalError(l.value().pos(), "cannot unpack " + v.typeName() + " into " + l.names().size() + " names");
                if (lv.items().size() != l.names().size())
                    throw new EvalError(l.pos(), "cannot unpack " + lv.items().size() + " values into " + l.names().size() + " names");
                for (int i = 0; i < l.names().size(); i++) f.define(l.names().get(i), lv.items().get(i));
            }
            case Stmt.Assign a -> {
                Value v = eval(a.value(), f);
                if (!f.assign(a.name(), v)) {
                    if (f.self != null && f.self.statePaths().containsKey(a.name()))
                        throw new EvalError(a.pos(), "'" + a.name() + "' is state: update it with '" + a.name() + " := ...'");
                    if (f.self != null && (f.self.members().containsKey(a.name()) || f.self.hyper().containsKey(a.name())))
                        throw new EvalError(a.pos(), "cannot assign to '" + a.name() + "', a member of " + f.self.decl().name(),
                                "declare a local with 'let " + a.name() + " = ...'");
                    throw new EvalError(a.pos(), "cannot assign to '" + a.name() + "': no local variable of that name",
                            hint(Names.didYouMean(a.name(), f.names()), "declare it with 'let " + a.name() + " = ...'"));
                }
            }
            case Stmt.Update u -> update(u, f);
            case Stmt.If i -> {
                boolean c = Ops.bool(eval(i.cond(), f), i.cond().pos(), "'if'");
                f.push();
                try {
                    return exec(c ? i.then() : i.otherwise(), f);
                } finally {
                    f.pop();
                }
            }
            case Stmt.For fo -> {
                Value it = eval(fo.iterable(), f);
                if (!(it instanceof ListV lv)) throw new EvalError(fo.iterable().pos(), "'for' iterates over a list or range(...), not " + it.typeName());
                for (Value item : lv.items()) {
                    f.push();
                    try {
                        f.define(fo.var(), item);
                        Value r = exec(fo.body(), f);
                        if (r != null) return r;
                    } finally {
                        f.pop();
                    }
                }
            }
            case Stmt.NoGrad n -> { return noGrad(n, f); }
            case Stmt.Return r -> {
                if (r.values().isEmpty()) return Value.NONE;
                if (r.values().size() == 1) return eval(r.values().getFirst(), f);
                List<Value> vs = new ArrayList<>();
                for (Expr e : r.values()) vs.add(eval(e, f));
                return new ListV(vs);
            }
            case Stmt.Assert a -> checkAssert(a.cond(), a.message(), f);
            case Stmt.ExprStmt e -> eval(e.expr(), f);
        }
        return null;
    }

    private void update(Stmt.Update u, Frame f) {
        if (f.self == null || !f.self.statePaths().containsKey(u.name())) {
            String owner = f.self == null ? "a top-level function" : f.self.decl().name();
            throw new EvalError(u.pos(), "'" + u.name() + "' is not a state of " + owner,
                    "declare it in the module: state " + u.name() + ": [...] = zeros();");
        }
        Value v = eval(u.value(), f);
        String path = f.self.statePaths().get(u.name());
        Node state = ((TensorV) f.self.members().get(u.name())).node();
        Node raw = v instanceof TensorV t ? t.node() : Ops.scalar(v, state.dtype(), u.value().pos(), g);
        Node value = noGradDepth > 0 && v instanceof TensorV ? g.stopGradient(raw) : raw;
        if (value.dtype() != state.dtype())
            throw new EvalError(u.value().pos(), "state '" + u.name() + "' holds " + state.dtype() + ", the new value is " + value.dtype());
        at(u.pos(), () -> g.update(path, value));
        f.self.members().put(u.name(), new TensorV(value.shape().equals(state.shape()) ? value : g.expand(value, state.shape())));
    }

    private Value noGrad(Stmt.NoGrad n, Frame f) {
        Map<String, Value> before = new HashMap<>();
        for (String name : f.names()) before.put(name, f.lookup(name));
        f.push();
        noGradDepth++;
        Value r;
        try {
            r = exec(n.body(), f);
        } finally {
            noGradDepth--;
            f.pop();
        }
        for (var e : before.entrySet()) {
            Value now = f.lookup(e.getKey());
            if (now != e.getValue() && now instanceof TensorV t) f.assign(e.getKey(), new TensorV(g.stopGradient(t.node())));
        }
        return r == null ? null : detach(r);
    }

    Value detach(Value v) {
        if (v instanceof TensorV t) return new TensorV(g.stopGradient(t.node()));
        if (v instanceof ListV l) return new ListV(l.items().stream().map(this::detach).toList());
        return v;
    }

    // ================================================================ expressions

    /** Evaluates an expression outside any module or function (constants, command-line values). */
    public Value evalConstant(Expr e) { return eval(e, new Frame(null)); }

    Value eval(Expr e, Frame f) {
        step(e.pos());
        g.at(e.pos().toString());
        Value v = switch (e) {
            case Expr.IntLit i -> new IntV(i.value());
            case Expr.FloatLit x -> new FloatV(x.value());
            case Expr.StrLit s -> new StrV(s.value());
            case Expr.BoolLit b -> new BoolV(b.value());
            case Expr.Name n -> lookup(n.name(), n.pos(), f);
            case Expr.ListLit l -> list(l.items(), f);
            case Expr.TupleLit t -> list(t.items(), f);
            case Expr.Comprehension c -> comprehension(c, f);
            case Expr.Unary u -> Ops.unary(u.op(), eval(u.operand(), f), u.pos(), g);
            case Expr.Binary b -> binary(b, f);
            case Expr.Cond c -> Ops.bool(eval(c.cond(), f), c.cond().pos(), "'?:'") ? eval(c.then(), f) : eval(c.otherwise(), f);
            case Expr.Call c -> call(c, f);
            case Expr.MethodCall m -> methodCall(m, f);
            case Expr.Member m -> member(m, f);
            case Expr.Index i -> Indexing.index(eval(i.receiver(), f), i.items(), this, f, i.pos());
        };
        if (v instanceof ErrorV) throw EvalError.Poisoned.INSTANCE;
        return v;
    }

    private Value binary(Expr.Binary b, Frame f) {
        if (b.op().equals("&&") || b.op().equals("||")) {
            boolean l = Ops.bool(eval(b.left(), f), b.left().pos(), "'" + b.op() + "'");
            if (b.op().equals("&&") ? !l : l) return new BoolV(l);
            return new BoolV(Ops.bool(eval(b.right(), f), b.right().pos(), "'" + b.op() + "'"));
        }
        Value l = eval(b.left(), f), r = eval(b.right(), f);
        g.at(b.pos().toString());
        return Ops.binary(b.op(), l, r, b.pos(), g);
    }

    private Value list(List<Expr> items, Frame f) {
        List<Value> out = new ArrayList<>();
        String base = instPath;
        try {
            for (int i = 0; i < items.size(); i++) {
                instPath = base == null ? null : base + "." + i;
                out.add(eval(items.get(i), f));
            }
        } finally {
            instPath = base;
        }
        return new ListV(out);
    }

    private Value comprehension(Expr.Comprehension c, Frame f) {
        String base = instPath;
        instPath = null;
        Value it = eval(c.iterable(), f);
        if (!(it instanceof ListV lv)) {
            instPath = base;
            throw new EvalError(c.iterable().pos(), "a comprehension iterates over a list or range(...), not " + it.typeName());
        }
        List<Value> out = new ArrayList<>();
        try {
            int i = 0;
            for (Value item : lv.items()) {
                instPath = base == null ? null : base + "." + i++;
                f.push();
                try {
                    f.define(c.var(), item);
                    out.add(eval(c.body(), f));
                } finally {
                    f.pop();
                }
            }
        } finally {
            instPath = base;
        }
        return new ListV(out);
    }

    Value lookup(String name, Pos pos, Frame f) {
        Value v = f.lookup(name);
        if (v != null) return v;
        if (f.self != null) {
            v = f.self.members().get(name);
            if (v != null) return v;
            v = f.self.hyper().get(name);
            if (v != null) return v;
            Decl.Fn fn = f.self.fns().get(name);
            if (fn != null) return new FnV(fn, f.self);
        }
        Decl d = comp.globals().get(name);
        if (d != null) {
            return switch (d) {
                case Decl.Module m -> new ModuleTypeV(m, Map.of());
                case Decl.ModuleAlias a -> alias(a, new java.util.HashSet<>());
                case Decl.Fn fn -> new FnV(fn, null);
                case Decl.Const c -> constant(c);
                case Decl.Import i -> throw new EvalError(pos, "unknown name '" + name + "'");
            };
        }
        switch (name) {
            case "training": return new BoolV(training);
            case "pi": return new FloatV(Math.PI);
            default:
        }
        if (Builtins.isBuiltin(name)) return new BuiltinV(name);
        Set<String> known = new TreeSet<>(f.names());
        if (f.self != null) {
            known.addAll(f.self.members().keySet());
            known.addAll(f.self.hyper().keySet());
            known.addAll(f.self.fns().keySet());
        }
        known.addAll(comp.globals().keySet());
        known.addAll(Builtins.names());
        throw new EvalError(pos, "unknown name '" + name + "'", Names.didYouMean(name, known));
    }

    /** The module an alias names, with the alias's hyper-parameters (an alias of an alias adds to its target's). */
    public ModuleTypeV alias(Decl.ModuleAlias a, java.util.Set<String> seen) {
        if (!seen.add(a.name())) throw new EvalError(a.pos(), "module alias '" + a.name() + "' refers to itself");
        Decl t = comp.globals().get(a.target());
        ModuleTypeV base = switch (t) {
            case Decl.Module m -> new ModuleTypeV(m, Map.of());
            case Decl.ModuleAlias b -> alias(b, seen);
            case null, default -> throw new EvalError(a.targetPos(), "'" + a.target() + "' is not a module");
        };
        LinkedHashMap<String, Value> preset = new LinkedHashMap<>(base.preset());
        LinkedHashMap<String, Expr> deferred = new LinkedHashMap<>(base.deferred());
        Frame f = new Frame(null);
        for (Expr.Arg arg : a.args()) {
            if (arg.name() == null) throw new EvalError(arg.pos(), "the hyper-parameters of an alias are given by name");
            if (createsModule(arg.value())) {
                deferred.put(arg.name(), arg.value());
                preset.remove(arg.name());
            } else {
                preset.put(arg.name(), eval(arg.value(), f));
                deferred.remove(arg.name());
            }
        }
        return new ModuleTypeV(base.decl(), preset, deferred);
    }

    /** Whether an alias argument instantiates a module (then it is evaluated per instance, under its path). */
    private boolean createsModule(Expr e) {
        if (!(e instanceof Expr.Call c) || !(c.callee() instanceof Expr.Name n)) return false;
        Decl d = comp.globals().get(n.name());
        return d instanceof Decl.Module || d instanceof Decl.ModuleAlias;
    }

    /** The hyper-parameters a module type fixes, its deferred module arguments created under {@code path}. */
    public LinkedHashMap<String, Value> presetArgs(ModuleTypeV t, String path) {
        LinkedHashMap<String, Value> all = new LinkedHashMap<>(t.preset());
        String saved = instPath;
        try {
            for (var e : t.deferred().entrySet()) {
                instPath = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                all.put(e.getKey(), eval(e.getValue(), new Frame(null)));
            }
        } finally {
            instPath = saved;
        }
        return all;
    }

    private Value constant(Decl.Const c) {
        Value v = constCache.get(c.name());
        if (v == null) {
            if (constCache.containsKey(c.name())) throw new EvalError(c.pos(), "constant '" + c.name() + "' refers to itself");
            constCache.put(c.name(), null);
            v = eval(c.value(), new Frame(null));
            constCache.put(c.name(), v);
        }
        return v;
    }

    Args args(List<Expr.Arg> list, Frame f, Pos pos, String namedPathBase) {
        List<Value> pos0 = new ArrayList<>();
        LinkedHashMap<String, Value> named = new LinkedHashMap<>();
        Map<String, Pos> namedPos = new HashMap<>();
        String saved = instPath;
        try {
            for (Expr.Arg a : list) {
                if (a.name() == null) {
                    if (!named.isEmpty()) throw new EvalError(a.pos(), "a positional argument cannot follow named ones");
                    instPath = null;
                    pos0.add(eval(a.value(), f));
                } else {
                    if (named.containsKey(a.name())) throw new EvalError(a.pos(), "argument '" + a.name() + "' given twice");
                    instPath = namedPathBase == null ? null : namedPathBase + "." + a.name();
                    named.put(a.name(), eval(a.value(), f));
                    namedPos.put(a.name(), a.pos());
                }
            }
        } finally {
            instPath = saved;
        }
        return new Args(pos, pos0, named, namedPos);
    }

    private Value call(Expr.Call c, Frame f) {
        Value callee = eval(c.callee(), f);
        String path = instPath;
        Args a = args(c.args(), f, c.pos(), callee instanceof ModuleTypeV ? path : null);
        g.at(c.pos().toString());
        return apply(callee, a, c.pos(), f, path);
    }

    Value apply(Value callee, Args a, Pos pos, Frame f, String path) {
        return switch (callee) {
            case BuiltinV b -> Builtins.call(b.name(), a, new Builtins.Ctx(this, f, pos));
            case FnV fn -> callFn(fn.fn(), fn.self(), a);
            case ModuleV m -> {
                Decl.Fn fwd = m.instance().fns().get("forward");
                if (fwd == null) throw new EvalError(pos, m.instance().decl().name() + " has no 'forward' function to call");
                yield callFn(fwd, m.instance(), a);
            }
            case ModuleTypeV t -> {
                if (!a.positional().isEmpty())
                    throw new EvalError(pos, "hyper-parameters of " + t.decl().name() + " are passed by name",
                            "for example " + t.decl().name() + "(" + t.decl().hyperParams().stream().limit(2).map(p -> p.name() + "=...").reduce((x, y) -> x + ", " + y).orElse("") + ")");
                if (path == null)
                    throw new EvalError(pos, "modules are created as members of a module: let name = " + t.decl().name() + "(...);",
                            "a module's parameters are named after the member that holds it");
                LinkedHashMap<String, Value> all = new LinkedHashMap<>();
                for (var e : presetArgs(t, path).entrySet()) if (!a.named().containsKey(e.getKey())) all.put(e.getKey(), e.getValue());
                all.putAll(a.named());
                instPath = null;
                yield new ModuleV(instantiate(t.decl(), all, a.namedPos(), path, pos));
            }
            default -> throw new EvalError(pos, callee.typeName() + " is not callable");
        };
    }

    private Value methodCall(Expr.MethodCall m, Frame f) {
        Value recv = eval(m.receiver(), f);
        if (recv instanceof ModuleV mv) {
            Decl.Fn fn = mv.instance().fns().get(m.method());
            if (fn == null) {
                Value member = mv.instance().members().get(m.method());
                if (member instanceof ModuleV || member instanceof FnV)
                    return apply(member, args(m.args(), f, m.pos(), null), m.pos(), f, null);
                throw new EvalError(m.pos(), mv.instance().decl().name() + " has no function '" + m.method() + "'",
                        Names.didYouMean(m.method(), mv.instance().fns().keySet()));
            }
            return callFn(fn, mv.instance(), args(m.args(), f, m.pos(), null));
        }
        if (!Builtins.isBuiltin(m.method()))
            throw new EvalError(m.pos(), recv.typeName() + " has no method '" + m.method() + "'", Names.didYouMean(m.method(), Builtins.names()));
        Args a = args(m.args(), f, m.pos(), null);
        List<Value> pos = new ArrayList<>();
        pos.add(recv);
        pos.addAll(a.positional());
        g.at(m.pos().toString());
        return Builtins.call(m.method(), new Args(a.pos(), pos, a.named(), a.namedPos()), new Builtins.Ctx(this, f, m.pos()));
    }

    private Value member(Expr.Member m, Frame f) {
        Value recv = eval(m.receiver(), f);
        switch (recv) {
            case ModuleV mv -> {
                ModuleInstance inst = mv.instance();
                Value v = inst.members().get(m.name());
                if (v == null) v = inst.hyper().get(m.name());
                if (v == null && inst.fns().containsKey(m.name())) v = new FnV(inst.fns().get(m.name()), inst);
                if (v == null) {
                    Set<String> known = new TreeSet<>(inst.members().keySet());
                    known.addAll(inst.hyper().keySet());
                    throw new EvalError(m.pos(), inst.decl().name() + " has no member '" + m.name() + "'", Names.didYouMean(m.name(), known));
                }
                return v;
            }
            case TensorV t -> {
                return switch (m.name()) {
                    case "shape" -> new ListV(t.node().shape().dims().stream().map(Value::ofDim).toList());
                    case "rank" -> new IntV(t.node().shape().rank());
                    case "dtype" -> new StrV(t.node().dtype().toString());
                    case "T" -> Builtins.call("transpose", new Args(m.pos(), List.of(recv, new IntV(-2), new IntV(-1)), new LinkedHashMap<>(), Map.of()),
                            new Builtins.Ctx(this, f, m.pos()));
                    default -> throw new EvalError(m.pos(), "a tensor has no field '" + m.name() + "'",
                            hint(Names.didYouMean(m.name(), List.of("shape", "rank", "dtype", "T")), "tensor fields are shape, rank, dtype and T"));
                };
            }
            case ListV l -> {
                if (m.name().equals("len")) return new IntV(l.items().size());
                throw new EvalError(m.pos(), "a list has no field '" + m.name() + "'", "use len(list)");
            }
            default -> throw new EvalError(m.pos(), recv.typeName() + " has no field '" + m.name() + "'");
        }
    }

    // ================================================================ entry points

    /** The graph inputs and result of elaborating an entry function. */
    public record Entry(List<Node> inputs, Value result) {}

    /**
     * Elaborates {@code fn} (of {@code self}, or top-level when null) as an entry point: each tensor parameter
     * becomes a graph input whose unbound sizes are symbols; other parameters come from {@code scalars} or defaults.
     */
    public Entry entry(Decl.Fn fn, ModuleInstance self, Map<String, Value> scalars, Pos pos) {
        Frame f = new Frame(self);
        List<Node> inputs = new ArrayList<>();
        LinkedHashMap<String, Value> named = new LinkedHashMap<>();
        for (Decl.Param p : fn.params()) {
            if (p.type() instanceof TypeRef.Tensor t) {
                Shape s = Patterns.symbolic(t, f, this, "input '" + p.name() + "'");
                Node in = at(p.pos(), () -> g.input(p.name(), dtype(t), s));
                inputs.add(in);
                named.put(p.name(), new TensorV(in));
            } else if (scalars.containsKey(p.name())) {
                named.put(p.name(), scalars.get(p.name()));
            } else if (p.defaultValue() == null) {
                throw new EvalError(pos, fn.name() + " needs a value for its argument '" + p.name() + "'");
            }
        }
        for (String k : scalars.keySet())
            if (fn.params().stream().noneMatch(p -> p.name().equals(k)) && self == null)
                throw new EvalError(pos, fn.name() + " has no argument '" + k + "'");
        Value r = callFn(fn, self, new Args(pos, List.of(), named, Map.of()));
        return new Entry(inputs, r);
    }

    // ================================================================ helpers

    /** Runs a graph-building action, turning a shape error into a diagnostic at {@code pos}. */
    <T> T at(Pos pos, java.util.function.Supplier<T> action) {
        try {
            return action.get();
        } catch (ShapeException e) {
            throw new EvalError(pos, e.getMessage());
        } catch (ArithmeticException e) {
            throw new EvalError(pos, "size overflow: " + e.getMessage());
        }
    }

    static DType dtype(TypeRef.Tensor t) {
        if (t.dtype() == null) return DType.F32;
        DType d = DType.parse(t.dtype());
        return d == null ? DType.F32 : d;
    }

    private Shape concreteShape(TypeRef.Tensor t, Frame f, Pos pos, String what) {
        List<Dim> dims = new ArrayList<>();
        Dim numel = Dim.of(1);
        for (Expr e : t.dims()) {
            if (e == null) throw new EvalError(t.pos(), "the shape of " + what + " must be fully given; '...' is for function signatures");
            Value v = eval(e, f);
            Dim d = Ops.dim(v, e.pos());
            if (!d.isConstant()) throw new EvalError(e.pos(), "the shape of " + what + " must be known at compile time, but " + d + " is symbolic");
            if (d.constant() <= 0) throw new EvalError(e.pos(), "the shape of " + what + " has a size of " + d.constant() + "; sizes must be positive");
            dims.add(d);
            try {
                numel = numel.times(d);
            } catch (ArithmeticException ex) {
                numel = Dim.of(Long.MAX_VALUE);
            }
            if (numel.constant() > MAX_PARAM_ELEMENTS)
                throw new EvalError(pos, what + " would have more than " + MAX_PARAM_ELEMENTS + " elements", "no parameter can be this large; check its shape");
        }
        return new Shape(dims);
    }

    /** Checks (and converts int to float where declared) a scalar, list or module value against a declared type. */
    Value coerce(Value v, TypeRef type, Pos pos, String what) {
        if (type == null) return v;
        switch (type) {
            case TypeRef.Scalar s -> {
                switch (s.name()) {
                    case "int" -> { if (v instanceof IntV || v instanceof DimV) return v; }
                    case "float" -> {
                        if (v instanceof FloatV) return v;
                        if (v instanceof IntV i) return new FloatV(i.v());
                    }
                    case "bool" -> { if (v instanceof BoolV) return v; }
                    case "str" -> { if (v instanceof StrV) return v; }
                    default -> { }
                }
                throw new EvalError(pos, what + " must be " + s.name() + ", got " + v.typeName() + (v instanceof TensorV ? "" : " " + v));
            }
            case TypeRef.ListOf l -> {
                if (!(v instanceof ListV lv)) throw new EvalError(pos, what + " must be a list, got " + v.typeName());
                if (l.element() == null) return v;
                List<Value> out = new ArrayList<>();
                for (int i = 0; i < lv.items().size(); i++) out.add(coerce(lv.items().get(i), l.element(), pos, what + " item " + i));
                return new ListV(out);
            }
            case TypeRef.ModuleRef m -> {
                if (v instanceof ModuleV) return v;
                throw new EvalError(pos, what + " must be a module, got " + v.typeName());
            }
            case TypeRef.Tensor t -> {
                if (v instanceof TensorV) return v;
                throw new EvalError(pos, what + " must be a tensor, got " + v.typeName());
            }
            case TypeRef.Tuple t -> {
                if (v instanceof ListV lv && lv.items().size() == t.items().size()) return v;
                throw new EvalError(pos, what + " must be a tuple of " + t.items().size() + ", got " + v.typeName());
            }
        }
    }

    /** A stable stream id for the next random op of the module at {@code path} (same program, same numbers). */
    long nextStream(Frame f) {
        String owner = f.self == null ? "" : f.self.path();
        int n = streamCounters.merge(owner, 1, Integer::sum);
        long h = 0xcbf29ce484222325L;
        for (byte b : (owner + "#" + n).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h & Long.MAX_VALUE;
    }
}
