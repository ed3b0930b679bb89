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
}
