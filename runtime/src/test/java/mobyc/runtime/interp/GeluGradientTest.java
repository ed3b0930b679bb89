package mobyc.runtime.interp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** GELU's gradient is one dgelu op, and dgelu's own gradient matches central differences of interp's dgelu in double. */
class GeluGradientTest {
    private static final float[] X = {-6f, -3f, -1.5f, -0.75f, -0.2f, 0f, 0.3f, 1f, 2.5f, 5f};

    private static Map<String, Tensor> gradient(Op.UnaryFn fn) {
        GraphBuilder b = new GraphBuilder("g");
        Node x = b.param("x", DType.F32, Shape.of(X.length), new mobyc.compiler.ir.Init.Zeros());
        b.output("out", b.reduce(Op.ReduceFn.SUM, b.unary(fn, x), new int[] {0}, false));
        Graph g = Autodiff.differentiate(b.build(), "out");
        ParameterStore store = ParameterStore.initialise(g, 0);
        store.get("x").copyFrom(Tensor.of(X, X.length));
        return Backends.select("interp").compile(Lower.lower(g)).run(Map.of(), store, new RunContext(0, 0));
    }

    @Test
    void geluGradientIsDgeluAndDgeluGradientMatchesCentralDifferences() {
        Map<String, Tensor> gelu = gradient(Op.UnaryFn.GELU), dgelu = gradient(Op.UnaryFn.DGELU);
        for (int i = 0; i < X.length; i++) {
            double x = X[i], h = 1e-4;
            assertEquals(Elementwise.dgelu(x), gelu.get(Autodiff.GRAD + "x").getFloat(i), 1e-7, "gelu' at " + x);
            double fd = (Elementwise.dgelu(x + h) - Elementwise.dgelu(x - h)) / (2 * h);
            double got = dgelu.get(Autodiff.GRAD + "x").getFloat(i);
            assertTrue(Math.abs(got - fd) <= 1e-6 + 1e-6 * Math.abs(fd), "gelu'' at " + x + ": " + got + " vs " + fd);
        }
    }
}
