package mobyc.runtime.interp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
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
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Philox;
import mobyc.runtime.RunContext;
import mobyc.runtime.SpecialFunctions;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * y = layer_norm(gelu(x @ W + b)) for a symbolic batch B, with a running mean of the GELU activations and a
 * step counter as states, lowered and run through the backend SPI; expected values computed here in double.
 */
class EndToEndTest {
    private static final int IN = 4, OUT = 3;
    private static final double EPS = 1e-5;

    private static Graph graph() {
        GraphBuilder g = new GraphBuilder("mlp");
        Dim b = Dim.sym("B");
        Node x = g.input("x", DType.F32, Shape.of(b, Dim.of(IN)));
        Node w = g.param("fc.weight", DType.F32, Shape.of(IN, OUT), new Init.TruncNormal(0, 0.5, -1, 1));
        Node bias = g.param("fc.bias", DType.F32, Shape.of(OUT), new Init.Constant(0.1));
        Node h = g.unary(Op.UnaryFn.GELU, g.add(g.matmul(x, w), bias));
        Node lnW = g.param("norm.weight", DType.F32, Shape.of(OUT), new Init.Ones());
        Node lnB = g.param("norm.bias", DType.F32, Shape.of(OUT), new Init.Zeros());
        g.output("y", g.layerNorm(h, lnW, lnB, EPS));
        g.output("noise", g.random(Shape.of(b, Dim.of(2)), 7));
        Node running = g.state("stats.mean", DType.F32, Shape.of(OUT), new Init.Zeros());
        Node batchMean = g.reduce(Op.ReduceFn.MEAN, h, new int[] {0}, false);
        g.update("stats.mean", g.add(g.mul(running, g.constant(0.9, DType.F32)), g.mul(batchMean, g.constant(0.1, DType.F32))));
        Node steps = g.state("steps", DType.I32, Shape.SCALAR, new Init.Zeros());
        g.update("steps", g.add(steps, g.constant(1, DType.I32)));
        return Verifier.verify(g.build());
    }

    private static float[] randomInput(int batch, long seed) {
        float[] v = new float[batch * IN];
        for (int i = 0; i < v.length; i++) v[i] = (float) (Philox.normal(seed, 0, 0, i));
        return v;
    }

    /** The GELU activations [batch, OUT] in double. */
    private static double[][] hidden(float[] x, int batch, ParameterStore s) {
        float[] w = s.params().get("fc.weight").toFloatArray(), b = s.params().get("fc.bias").toFloatArray();
        double[][] h = new double[batch][OUT];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < OUT; o++) {
                double z = b[o];
                for (int i = 0; i < IN; i++) z += (double) x[n * IN + i] * w[i * OUT + o];
                h[n][o] = 0.5 * z * (1 + SpecialFunctions.erf(z / Math.sqrt(2)));
            }
        return h;
    }

    @Test
    void runsWithAnyBatchSizeAndUpdatesStates() {
        Executable exe = Backends.select("interp").compile(Lower.lower(graph()));
        ParameterStore store = ParameterStore.initialise(graph(), 42);
        double[] running = new double[OUT];
        int step = 0;
        for (int batch : new int[] {2, 5, 1}) {
            float[] x = randomInput(batch, batch);
            RunContext ctx = new RunContext(9, step);
            Map<String, Tensor> out = exe.run(Map.of("x", Tensor.of(x, batch, IN)), store, ctx);
            assertEquals(List.of("y", "noise"), List.copyOf(out.keySet()));
            double[][] h = hidden(x, batch, store);
            Tensor y = out.get("y");
            assertArrayEquals(new long[] {batch, OUT}, y.shape());
            for (int n = 0; n < batch; n++) {
                double mean = 0, var = 0;
                for (double v : h[n]) mean += v / OUT;
                for (double v : h[n]) var += (v - mean) * (v - mean) / OUT;
                for (int o = 0; o < OUT; o++)
                    assertEquals((h[n][o] - mean) / Math.sqrt(var + EPS), y.getFloat(n * OUT + o), 2e-5, "y[" + n + ", " + o + "]");
            }
            Tensor noise = out.get("noise");
            assertArrayEquals(new long[] {batch, 2}, noise.shape());
            for (int i = 0; i < 2 * batch; i++) assertEquals(Philox.uniform(9, step, 7, i), noise.getFloat(i));
            for (int o = 0; o < OUT; o++) {
                double m = 0;
                for (int n = 0; n < batch; n++) m += h[n][o] / batch;
                running[o] = 0.9 * running[o] + 0.1 * m;
                assertEquals(running[o], store.states().get("stats.mean").getFloat(o), 1e-6, "running mean " + o);
            }
            step++;
            assertEquals(step, store.states().get("steps").getInt(0));
        }
    }

    @Test
    void refusesInputsThatDoNotFit() {
        Executable exe = Backends.select("interp").compile(Lower.lower(graph()));
        ParameterStore store = ParameterStore.initialise(graph(), 1);
        RunContext ctx = new RunContext(0, 0);
        var wrongShape = assertThrows(IllegalArgumentException.class,
                () -> exe.run(Map.of("x", Tensor.zeros(DType.F32, 4, 5)), store, ctx));
        assertEquals("input x: expected [B, 4], got [4, 5]", wrongShape.getMessage());
        var wrongRank = assertThrows(IllegalArgumentException.class, () -> exe.run(Map.of("x", Tensor.zeros(DType.F32, 4)), store, ctx));
        assertEquals("input x: expected [B, 4], got [4]", wrongRank.getMessage());
        var wrongType = assertThrows(IllegalArgumentException.class, () -> exe.run(Map.of("x", Tensor.zeros(DType.I32, 2, 4)), store, ctx));
        assertEquals("input x: expected f32, got i32", wrongType.getMessage());
        var missing = assertThrows(IllegalArgumentException.class, () -> exe.run(Map.of(), store, ctx));
        assertEquals("missing input x (the program takes x)", missing.getMessage());
        var extra = assertThrows(IllegalArgumentException.class,
                () -> exe.run(Map.of("x", Tensor.zeros(DType.F32, 2, 4), "z", Tensor.zeros(DType.F32, 1)), store, ctx));
        assertEquals("unexpected input z (the program takes x)", extra.getMessage());
        assertEquals(0, store.states().get("steps").getInt(0), "failed runs change no state");
    }

    @Test
    void symbolsBoundByOneInputMustAgreeWithTheOthers() {
        GraphBuilder g = new GraphBuilder("two");
        Dim n = Dim.sym("N");
        Node a = g.input("a", DType.F32, Shape.of(n, Dim.of(2)));
        Node b = g.input("b", DType.F32, Shape.of(n.times(Dim.of(2))));
        g.output("s", g.add(g.reshape(a, Shape.of(n.times(Dim.of(2)))), b));
        Executable exe = Backends.select("interp").compile(Lower.lower(g.build()));
        ParameterStore store = ParameterStore.initialise(g.build(), 0);
        RunContext ctx = new RunContext(0, 0);
        Tensor s = exe.run(Map.of("a", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2), "b", Tensor.of(new float[] {10, 20, 30, 40}, 4)), store, ctx).get("s");
        assertArrayEquals(new float[] {11, 22, 33, 44}, s.toFloatArray());
        var e = assertThrows(IllegalArgumentException.class,
                () -> exe.run(Map.of("a", Tensor.zeros(DType.F32, 2, 2), "b", Tensor.zeros(DType.F32, 6)), store, ctx));
        assertEquals("input b: expected [2*N], got [6]", e.getMessage());
    }

    @Test
    void outputsAreFreshTensorsEvenWhenTheyAreInputsOrStates() {
        GraphBuilder g = new GraphBuilder("pass");
        Node x = g.input("x", DType.F32, Shape.of(2));
        Node s = g.state("s", DType.F32, Shape.of(2), new Init.Ones());
        g.output("x", x).output("old", s);
        g.update("s", x);
        Executable exe = Backends.select("interp").compile(Lower.lower(g.build()));
        ParameterStore store = ParameterStore.initialise(g.build(), 0);
        Tensor in = Tensor.of(new float[] {5, 6}, 2);
        Map<String, Tensor> out = exe.run(Map.of("x", in), store, new RunContext(0, 0));
        assertNotSame(in, out.get("x"));
        assertArrayEquals(new float[] {1, 1}, out.get("old").toFloatArray(), "outputs are taken before updates");
        assertArrayEquals(new float[] {5, 6}, store.states().get("s").toFloatArray());
    }

    @Test
    void refusesAStoreOfAnotherModel() {
        Executable exe = Backends.select("interp").compile(Lower.lower(graph()));
        GraphBuilder other = new GraphBuilder("other");
        other.output("w", other.param("fc.weight", DType.F32, Shape.of(2, 2), new Init.Zeros()));
        ParameterStore wrong = ParameterStore.initialise(other.build(), 0);
        var e = assertThrows(IllegalArgumentException.class,
                () -> exe.run(Map.of("x", Tensor.zeros(DType.F32, 1, IN)), wrong, new RunContext(0, 0)));
        assertEquals("parameter 'fc.weight': the program expects f32[4, 3], the store holds f32[2, 2]", e.getMessage());
    }

    @Test
    void compileRefusesTypesItCannotRun() {
        GraphBuilder g = new GraphBuilder("half");
        g.output("h", g.input("h", DType.BF16, Shape.of(2)));
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.select("interp").compile(Lower.lower(g.build())));
        assertEquals("interp runs f32 and i32 tensors; buffer 0 (h) is bf16", e.getMessage());
    }
}
