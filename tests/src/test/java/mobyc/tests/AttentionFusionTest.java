package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.AttentionFusion;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.fuse.WindowFolding;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Printer;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The front end's attention pass (compiler/fuse/AttentionFusion): Swin blocks (plain and shifted, with the mask) and
 * DeiT blocks come out with one fused attention op each and no softmax; near misses stay as they were; the fused
 * graphs compute the same outputs and gradients as the unfused ones on interp, and cpu matches interp.
 */
class AttentionFusionTest {
    private static final String SWIN_STAGE = """
            import "swin.moby";
            module M = SwinStage(dim=%d, depth=2, heads=2, resolution=[%d, %d], window=%d, merging=false);
            """;
    private static final String DEIT = """
            import "deit.moby";
            module M = VisionTransformer(img_size=16, patch=4, classes=5, embed_dim=24, depth=2, heads=3, drop_path_rate=0.0);
            """;

    /** The graph as the front end builds it with every pass off ({@code -Dmobyc.fuse=none}). */
    static Graph unfused(Supplier<Graph> build) { return Pipeline.with("none", build); }

    static Graph swin(int dim, int res, int window) {
        return Programs.buildSource("swin_stage.moby", SWIN_STAGE.formatted(dim, res, res, window), "M", true);
    }

    private static Graph deit() { return Programs.buildSource("deit.moby", DEIT, "M", true); }

    static long count(Graph g, String opName) {
        return Printer.print(g).lines().filter(l -> l.contains(" = " + opName + " ")).count();
    }

    @Test
    void swinStageHasOneAttentionPerBlockAndNoSoftmax() {
        Graph g = swin(16, 8, 4);
        assertEquals(2, count(g, "attention"), Printer.print(g));
        assertEquals(0, count(g, "softmax"), Printer.print(g));
        assertEquals(1, Printer.print(g).lines().filter(l -> l.contains(" = attention ") && l.contains("bias, mask")).count(),
                "the shifted block's attention takes the mask");
        Graph plain = unfused(() -> swin(16, 8, 4));
        assertEquals(2, count(plain, "softmax"));
        assertEquals(Printer.print(g), Printer.print(WindowFolding.run(AttentionFusion.run(plain))), "the front end runs exactly these passes");
    }

    @Test
    void deitHasOneAttentionPerBlockAndNoSoftmax() {
        Graph g = deit();
        assertEquals(2, count(g, "attention"), Printer.print(g));
        assertEquals(0, count(g, "softmax"));
        assertTrue(Printer.print(g).lines().filter(l -> l.contains(" = attention ")).allMatch(l -> l.contains("{heads=3, scale=") && !l.contains(", bias") && !l.contains(", mask")),
                "global attention: no bias, no mask");
    }

    /** DeiT's Attention with one change each: the pass must leave all of them alone. */
    @ParameterizedTest
    @ValueSource(strings = {
            // a different scale placement: the scores scaled after the product
            "softmax((t[0] @ transpose(t[1], -2, -1)) * scale, axis=-1)",
            // a softmax over the queries
            "softmax((t[0] * scale) @ transpose(t[1], -2, -1), axis=-2)",
            // a learned scale (a parameter, not a constant)
            "softmax((t[0] * temperature) @ transpose(t[1], -2, -1), axis=-1)",
            // q and k swapped
            "softmax((t[1] * scale) @ transpose(t[0], -2, -1), axis=-1)"})
    void nearMissesAreLeftAlone(String scores) {
        String src = """
                import "nn.moby";
                module A(dim: int = 8, heads: int = 2) {
                    let head_dim = dim / heads;
                    let scale = float(head_dim) ** -0.5;
                    param temperature: [1] = ones();
                    let qkv = Linear(in_features=dim, out_features=3 * dim);
                    fn forward(x: [B, N, dim]) -> [B, N, dim] {
                        let t = permute(reshape(qkv(x), [B, N, 3, heads, head_dim]), [2, 0, 3, 1, 4]);
                        let attn = %s;
                        return reshape(transpose(attn @ t[2], 1, 2), [B, N, dim]);
                    }
                }
                """.formatted(scores);
        Graph g = unfused(() -> Programs.buildSource("a.moby", src, "A", true));
        assertSame(g, AttentionFusion.run(g), "unchanged");
        assertEquals(1, count(Programs.buildSource("a.moby", src, "A", true), "softmax"));
    }

    @Test
    void probabilitiesReadElsewhereAreNotFused() {
        Graph g = unfused(AttentionFusionTest::deit);
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> copy = b.copyAll(g);
        g.outputs().forEach((k, v) -> b.output(k, copy.get(v)));
        Node softmax = g.nodes().stream().filter(n -> n.op() instanceof Op.Softmax).findFirst().orElseThrow();
        b.output("attn", copy.get(softmax));
        Graph probed = b.build();
        Graph fused = AttentionFusion.run(probed);
        assertEquals(1, count(fused, "attention"), "only the block whose probabilities nobody else reads");
        assertEquals(1, count(fused, "softmax"));
        Verifier.verify(fused);
    }

    /**
     * The whole model: fused equals unfused on interp (1e-5), and on cpu (1e-4, both graphs through the cpu backend's
     * own passes); the cpu kernels against interp's are checked op by op in {@link #cpuKernelsEqualInterp}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"swin 16 8 4", "swin 64 14 7", "deit"})
    void fusedOutputsAndGradientsEqualUnfused(String config) {
        String[] c = config.split(" ");
        Supplier<Graph> build = c[0].equals("deit") ? AttentionFusionTest::deit
                : () -> swin(Integer.parseInt(c[1]), Integer.parseInt(c[2]), Integer.parseInt(c[3]));
        Graph plain = train(unfused(build)), fused = train(build.get());
        assertTrue(count(fused, "attention_grad") == 2 && count(plain, "attention") == 0, Printer.print(fused));
        assertEquals(c[0].equals("swin") ? 2 : 0, count(fused, "attention_bias_grad"));
        assertRewriteKeepsTheNumbers(plain, fused, config);
    }

    /**
     * {@code rewritten} (a pass on) against {@code plain} (every pass off), parameters randomised, batch 2: every
     * output and gradient on interp within 1e-5, and on cpu (each graph through the cpu backend's own passes) within
     * 1e-4 of each other. Returns interp's results of {@code plain}.
     */
    static Map<String, Tensor> assertRewriteKeepsTheNumbers(Graph plain, Graph rewritten, String label) {
        ParameterStore store = ParameterStore.initialise(plain, 0);
        randomise(store);
        Map<String, Tensor> inputs = inputs(plain, 2);
        Map<String, Tensor> expected = run("interp", plain, inputs, store), interp = run("interp", rewritten, inputs, store);
        Map<String, Tensor> cpuPlain = run("cpu", plain, inputs, store), cpu = run("cpu", rewritten, inputs, store);
        assertEquals(expected.keySet(), interp.keySet());
        for (String k : expected.keySet()) {
            Golden.assertClose(interp.get(k), expected.get(k), 1e-5, label + " rewritten vs plain " + k);
            Golden.assertClose(cpu.get(k), cpuPlain.get(k), 1e-4, label + " cpu rewritten vs plain " + k);
        }
        return expected;
    }

    /** The three attention kernels alone, cpu against interp, on window sizes below, at and above a vector. */
    @ParameterizedTest
    @ValueSource(strings = {"8 16 3 16 4 1 1", "6 49 2 32 2 1 1", "3 17 3 8 1 0 0", "5 9 1 24 5 1 0", "4 16 2 16 2 0 1"})
    void cpuKernelsEqualInterp(String config) {
        int[] c = java.util.Arrays.stream(config.split(" ")).mapToInt(Integer::parseInt).toArray();
        int bw = c[0], n = c[1], heads = c[2], hd = c[3], nW = c[4];
        boolean bias = c[5] == 1, mask = c[6] == 1;
        int dim = heads * hd;
        double scale = Math.pow(hd, -0.5);
        GraphBuilder b = new GraphBuilder("attention");
        List<Node> ins = new java.util.ArrayList<>();
        ins.add(b.input("qkv", DType.F32, Shape.of(bw, n, 3L * dim)));
        if (bias) ins.add(b.input("bias", DType.F32, Shape.of(heads, n, n)));
        if (mask) ins.add(b.input("mask", DType.F32, Shape.of(nW, n, n)));
        Node y = b.add(new Op.Attention(heads, scale, bias, mask), ins, null, null);
        List<Node> withGrad = new java.util.ArrayList<>(ins);
        withGrad.add(b.input("g", DType.F32, Shape.of(bw, n, dim)));
        b.output("y", y);
        b.output("dqkv", b.add(new Op.AttentionGrad(heads, scale, bias, mask), withGrad, null, null));
        if (bias) b.output("dbias", b.add(new Op.AttentionBiasGrad(heads, scale, mask), withGrad, null, null));
        Graph g = Verifier.verify(b.build());
        Map<String, Tensor> inputs = inputs(g, 1);
        Map<String, Tensor> cpu = cpuMatchesInterp(g, inputs, "attention " + config);
        if (bias) { // above, attention_grad computed the bias gradient too; alone, attention_bias_grad gives the same bits
            GraphBuilder alone = new GraphBuilder("bias_grad");
            List<Node> copies = withGrad.stream().map(i -> alone.input(((Op.Input) i.op()).inputName(), DType.F32, i.shape())).toList();
            alone.output("dbias", alone.add(new Op.AttentionBiasGrad(heads, scale, mask), copies, null, null));
            Graph ga = Verifier.verify(alone.build());
            Map<String, Tensor> single = run("cpu", ga, inputs, ParameterStore.initialise(ga, 0));
            assertArrayEquals(cpu.get("dbias").toFloatArray(), single.get("dbias").toFloatArray(), "paired and alone: " + config);
        }
    }

    /**
     * Runs a graph of attention kernels on interp and twice on cpu, with random inputs (a "mask" made 0 or -100, as
     * Swin's): cpu within 1e-4 of interp, and the same bits both times. Returns the cpu results.
     */
    static Map<String, Tensor> cpuMatchesInterp(Graph g, Map<String, Tensor> inputs, String label) {
        Tensor m = inputs.get("mask");
        if (m != null) for (long i = 0; i < m.numel(); i++) m.setFloat(i, m.getFloat(i) > 0.5 ? -100f : 0f);
        ParameterStore store = ParameterStore.initialise(g, 0);
        Map<String, Tensor> interp = run("interp", g, inputs, store), cpu = run("cpu", g, inputs, store), again = run("cpu", g, inputs, store);
        for (String k : interp.keySet()) {
            Golden.assertClose(cpu.get(k), interp.get(k), 1e-4, label + " cpu vs interp " + k);
            assertArrayEquals(cpu.get(k).toFloatArray(), again.get(k).toFloatArray(), "cpu is deterministic: " + label + " " + k);
        }
        return cpu;
    }

    /** Forward plus gradients of a weighted-sum loss in every parameter and the input. */
    static Graph train(Graph g) {
        return Verifier.verify(Autodiff.differentiate(Programs.withWeightedSumLoss(g), "loss", Set.of("x")));
    }

    /** Parameters drawn at a scale where the bias and every branch matter (the defaults leave the bias near zero). */
    static void randomise(ParameterStore store) {
        Random r = new Random(7);
        for (Tensor t : store.params().values())
            for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (0.5 * r.nextGaussian() / Math.sqrt(Math.max(1, t.dim(t.rank() - 1)))) + (t.rank() == 1 ? 1 : 0));
    }

    static Map<String, Tensor> inputs(Graph g, long batch) {
        Random r = new Random(11);
        Map<String, Tensor> in = new LinkedHashMap<>();
        Map<String, Long> sizes = Map.of("B", batch);
        for (Node n : g.inputs()) {
            List<Dim> dims = n.shape().dims();
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = dims.get(i).evaluate(sizes);
            float[] data = new float[Math.toIntExact(Tensor.checkedNumel(shape))];
            for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
            in.put(((Op.Input) n.op()).inputName(), Tensor.of(data, shape));
        }
        return in;
    }

    static Map<String, Tensor> run(String backend, Graph g, Map<String, Tensor> inputs, ParameterStore store) {
        return Backends.select(backend).compile(Lower.lower(g)).run(inputs, store, new RunContext(0, 0));
    }
}
