package mobyc.compiler.fuse;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;

/**
 * The order in which the graph passes run. Two points in a graph's life take passes:
 * <ul>
 *   <li>{@link #frontEnd}: after the front end built a model, before autodiff, for every backend. Passes here
 *       replace a pattern by an op whose gradient rule autodiff then uses (a patch embedding's conv as a product,
 *       the fused window attention, then Swin's shift, partition and merge folded into it), so
 *       interp runs them too (their reference kernels are the semantic check).</li>
 *   <li>{@link #backend}: what a compiling backend runs on the final graph (forward, or forward + backward)
 *       before lowering: folding transposes into GEMMs, fusing elementwise chains, grouping multi-tensor updates.
 *       The reference executor runs none of them.</li>
 * </ul>
 * {@code -Dmobyc.fuse=none} turns every pass off, {@code -Dmobyc.fuse.skip=epilogues,multi-tensor} the named
 * ones (to compare against, or to find a pass's bug); each pass is checked by the {@link Verifier} after it runs.
 */
public final class Pipeline {
    public static final String PROPERTY = "mobyc.fuse";

    /** A named graph-to-graph pass. */
    public record Pass(String name, UnaryOperator<Graph> run) {}

    private Pipeline() {}

    /** Passes that run on every model the front end builds, before autodiff. */
    public static List<Pass> frontEndPasses() {
        List<Pass> passes = new ArrayList<>();
        passes.add(new Pass("patchify", Patchify::run));
        passes.add(new Pass("attention", AttentionFusion::run));
        passes.add(new Pass("windows", WindowFolding::run));
        return passes;
    }

    /** Passes a compiling backend (cpu) runs before lowering. */
    public static List<Pass> backendPasses() {
        List<Pass> passes = new ArrayList<>();
        passes.add(new Pass("cse", CommonSubexpressions::run));
        passes.add(new Pass("identities", Identities::run));
        passes.add(new Pass("fold-transposes", MatMulFolding::run));
        passes.add(new Pass("epilogues", Epilogues::run));
        passes.add(new Pass("activations", Activations::run));
        passes.add(new Pass("gelu-pairs", GeluPairs::run));
        passes.add(new Pass("fuse-elementwise", ElementwiseFusion::run));
        passes.add(new Pass("multi-tensor", MultiTensorFusion::run));
        passes.add(new Pass("norm-grad-order", NormGradOrder::run));
        passes.add(new Pass("bias-grad-order", BiasGradOrder::run));
        return passes;
    }

    public static Graph frontEnd(Graph g) { return run(g, frontEndPasses()); }

    public static Graph backend(Graph g) { return run(g, backendPasses()); }

    /**
     * Runs {@code body} with {@code -Dmobyc.fuse} set to {@code setting} ("none" for no passes), then restores it:
     * how benchmarks and tests compile the same graph with and without the passes.
     */
    public static <T> T with(String setting, java.util.function.Supplier<T> body) { return withProperty(PROPERTY, setting, body); }

    /** The names of every pass, front end then backend, in the order they run. */
    public static List<String> passNames() {
        List<String> names = new ArrayList<>();
        for (Pass p : frontEndPasses()) names.add(p.name());
        for (Pass p : backendPasses()) names.add(p.name());
        return names;
    }

    /**
     * Runs {@code body} with {@code skipped} added to {@code -Dmobyc.fuse.skip}, then restores it: how a benchmark
     * compiles one program with some passes off beside another with them on.
     */
    public static <T> T withSkipped(List<String> skipped, java.util.function.Supplier<T> body) {
        if (skipped.isEmpty()) return body.get();
        String key = PROPERTY + ".skip", old = System.getProperty(key);
        return withProperty(key, (old == null || old.isBlank() ? "" : old + ",") + String.join(",", skipped), body);
    }

    /** Runs {@code body} with the system property {@code key} set to {@code value}, then restores it. */
    private static <T> T withProperty(String key, String value, java.util.function.Supplier<T> body) {
        String old = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return body.get();
        } finally {
            if (old == null) System.clearProperty(key);
            else System.setProperty(key, old);
        }
    }

    /** Whether passes are on ({@code -Dmobyc.fuse} unset or not "none"). */
    public static boolean enabled() { return !"none".equals(System.getProperty(PROPERTY)); }

    static Graph run(Graph g, List<Pass> passes) {
        if (!enabled()) return g;
        java.util.Set<String> skip = java.util.Set.of(System.getProperty(PROPERTY + ".skip", "").split(","));
        for (Pass p : passes) {
            if (skip.contains(p.name())) continue;
            Graph next = p.run().apply(g);
            if (next != g) {
                List<String> problems = Verifier.check(next);
                if (!problems.isEmpty())
                    throw new IllegalStateException("pass " + p.name() + " broke " + g.name() + ": " + problems.getFirst());
                g = next;
            }
        }
        return g;
    }
}
