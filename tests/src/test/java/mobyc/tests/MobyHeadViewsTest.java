package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * MoBYMLP.forward_views (both views' rows through each Linear at once, the BatchNorm per view) computes what the
 * reference's one call per view does: outputs, every gradient, and the BatchNorm's running statistics after the step.
 */
class MobyHeadViewsTest {
    private static final String SOURCE = """
            import "moby.moby";
            module Each(n: int = 4) {
                let mlp = MoBYMLP(in_dim=8, inner_dim=16, out_dim=4);
                fn forward(x: [8, 8]) {
                    return concat([mlp(x[:n]), mlp(x[n:])], axis=0);
                }
            }
            module Both(n: int = 4) {
                let mlp = MoBYMLP(in_dim=8, inner_dim=16, out_dim=4);
                fn forward(x: [8, 8]) {
                    return mlp.forward_views(x, n);
                }
            }
            """;

    @Test
    void bothViewsAtOnceEqualOneCallPerView() {
        Graph each = graph("Each"), both = graph("Both");
        ParameterStore eachStore = ParameterStore.initialise(each, 3), bothStore = ParameterStore.initialise(both, 3);
        Random r = new Random(7);
        Map<String, Tensor> in = Map.of("x", random(r, 8, 8), "w", random(r, 8, 4));
        Map<String, Tensor> a = Programs.run(each, in, eachStore), b = Programs.run(both, in, bothStore);
        Golden.assertClose(b.get("out"), a.get("out"), 1e-6, "out");
        Map<String, ?> grads = Autodiff.gradientOutputs(each);
        assertEquals(grads.keySet(), Autodiff.gradientOutputs(both).keySet());
        assertTrue(grads.size() >= 6, "gradients of both Linears and the BatchNorm: " + grads.keySet());
        for (String g : grads.keySet()) Golden.assertClose(b.get(Autodiff.GRAD + g), a.get(Autodiff.GRAD + g), 1e-5, "gradient of " + g);
        assertEquals(eachStore.states().keySet(), bothStore.states().keySet());
        for (String s : eachStore.states().keySet()) {
            assertTrue(Golden.maxAbs(eachStore.get(s)) > 0, s + " was updated");
            Golden.assertClose(bothStore.get(s), eachStore.get(s), 1e-6, s);
        }
    }

    private static Graph graph(String module) {
        return Verifier.verify(Autodiff.differentiate(Programs.withWeightedSumLoss(
                Programs.buildSource("views.moby", SOURCE, module, true)), "loss"));
    }

    private static Tensor random(Random r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, rows, cols);
    }
}
