package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;

/** Shared steps of the commands: load sources, read --set values, build a graph; diagnostics go to stderr. */
final class Programs {
    private Programs() {}

    /** Front-end work runs on a thread with a large stack, so deep but legal programs never overflow it. */
    static final long STACK_BYTES = 512L << 20;

    static <T> T withBigStack(java.util.function.Supplier<T> work) {
        Object[] box = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                box[0] = work.get();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "mobyc-frontend", STACK_BYTES);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (failure[0] instanceof RuntimeException r) throw r;
        if (failure[0] instanceof Error e) throw e;
        @SuppressWarnings("unchecked") T r = (T) box[0];
        return r;
    }

    static Compilation load(List<Path> files, Diagnostics diags, PrintWriter err) {
        Compilation c = withBigStack(() -> Frontend.load(files, diags));
        if (diags.hasErrors()) fail(diags, err);
        if (!diags.isEmpty()) {
            err.print(diags.format());
            err.flush();
        }
        return c;
    }

    static Map<String, Value> sets(List<String> sets, Diagnostics diags, PrintWriter err) {
        Map<String, Value> out = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new UserError("--set takes name=value, got '" + s + "'");
            String name = s.substring(0, eq).trim();
            Value v = Frontend.parseValue(s.substring(eq + 1).trim(), "--set " + name, diags);
            if (v == null) fail(diags, err);
            out.put(name, v);
        }
        return out;
    }

    static Frontend.Built build(Compilation c, Frontend.Request r, PrintWriter err) {
        Frontend.Built b = withBigStack(() -> Frontend.build(c, r));
        if (b == null || c.diagnostics().hasErrors()) fail(c.diagnostics(), err);
        return b;
    }

    /** The module {@code entry} names (through aliases), or null. */
    static mobyc.dsl.ast.Decl.Module module(Compilation c, String entry) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        mobyc.dsl.ast.Decl d = c.globals().get(entry);
        while (d instanceof mobyc.dsl.ast.Decl.ModuleAlias a && seen.add(a.name())) d = c.globals().get(a.target());
        return d instanceof mobyc.dsl.ast.Decl.Module m ? m : null;
    }

    /** Whether module {@code entry} declares the hyper-parameter {@code name}. */
    static boolean declaresHyper(Compilation c, String entry, String name) {
        var m = module(c, entry);
        return m != null && m.hyperParams().stream().anyMatch(p -> p.name().equals(name));
    }

    /** Whether module {@code entry} has a member function {@code name}. */
    static boolean hasFunction(Compilation c, String entry, String name) {
        var m = module(c, entry);
        return m != null && m.members().stream().anyMatch(x -> x instanceof mobyc.dsl.ast.Decl.Fn f && f.name().equals(name));
    }

    static void fail(Diagnostics diags, PrintWriter err) {
        err.print(diags.format());
        err.flush();
        throw new Main.Diagnosed();
    }
}
