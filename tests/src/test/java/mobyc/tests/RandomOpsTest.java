package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Dropout and stochastic depth draw counter-based random numbers (seed, step, stream, element): the same seed and
 * step give the same mask, another step another mask; the kept fraction and the scaling are right; eval is identity.
 */
class RandomOpsTest {
    static final String SRC = """
            fn drop(x: [B, N]) { return dropout(x, 0.25); }
            fn path(x: [B, N]) { return drop_path(x, 0.5); }
            """;

    static Graph graph(String fn, boolean training) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.loadSource("random.moby", SRC, d);
        Frontend.Built b = Frontend.build(c, new Frontend.Request(fn, "forward", Map.of(), training));
        assertTrue(!d.hasErrors(), d::format);
        return b.graph();
    }

    static float[] run(Graph g, Tensor x, long seed, long step) {
        Executable e = Backends.select("interp").compile(Lower.lower(g));
        return e.run(Map.of("x", x), ParameterStore.initialise(g, 0), new RunContext(seed, step)).get("out").toFloatArray();
    }

    static Tensor ones(int b, int n) {
        float[] v = new float[b * n];
        Arrays.fill(v, 1f);
        return Tensor.of(v, b, n);
    }

    @Test
    void dropoutIsDeterministicPerSeedAndStep() {
        Graph g = graph("drop", true);
        Tensor x = ones(64, 257);
        float[] a = run(g, x, 7, 3), again = run(g, x, 7, 3), other = run(g, x, 7, 4), seed = run(g, x, 8, 3);
        assertArrayEquals(a, again);
        assertFalse(Arrays.equals(a, other), "another step draws another mask");
        assertFalse(Arrays.equals(a, seed), "another seed draws another mask");
        int zeros = 0;
        for (float v : a) {
            if (v == 0) zeros++;
            else assertEquals(1f / 0.75f, v, 1e-6f);
        }
        double frac = zeros / (double) a.length;
        assertTrue(Math.abs(frac - 0.25) < 0.02, "dropped fraction " + frac);
    }

    @Test
    void dropPathDropsWholeSamples() {
        Graph g = graph("path", true);
        float[] a = run(g, ones(400, 9), 1, 0);
        int dropped = 0;
        for (int s = 0; s < 400; s++) {
            float first = a[s * 9];
            for (int j = 1; j < 9; j++) assertEquals(first, a[s * 9 + j], "one decision per sample");
            if (first == 0) dropped++;
            else assertEquals(2f, first, 1e-6f);
        }
        assertTrue(dropped > 150 && dropped < 250, "dropped " + dropped + " of 400 samples");
    }

    @Test
    void evaluationModeHasNoRandomness() {
        for (String fn : new String[] {"drop", "path"}) {
            Graph g = graph(fn, false);
            assertTrue(g.nodes().stream().noneMatch(n -> n.op() instanceof Op.Random), fn);
            Tensor x = ones(3, 5);
            assertArrayEquals(x.toFloatArray(), run(g, x, 1, 0));
        }
    }
}
