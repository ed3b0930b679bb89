package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** layer_norm's backward for weight and bias: one layer_norm_param_grad, no recomputed norm, no reductions. */
class LayerNormGradientTest {
    private static final int ROWS = 150, C = 37;

    /** loss = sum(layer_norm(x, w, b) * r): the output gradient is r. */
    private static Graph graph() {
        GraphBuilder b = new GraphBuilder("ln");
        Node x = b.input("x", DType.F32, Shape.of(3, ROWS / 3, C)), r = b.input("r", DType.F32, Shape.of(3, ROWS / 3, C));
        Node w = b.param("w", DType.F32, Shape.of(C), new Init.Normal(1, 0.3));
        Node bias = b.param("b", DType.F32, Shape.of(C), new Init.Normal(0, 0.3));
        b.output("loss", b.reduce(Op.ReduceFn.SUM, b.mul(b.layerNorm(x, w, bias, 1e-5), r), new int[] {0, 1, 2}, false));
        return Autodiff.differentiate(b.build(), "loss");
    }

    @Test
    void weightAndBiasGradientsComeFromOneOpAndEqualTheirSums() {
        Graph g = graph();
        assertEquals(1, g.nodes().stream().filter(n -> n.op() instanceof Op.LayerNorm).count(), "only the forward norm");
        assertEquals(1, g.nodes().stream().filter(n -> n.op() instanceof Op.LayerNormParamGrad).count());
        assertEquals(0, g.nodes().stream().filter(n -> n.op() instanceof Op.LayerNormGrad).count(), "x is an input: no d x");
        assertEquals(1, g.nodes().stream().filter(n -> n.op() instanceof Op.Reduce).count(), "no reduce but the loss's");

        Tensor x = Diff.randn(1, 1.0, 3, ROWS / 3, C), r = Diff.randn(2, 1.0, 3, ROWS / 3, C);
        for (long i = 0; i < x.numel(); i += 3) x.setFloat(i, x.getFloat(i) * 4 + 20); // a mean away from 0, uneven spread
        double[] gw = new double[C], gb = new double[C];
        for (int row = 0; row < ROWS; row++) {
            double mean = 0, var = 0;
            for (int j = 0; j < C; j++) mean += x.getFloat(row * C + j);
            mean /= C;
            for (int j = 0; j < C; j++) var += Math.pow(x.getFloat(row * C + j) - mean, 2);
            double rstd = 1 / Math.sqrt(var / C + 1e-5);
            for (int j = 0; j < C; j++) {
                gw[j] += r.getFloat(row * C + j) * (x.getFloat(row * C + j) - mean) * rstd;
                gb[j] += r.getFloat(row * C + j);
            }
        }
        for (String backend : new String[] {"interp", "cpu"}) {
            Map<String, Tensor> out = Backends.select(backend).compile(Lower.lower(g))
                    .run(Map.of("x", x, "r", r), ParameterStore.initialise(g, 4), new RunContext(0, 0));
            Tensor w = out.get(Autodiff.GRAD + "w"), b = out.get(Autodiff.GRAD + "b");
            for (int j = 0; j < C; j++) {
                assertEquals(gw[j], w.getFloat(j), 2e-5 * (1 + Math.abs(gw[j])), backend + " d w[" + j + "]");
                assertEquals(gb[j], b.getFloat(j), 2e-5 * (1 + Math.abs(gb[j])), backend + " d b[" + j + "]");
            }
        }
    }

    /**
     * The paired kernel (input gradient and parameter gradients in one pass) has the bits of the two kernels apart:
     * rows of whole vectors (48, folded 8 rows at a time) and not (37), one block of rows and several, with and
     * without the skip connection's addend.
     */
    @Test
    void bothGradientsInOnePassHaveTheBitsOfTheTwoApart() {
        for (int c : new int[] {48, 37})
            for (int rows : new int[] {150, 1003})
                for (boolean withAddend : new boolean[] {false, true}) {
                    Tensor x = Diff.randn(11, 1.0, rows, c), g = Diff.randn(12, 1.0, rows, c), w = Diff.randn(13, 1.0, c);
                    Tensor addend = withAddend ? Diff.randn(14, 1.0, rows, c) : null;
                    for (long i = 0; i < x.numel(); i += 5) x.setFloat(i, x.getFloat(i) * 3 + 7);
                    Tensor dx = Tensor.zeros(DType.F32, new long[] {rows, c}), dp = Tensor.zeros(DType.F32, new long[] {2, c});
                    Tensor dx2 = Tensor.zeros(DType.F32, new long[] {rows, c}), dp2 = Tensor.zeros(DType.F32, new long[] {2, c});
                    CpuNormalizations.layerNormGrad(1e-5, x, w, g, addend, dx);
                    CpuNormalizations.layerNormParamGrad(1e-5, x, g, dp);
                    CpuNormalizations.layerNormGrads(1e-5, x, w, g, addend, dx2, dp2);
                    String what = "c=" + c + " rows=" + rows + (withAddend ? " addend" : "");
                    Diff.assertClose("input gradient " + what, dx, dx2, 0, 0);
                    Diff.assertClose("parameter gradients " + what, dp, dp2, 0, 0);
                }
    }

    private static mobyc.compiler.lower.Program.Kernel kernel(Op op, int output, Integer... inputs) {
        return new mobyc.compiler.lower.Program.Kernel(op, java.util.List.of(inputs), output, output);
    }

    /** Pairs a gradient with a later parameter gradient of the same x, g and eps only. */
    @Test
    void layerNormGradientsPairWithALaterParameterGradientOfTheSameOperands() {
        Op grad = new Op.LayerNormGrad(1e-5), params = new Op.LayerNormParamGrad(1e-5), neg = new Op.Unary(Op.UnaryFn.NEG);
        boolean[] fast = new boolean[4];
        // buffers: 0 x, 1 w, 2 g, 3 addend; outputs from 10
        assertEquals(java.util.List.of(2, -1, 0), pairs(fast, kernel(grad, 10, 0, 1, 2), kernel(neg, 12, 10), kernel(params, 11, 0, 2)));
        assertEquals(java.util.List.of(-1, -1), pairs(fast, kernel(params, 11, 0, 2), kernel(grad, 10, 0, 1, 2, 3)), "the parameter gradient first");
        assertEquals(java.util.List.of(-1, -1), pairs(fast, kernel(grad, 10, 0, 1, 2), kernel(params, 11, 0, 3)), "another g");
        assertEquals(java.util.List.of(-1, -1), pairs(fast, kernel(grad, 10, 0, 1, 2), kernel(new Op.LayerNormParamGrad(1e-6), 11, 0, 2)), "another eps");
        assertEquals(java.util.List.of(-1, -1), pairs(new boolean[] {false, true}, kernel(grad, 10, 0, 1, 2), kernel(params, 11, 0, 2)),
                "a kernel on the scalar fallback");
    }

    private static java.util.List<Integer> pairs(boolean[] scalar, mobyc.compiler.lower.Program.Kernel... ks) {
        boolean[] sc = java.util.Arrays.copyOf(scalar, ks.length);
        return java.util.Arrays.stream(CpuKernels.layerNormPairs(java.util.List.of(ks), sc)).boxed().toList();
    }

    /**
     * A residual block's norm (y + layer_norm(y)): its gradient and parameter gradient are paired in the cpu program
     * (after the backend passes), and cpu equals interp with them paired.
     */
    @Test
    void aResidualNormsPairedGradientsEqualInterp() {
        GraphBuilder b = new GraphBuilder("res");
        Node x = b.input("x", DType.F32, Shape.of(4, 75, 48)), r = b.input("r", DType.F32, Shape.of(4, 75, 48));
        Node w = b.param("w", DType.F32, Shape.of(48), new Init.Normal(1, 0.3));
        Node bias = b.param("b", DType.F32, Shape.of(48), new Init.Normal(0, 0.3));
        Node y = b.mul(x, x);
        Node z = b.add(y, b.layerNorm(y, w, bias, 1e-5));
        b.output("loss", b.reduce(Op.ReduceFn.SUM, b.mul(z, r), new int[] {0, 1, 2}, false));
        Graph g = Autodiff.differentiate(b.build(), "loss", java.util.Set.of("x"));
        mobyc.compiler.lower.Program program = Lower.lower(mobyc.compiler.fuse.Pipeline.backend(g));
        int[] pair = CpuKernels.layerNormPairs(program.kernels(), new boolean[program.kernels().size()]);
        assertEquals(2, java.util.Arrays.stream(pair).filter(p -> p >= 0).count(), "one pair: " + program.kernels().stream().map(k -> k.op().name() + k.inputs() + "->" + k.output()).toList());
        Map<String, Tensor> in = Map.of("x", Diff.randn(5, 1.0, 4, 75, 48), "r", Diff.randn(6, 1.0, 4, 75, 48));
        Map<String, Tensor> want = Backends.select("interp").compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 4), new RunContext(0, 0));
        Map<String, Tensor> got = Backends.select("cpu").compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 4), new RunContext(0, 0));
        for (String name : want.keySet()) Diff.assertClose("cpu " + name, want.get(name), got.get(name), 2e-5, 1e-5);
    }
}
