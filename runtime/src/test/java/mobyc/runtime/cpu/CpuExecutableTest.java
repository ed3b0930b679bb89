package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Whole programs on cpu and interp: a small pre-norm transformer block with a classifier head, its gradient
 * graph from {@link Autodiff}, state updates and random ops; outputs, gradients and states must agree.
 */
class CpuExecutableTest {
    private static final int T = 13, C = 24, H = 2, D = C / H, HIDDEN = 4 * C, CLASSES = 5;

    /** x [B, T, C] and labels [B] to a loss, with a dropout mask, a roll, an EMA state and an i32 step counter. */
    static Graph block() {
        GraphBuilder g = new GraphBuilder("block");
        Dim b = Dim.sym("B");
        Node x = g.input("x", DType.F32, Shape.of(b, Dim.of(T), Dim.of(C)));
        Node labels = g.input("labels", DType.I32, Shape.of(b));
        Init w = new Init.TruncNormal(0, 0.2, -0.4, 0.4);
        Node h = g.layerNorm(x, g.param("ln1.weight", DType.F32, Shape.of(C), new Init.Ones()),
                g.param("ln1.bias", DType.F32, Shape.of(C), new Init.Zeros()), 1e-5);
        Node qkv = g.add(g.matmul(h, g.param("qkv.weight", DType.F32, Shape.of(C, 3 * C), w)),
                g.param("qkv.bias", DType.F32, Shape.of(3 * C), new Init.Uniform(-0.1, 0.1)));
        Node heads = g.permute(g.reshape(qkv, Shape.of(b, Dim.of(T), Dim.of(3), Dim.of(H), Dim.of(D))), 2, 0, 3, 1, 4);
        Node q = g.reshape(g.slice(heads, 0, 0, 1, 1), Shape.of(b, Dim.of(H), Dim.of(T), Dim.of(D)));
        Node k = g.reshape(g.slice(heads, 0, 1, 2, 1), Shape.of(b, Dim.of(H), Dim.of(T), Dim.of(D)));
        Node v = g.reshape(g.slice(heads, 0, 2, 3, 1), Shape.of(b, Dim.of(H), Dim.of(T), Dim.of(D)));
        Node scores = g.mul(g.matmul(q, g.permute(k, 0, 1, 3, 2)), g.constant(1 / Math.sqrt(D), DType.F32));
        Node attn = g.softmax(scores, -1);
        Node keep = g.binary(Op.BinaryFn.GE, g.random(Shape.of(b, Dim.of(H), Dim.of(T), Dim.of(T)), 3), g.constant(0.1, DType.F32));
        attn = g.where(keep, g.div(attn, g.constant(0.9, DType.F32)), g.constant(0, DType.F32));
        Node o = g.reshape(g.permute(g.matmul(attn, v), 0, 2, 1, 3), Shape.of(b, Dim.of(T), Dim.of(C)));
        Node x1 = g.add(x, g.add(g.matmul(o, g.param("proj.weight", DType.F32, Shape.of(C, C), w)),
                g.param("proj.bias", DType.F32, Shape.of(C), new Init.Zeros())));
        x1 = g.roll(x1, new int[] {1}, new int[] {1});
        Node h2 = g.layerNorm(x1, g.param("ln2.weight", DType.F32, Shape.of(C), new Init.Uniform(0.5, 1.5)),
                g.param("ln2.bias", DType.F32, Shape.of(C), new Init.Uniform(-0.1, 0.1)), 1e-5);
        Node m = g.unary(Op.UnaryFn.GELU, g.add(g.matmul(h2, g.param("fc1.weight", DType.F32, Shape.of(C, HIDDEN), w)),
                g.param("fc1.bias", DType.F32, Shape.of(HIDDEN), new Init.Zeros())));
        Node x2 = g.add(x1, g.matmul(m, g.param("fc2.weight", DType.F32, Shape.of(HIDDEN, C), w)));
        Node pooled = g.reduce(Op.ReduceFn.MEAN, x2, new int[] {1}, false);
        Node feats = g.l2Normalize(g.unary(Op.UnaryFn.TANH, pooled), -1, 1e-12);
        Node logits = g.mul(g.matmul(feats, g.param("head.weight", DType.F32, Shape.of(C, CLASSES), w)), g.constant(4, DType.F32));
        Node loss = g.reduce(Op.ReduceFn.MEAN, g.crossEntropy(logits, labels), new int[] {0}, false);
        g.output("loss", loss).output("logits", logits);
        Node ema = g.state("ema.pooled", DType.F32, Shape.of(C), new Init.Zeros());
        Node batchMean = g.stopGradient(g.reduce(Op.ReduceFn.MEAN, pooled, new int[] {0}, false));
        g.update("ema.pooled", g.add(g.mul(ema, g.constant(0.9, DType.F32)), g.mul(batchMean, g.constant(0.1, DType.F32))));
        Node steps = g.state("steps", DType.I32, Shape.SCALAR, new Init.Zeros());
        g.update("steps", g.add(steps, g.constant(1, DType.I32)));
        return Verifier.verify(g.build());
    }

    static Graph training() { return Verifier.verify(Autodiff.differentiate(block(), "loss")); }

    private static Map<String, Tensor> inputs(int batch, long seed) {
        return Map.of("x", Diff.randn(seed, batch, T, C), "labels", Diff.randint(seed, CLASSES, batch));
    }

    private static void assertAllClose(String what, Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), what + ": output names");
        expected.forEach((name, e) -> {
            Tensor a = actual.get(name);
            double scale = 0;
            if (e.dtype() == DType.F32) for (float f : e.toFloatArray()) scale = Math.max(scale, Math.abs(f));
            boolean gradient = name.startsWith(Autodiff.GRAD);
            // values: a few float roundings through the block; gradients: through twice as many ops
            double rtol = gradient ? 2e-4 : 2e-5, atol = (gradient ? 2e-5 : 2e-6) * Math.max(scale, 1e-3);
            Diff.assertClose(what + " " + name, e, a, rtol, atol);
        });
    }

    @Test
    void forwardAndGradientsMatchInterpOverSeveralSteps() {
        Graph g = training();
        Program p = Lower.lower(g);
        Executable interp = Backends.select("interp").compile(p);
        CpuExecutable cpu = (CpuExecutable) new CpuBackend(Gemms.best()).compile(p);
        ParameterStore si = ParameterStore.initialise(g, 7), sc = ParameterStore.initialise(g, 7);
        assertTrue(Autodiff.gradientOutputs(g).size() >= 10, "the block has gradients for its parameters");
        long afterFirst = -1;
        int step = 0;
        for (int batch : new int[] {3, 3, 3, 1, 3}) {
            RunContext ctx = new RunContext(11, step++);
            Map<String, Tensor> in = inputs(batch, step);
            Map<String, Tensor> expected = interp.run(in, si, ctx), actual = cpu.run(in, sc, ctx);
            assertAllClose("step " + step, expected, actual);
            assertAllClose("states after step " + step, si.states(), sc.states());
            if (afterFirst < 0) afterFirst = cpu.temporariesAllocated();
            else if (batch == 3 && step == 3) assertEquals(afterFirst, cpu.temporariesAllocated(), "repeated shapes allocate no temporaries");
        }
        assertEquals(5, sc.states().get("steps").getInt(0));
        assertEquals(0, cpu.fallbackCount(), "every kernel has a cpu form");
    }

    @Test
    void twoRunsOfTheSameStepGiveTheSameBits() {
        Graph g = training();
        Executable cpu = new CpuBackend(Gemms.best()).compile(Lower.lower(g));
        ParameterStore s = ParameterStore.initialise(g, 3);
        RunContext ctx = new RunContext(5, 0);
        Map<String, Tensor> first = cpu.run(inputs(2, 1), s, ctx), second = cpu.run(inputs(2, 1), s, ctx);
        first.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), second.get(name).toFloatArray(), name));
    }

    /**
     * A run goes to a pool worker, except when an input lives in an arena confined to the calling thread (a worker
     * could not read it): then it runs where it was called, with the same bits.
     */
    @Test
    void confinedInputsRunOnTheCallingThreadWithTheSameBits() {
        Graph g = training();
        Executable cpu = new CpuBackend(Gemms.best()).compile(Lower.lower(g));
        RunContext ctx = new RunContext(5, 0);
        Map<String, Tensor> shared = inputs(2, 1);
        Map<String, Tensor> pooled = cpu.run(shared, ParameterStore.initialise(g, 3), ctx);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Map<String, Tensor> confined = new HashMap<>();
            shared.forEach((name, t) -> {
                java.lang.foreign.MemorySegment s = arena.allocate(t.segment().byteSize(), 64);
                s.copyFrom(t.segment());
                confined.put(name, Tensor.over(s, t.dtype(), t.shape()));
            });
            Map<String, Tensor> here = cpu.run(confined, ParameterStore.initialise(g, 3), ctx);
            pooled.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), here.get(name).toFloatArray(), name));
        }
    }

    /**
     * Outputs handed back are written into by the next run (same objects, same bits as fresh ones); a tensor it never
     * returned is not reused; a run with another batch size after a hand-back still gives interp-equal values.
     */
    @Test
    void recycledOutputsAreReusedAndGiveTheSameBits() {
        Graph g = training();
        Executable cpu = new CpuBackend(Gemms.best()).compile(Lower.lower(g)), fresh = new CpuBackend(Gemms.best()).compile(Lower.lower(g));
        ParameterStore s1 = ParameterStore.initialise(g, 3), s2 = ParameterStore.initialise(g, 3);
        Map<String, Tensor> first = cpu.run(inputs(2, 1), s1, new RunContext(5, 0));
        fresh.run(inputs(2, 1), s2, new RunContext(5, 0));
        Map<String, Tensor> handed = new HashMap<>(first);
        String some = first.keySet().iterator().next();
        handed.put(some, first.get(some).copy()); // not the executable's: ignored
        cpu.recycle(handed);
        Map<String, Tensor> second = cpu.run(inputs(2, 2), s1, new RunContext(5, 1)), want = fresh.run(inputs(2, 2), s2, new RunContext(5, 1));
        int reused = 0;
        for (var e : second.entrySet()) {
            assertArrayEquals(want.get(e.getKey()).toFloatArray(), e.getValue().toFloatArray(), e.getKey());
            if (e.getValue() == first.get(e.getKey())) reused++;
        }
        assertTrue(second.get(some) != first.get(some), "a tensor it did not return is not reused");
        assertTrue(reused >= first.size() - 1, reused + " of " + first.size() + " outputs reused");
        cpu.recycle(second);
        Map<String, Tensor> third = cpu.run(inputs(3, 3), s1, new RunContext(5, 2)); // another batch: other shapes
        Map<String, Tensor> want3 = fresh.run(inputs(3, 3), s2, new RunContext(5, 2));
        third.forEach((name, t) -> assertArrayEquals(want3.get(name).toFloatArray(), t.toFloatArray(), name));
    }

    @Test
    void scalarGemmGivesTheSameProgramResults() {
        Graph g = training();
        Program p = Lower.lower(g);
        ParameterStore a = ParameterStore.initialise(g, 3), b = ParameterStore.initialise(g, 3);
        RunContext ctx = new RunContext(5, 0);
        assertAllClose("scalar gemm", new CpuBackend(Gemms.best()).compile(p).run(inputs(2, 4), a, ctx),
                new CpuBackend(Gemms.scalar()).compile(p).run(inputs(2, 4), b, ctx));
    }

    @Test
    void outputsAreFreshTensorsEvenWhenTheyAreInputsOrStates() {
        GraphBuilder g = new GraphBuilder("pass");
        Node x = g.input("x", DType.F32, Shape.of(2));
        Node s = g.state("s", DType.F32, Shape.of(2), new Init.Ones());
        Node doubled = g.add(x, x);
        g.output("x", x).output("old", s).output("doubled", doubled).output("again", doubled);
        g.update("s", x);
        Executable exe = new CpuBackend(Gemms.best()).compile(Lower.lower(g.build()));
        ParameterStore store = ParameterStore.initialise(g.build(), 0);
        Tensor in = Tensor.of(new float[] {5, 6}, 2);
        Map<String, Tensor> out = exe.run(Map.of("x", in), store, new RunContext(0, 0));
        assertNotSame(in, out.get("x"));
        assertNotSame(out.get("doubled"), out.get("again"));
        assertArrayEquals(new float[] {1, 1}, out.get("old").toFloatArray(), "outputs are taken before updates");
        assertArrayEquals(new float[] {10, 12}, out.get("again").toFloatArray());
        assertArrayEquals(new float[] {5, 6}, store.states().get("s").toFloatArray());
        Map<String, Tensor> next = exe.run(Map.of("x", Tensor.of(new float[] {1, 2}, 2)), store, new RunContext(0, 1));
        assertArrayEquals(new float[] {10, 12}, out.get("doubled").toFloatArray(), "handed-out outputs are never reused");
        assertArrayEquals(new float[] {2, 4}, next.get("doubled").toFloatArray());
    }

    @Test
    void statesSwappingValuesAndUpdatesFromTemporariesBehaveAsInterp() {
        GraphBuilder g = new GraphBuilder("swap");
        Node a = g.state("a", DType.F32, Shape.of(3), new Init.Ones());
        Node b = g.state("b", DType.F32, Shape.of(3), new Init.Zeros());
        Node x = g.input("x", DType.F32, Shape.of(3));
        g.update("a", b).update("b", a);
        Node c = g.state("c", DType.F32, Shape.of(3), new Init.Zeros());
        g.update("c", g.add(c, x));
        g.output("y", g.mul(x, x));
        Graph graph = g.build();
        Executable cpu = new CpuBackend(Gemms.best()).compile(Lower.lower(graph)), interp = Backends.select("interp").compile(Lower.lower(graph));
        ParameterStore sc = ParameterStore.initialise(graph, 0), si = ParameterStore.initialise(graph, 0);
        for (int step = 0; step < 3; step++) {
            Map<String, Tensor> in = Map.of("x", Tensor.of(new float[] {1, 2, 3 + step}, 3));
            assertAllClose("swap " + step, interp.run(in, si, new RunContext(0, step)), cpu.run(in, sc, new RunContext(0, step)));
            assertAllClose("swap states " + step, si.states(), sc.states());
        }
        assertArrayEquals(new float[] {1, 1, 1}, sc.states().get("b").toFloatArray());
        assertArrayEquals(new float[] {3, 6, 12}, sc.states().get("c").toFloatArray());
    }

    @Test
    void refusesWhatInterpRefusesWithTheSameMessages() {
        Graph g = block();
        Program p = Lower.lower(g);
        Executable cpu = new CpuBackend(Gemms.best()).compile(p), interp = Backends.select("interp").compile(p);
        ParameterStore store = ParameterStore.initialise(g, 1);
        RunContext ctx = new RunContext(0, 0);
        List<Map<String, Tensor>> bad = List.of(
                Map.of("x", Tensor.zeros(DType.F32, 2, T, C + 1), "labels", Tensor.zeros(DType.I32, 2)),
                Map.of("x", Tensor.zeros(DType.F32, 2, T, C), "labels", Tensor.zeros(DType.I32, 3)),
                Map.of("x", Tensor.zeros(DType.F32, 2, T, C)),
                Map.of("x", Tensor.zeros(DType.F32, 2, T, C), "labels", Tensor.ofInts(new int[] {0, CLASSES}, 2)));
        for (Map<String, Tensor> in : bad) {
            var expected = assertThrows(IllegalArgumentException.class, () -> interp.run(in, store, ctx));
            var actual = assertThrows(IllegalArgumentException.class, () -> cpu.run(in, store, ctx));
            assertEquals(expected.getMessage(), actual.getMessage());
        }
        assertEquals(0, store.states().get("steps").getInt(0), "failed runs change no state");
        GraphBuilder half = new GraphBuilder("half");
        half.output("h", half.input("h", DType.BF16, Shape.of(2)));
        var e = assertThrows(IllegalArgumentException.class, () -> new CpuBackend(Gemms.best()).compile(Lower.lower(half.build())));
        assertEquals("cpu runs f32 and i32 tensors; buffer 0 (h) is bf16", e.getMessage());
    }

    @Test
    void convolutionalProgramWithBatchNormMatchesInterp() {
        GraphBuilder g = new GraphBuilder("conv");
        Dim b = Dim.sym("B");
        Node x = g.input("x", DType.F32, Shape.of(b, Dim.of(3), Dim.of(16), Dim.of(16)));
        Node y = g.conv2d(x, g.param("conv.weight", DType.F32, Shape.of(8, 3, 4, 4), new Init.Normal(0, 0.2)), 4, 4, 0, 0);
        Node mean = g.reduce(Op.ReduceFn.MEAN, y, new int[] {0, 2, 3}, false);
        Node centred = g.sub(y, g.reshape(mean, Shape.of(1, 8, 1, 1)));
        Node var = g.reduce(Op.ReduceFn.MEAN, g.mul(centred, centred), new int[] {0, 2, 3}, false);
        Node bn = g.batchNorm(y, mean, var, g.param("bn.weight", DType.F32, Shape.of(8), new Init.Ones()),
                g.param("bn.bias", DType.F32, Shape.of(8), new Init.Zeros()), 1, 1e-5);
        Node z = g.conv2d(g.unary(Op.UnaryFn.RELU, bn), g.param("conv2.weight", DType.F32, Shape.of(4, 8, 3, 3), new Init.Normal(0, 0.2)), 1, 1, 1, 1);
        Node padded = g.pad(z, new long[] {0, 0, 1, 1}, new long[] {0, 0, 0, 1}, 0);
        Node loss = g.reduce(Op.ReduceFn.MEAN, g.mul(padded, padded), new int[] {0, 1, 2, 3}, false);
        g.output("loss", loss).output("z", z);
        Graph graph = Verifier.verify(Autodiff.differentiate(Verifier.verify(g.build()), "loss", java.util.Set.of("x")));
        Program p = Lower.lower(graph);
        ParameterStore si = ParameterStore.initialise(graph, 2), sc = ParameterStore.initialise(graph, 2);
        Map<String, Tensor> in = new HashMap<>(Map.of("x", Diff.randn(4, 2, 3, 16, 16)));
        RunContext ctx = new RunContext(0, 0);
        assertAllClose("conv", Backends.select("interp").compile(p).run(in, si, ctx), new CpuBackend(Gemms.best()).compile(p).run(in, sc, ctx));
    }
}
