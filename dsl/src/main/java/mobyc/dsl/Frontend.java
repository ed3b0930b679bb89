package mobyc.dsl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.ShapeException;
import mobyc.compiler.ir.Verifier;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.ast.Expr;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Names;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.eval.Elaborator;
import mobyc.dsl.eval.EvalError;
import mobyc.dsl.eval.ModuleInstance;
import mobyc.dsl.eval.Value;

/**
 * The front end's entry points: load .moby files, check them, and build the graph of a module's function
 * with chosen hyper-parameters. All problems land in the {@link Diagnostics}; nothing here throws for a user's mistake.
 */
public final class Frontend {
    private Frontend() {}

    /** Loads files and their imports and resolves names statically. */
    public static Compilation load(List<Path> files, Diagnostics diags) {
        Compilation c = new Compilation(diags);
        try {
            for (Path p : files) c.addFile(p);
            if (!diags.hasErrors()) new Resolver(c, diags).run();
        } catch (StackOverflowError e) {
            diags.error(Compilation.commandLine(files.isEmpty() ? "<input>" : files.getLast().toString()),
                    "the program is nested too deeply to compile", "split long expressions with 'let'");
        }
        return c;
    }

    /** Loads source text (tests and tools). */
    public static Compilation loadSource(String name, String text, Diagnostics diags) {
        Compilation c = new Compilation(diags);
        try {
            c.addSource(name, text, null);
            if (!diags.hasErrors()) new Resolver(c, diags).run();
        } catch (StackOverflowError e) {
            diags.error(Compilation.commandLine(name), "the program is nested too deeply to compile", "split long expressions with 'let'");
        }
        return c;
    }

    /** What to build: an entry (a module or a top-level function), the function to run, hyper-parameters, mode. */
    public record Request(String entry, String function, Map<String, Value> sets, boolean training) {
        public static Request forward(String entry, Map<String, Value> sets) { return new Request(entry, "forward", sets, false); }
    }

    /** The built graph with the names of its inputs (in signature order) and outputs. */
    public record Built(Graph graph, List<String> inputs, List<String> outputs) {}

    /**
     * Builds the graph for a request and runs the compiler's front-end passes on it ({@link
     * mobyc.compiler.fuse.Pipeline#frontEnd}: the fused attention), or returns null with diagnostics.
     */
    public static Built build(Compilation c, Request r) {
        Built b = elaborate(c, r);
        return b == null ? null : new Built(mobyc.compiler.fuse.Pipeline.frontEnd(b.graph()), b.inputs(), b.outputs());
    }

    /** The graph exactly as the program elaborates, before any pass, or null with diagnostics. */
    public static Built elaborate(Compilation c, Request r) {
        Diagnostics diags = c.diagnostics();
        Pos cli = Compilation.commandLine("<command line>");
        Decl d = c.globals().get(r.entry());
        if (d == null) {
            List<String> known = c.globals().entrySet().stream().filter(e -> !(e.getValue() instanceof Decl.Const)).map(Map.Entry::getKey).toList();
            diags.error(cli, "no module or function named '" + r.entry() + "'",
                    Names.didYouMean(r.entry(), known) != null ? Names.didYouMean(r.entry(), known)
                            : known.isEmpty() ? "the file defines no modules or functions" : "defined: " + String.join(", ", known));
            return null;
        }
        GraphBuilder gb = new GraphBuilder(r.entry() + (r.function().equals("forward") ? "" : "." + r.function()));
        Elaborator el = new Elaborator(c, gb, r.training(), diags);
        Elaborator.Entry entry;
        try {
            if (d instanceof Decl.Module || d instanceof Decl.ModuleAlias) {
                Value.ModuleTypeV type = d instanceof Decl.ModuleAlias a ? el.alias(a, new java.util.HashSet<>()) : new Value.ModuleTypeV((Decl.Module) d, Map.of());
                Decl.Module m = type.decl();
                Map<String, Pos> setPos = new LinkedHashMap<>();
                for (String k : r.sets().keySet()) setPos.put(k, cli);
                LinkedHashMap<String, Value> all = new LinkedHashMap<>();
                for (var e : type.deferred().keySet()) if (r.sets().containsKey(e)) throw new EvalError(cli, "--set cannot replace '" + e + "', a module argument of " + r.entry());
                all.putAll(el.presetArgs(type, ""));
                all.putAll(r.sets());
                ModuleInstance inst = el.instantiate(m, all, setPos, "", d.pos());
                if (diags.hasErrors()) return null;
                Decl.Fn fn = inst.fns().get(r.function());
                if (fn == null) {
                    diags.error(m.pos(), m.name() + " has no function '" + r.function() + "'", Names.didYouMean(r.function(), inst.fns().keySet()));
                    return null;
                }
                entry = el.entry(fn, inst, Map.of(), m.pos());
            } else if (d instanceof Decl.Fn fn) {
                entry = el.entry(fn, null, r.sets(), fn.pos());
            } else {
                diags.error(d.pos(), "'" + r.entry() + "' is a constant, not a module or function");
                return null;
            }
        } catch (EvalError e) {
            diags.error(e.pos(), e.getMessage(), e.hint());
            return null;
        } catch (EvalError.Poisoned p) {
            return null;
        } catch (StackOverflowError e) {
            diags.error(d.pos(), "the program is nested too deeply to elaborate");
            return null;
        }
        if (diags.hasErrors()) return null;
        List<String> outs = new ArrayList<>();
        Value res = entry.result();
        List<Value> items = res instanceof Value.ListV l ? l.items() : List.of(res);
        for (int i = 0; i < items.size(); i++) {
            if (!(items.get(i) instanceof Value.TensorV t)) {
                diags.error(d.pos(), r.entry() + "." + r.function() + " must return tensors, but returns " + items.get(i).typeName());
                return null;
            }
            String name = items.size() == 1 ? "out" : "out" + i;
            gb.output(name, t.node());
            outs.add(name);
        }
        Graph g;
        try {
            g = Verifier.verify(gb.build());
        } catch (ShapeException e) {
            diags.error(d.pos(), e.getMessage());
            return null;
        }
        return new Built(g, entry.inputs().stream().map(n -> ((mobyc.compiler.ir.Op.Input) n.op()).inputName()).toList(), outs);
    }

    /** Parses a command-line value ("96", "0.1", "true", "[2, 2, 6, 2]", "\"text\"") as a .moby literal. */
    public static Value parseValue(String text, String what, Diagnostics diags) {
        Compilation c = new Compilation(diags);
        Decl.FileUnit u = c.addSource(what, "const value = " + text + ";", null);
        if (u == null || u.decls().isEmpty() || !(u.decls().getFirst() instanceof Decl.Const k)) {
            if (!diags.hasErrors()) diags.error(Compilation.commandLine(what), "cannot read '" + text + "' as a value");
            return null;
        }
        try {
            return new Elaborator(c, new GraphBuilder("value"), false, diags).evalConstant(k.value());
        } catch (EvalError e) {
            diags.error(Compilation.commandLine(what), "cannot read '" + text + "' as a value: " + e.getMessage());
            return null;
        }
    }

    static boolean isLiteral(Expr e) {
        return e instanceof Expr.IntLit || e instanceof Expr.FloatLit || e instanceof Expr.StrLit || e instanceof Expr.BoolLit;
    }

    /** The inputs of a built graph as nodes, in signature order. */
    public static List<Node> inputNodes(Built b) { return b.graph().inputs(); }
}
