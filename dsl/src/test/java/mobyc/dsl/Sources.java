package mobyc.dsl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;

/** Runs the front end on source text, as the CLI does, for tests. */
final class Sources {
    private Sources() {}

    static final String FILE = "t.moby";

    /** The diagnostics and, when there were none, the built graph. */
    record Result(Diagnostics diags, Frontend.Built built) {
        Graph graph() {
            assertFalse(diags.hasErrors(), diags::format);
            assertNotNull(built);
            List<String> problems = Verifier.check(built.graph());
            assertTrue(problems.isEmpty(), problems::toString);
            return built.graph();
        }

        String text() { return graph().toString(); }
    }

    /** Loads {@code text} and, when it loads cleanly, builds {@code entry.function} (entry null: the first module). */
    static Result compile(String text, String entry, String function, Map<String, Value> sets, boolean training) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.loadSource(FILE, text, d);
        if (d.hasErrors()) return new Result(d, null);
        String e = entry != null ? entry : firstEntry(c);
        return new Result(d, Frontend.build(c, new Frontend.Request(e, function, sets, training)));
    }

    static Result compile(String text) { return compile(text, null, "forward", Map.of(), false); }
    static Result compile(String text, String entry) { return compile(text, entry, "forward", Map.of(), false); }
    static Result compile(String text, String entry, Map<String, Value> sets) { return compile(text, entry, "forward", sets, false); }

    /** Everything the front end printed for {@code text}. */
    static String diagnostics(String text) { return compile(text).diags().format(); }
    static String diagnostics(String text, String entry) { return compile(text, entry).diags().format(); }

    private static String firstEntry(Compilation c) {
        List<Decl> decls = c.roots().getFirst().decls();
        return decls.stream().filter(x -> x instanceof Decl.Module).map(Decl::name).findFirst().orElse(decls.getFirst().name());
    }

    static Value i(long v) { return new Value.IntV(v); }
    static Value f(double v) { return new Value.FloatV(v); }
    static Value b(boolean v) { return new Value.BoolV(v); }
    static Value ints(long... vs) {
        List<Value> out = new ArrayList<>();
        for (long v : vs) out.add(new Value.IntV(v));
        return new Value.ListV(out);
    }

    static Map<String, Value> sets(Object... kv) {
        Map<String, Value> m = new LinkedHashMap<>();
        for (int k = 0; k < kv.length; k += 2) m.put((String) kv[k], (Value) kv[k + 1]);
        return m;
    }

    /** Runs {@code body} on a thread with a 512 MB stack, as the CLI runs the front end; rethrows what it throws. */
    static <T> T onBigStack(Supplier<T> body) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                result.set(body.get());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "big-stack", 512L << 20);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            t.interrupt();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        if (failure.get() instanceof Error e) throw e;
        if (failure.get() instanceof RuntimeException e) throw e;
        if (failure.get() != null) throw new AssertionError(failure.get());
        return result.get();
    }
}
