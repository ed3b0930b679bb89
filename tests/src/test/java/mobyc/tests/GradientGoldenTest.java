package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;
import mobyc.dsl.eval.Value;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.SafeTensors;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reverse-mode gradients against PyTorch's (max relative error 1e-3) and against central finite differences:
 * every differentiable op case of golden/ops (loss = sum(out * w)), the MLP and Swin blocks w.r.t. all their
 * parameters, and BatchNorm in training mode (through the batch statistics).
 */
class GradientGoldenTest {
    static final double TOLERANCE = 1e-3;
    /** Finite differences in f32 carry rounding noise of about 1e-4 of the loss per step; held to 1e-2. */
    static final double FD_TOLERANCE = 1e-2;

    @TestFactory
    List<DynamicTest> everyOpGradientMatchesPyTorch() {
        List<DynamicTest> tests = OpCase.all().stream().filter(c -> !c.grads().isEmpty())
                .map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c))).toList();
        assertTrue(tests.size() >= 55, "only " + tests.size() + " gradient cases");
        return tests;
    }

    private static void check(OpCase c) {
        Map<String, Tensor> inputs = new LinkedHashMap<>(c.inputs());
        inputs.put("w", c.lossWeight());
        Set<String> wrt = new LinkedHashSet<>(c.grads());
        Graph g = Verifier.verify(Autodiff.differentiate(Programs.buildSource(c.name() + ".moby", c.lossSource(), "main", false), "out", wrt));
        ParameterStore store = ParameterStore.initialise(g, 0);
        Map<String, Tensor> out = Programs.run(g, inputs, store);
        for (String x : wrt) {
            Tensor ad = out.get(Autodiff.GRAD + "input:" + x);
            Golden.assertClose(ad, c.expectedGrad(x), TOLERANCE, c.name() + " d/d" + x);
            finiteDifferences(c.name(), g, inputs, store, x, ad);
        }
    }

    /** Central differences on up to 24 elements of input {@code x}, against the reverse-mode gradient. */
    static void finiteDifferences(String name, Graph g, Map<String, Tensor> inputs, ParameterStore store, String x, Tensor ad) {
        Tensor t = inputs.get(x);
        double scale = 0;
        for (long i = 0; i < ad.numel(); i++) scale = Math.max(scale, Math.abs(ad.getFloat(i)));
        long n = t.numel(), step = Math.max(1, n / 24);
        for (long i = 0; i < n; i += step) {
            float v = t.getFloat(i);
            float h = Math.max(1e-3f, Math.abs(v) * 1e-3f);
            t.setFloat(i, v + h);
            double up = Programs.run(g, inputs, store).get("out").getFloat(0);
            t.setFloat(i, v - h);
            double down = Programs.run(g, inputs, store).get("out").getFloat(0);
            t.setFloat(i, v);
            double fd = (up - down) / (2.0 * h);
            double err = Math.abs(fd - ad.getFloat(i)) / Math.max(scale, 1e-3);
            assertTrue(err <= FD_TOLERANCE, name + " d/d" + x + "[" + i + "]: finite difference " + fd + " vs " + ad.getFloat(i));
        }
    }

    private static void checkParams(String what, Graph forward, Path golden, Map<String, Tensor> x) throws IOException {
        Graph g = Verifier.verify(Autodiff.differentiate(Programs.withWeightedSumLoss(forward), "loss"));
        ParameterStore store = ParameterStore.initialise(g, 0);
        store.load(SafeTensors.read(golden.resolve("weights.safetensors")), "weights.safetensors");
        Map<String, Tensor> in = new LinkedHashMap<>(x);
        in.put("w", Golden.npy(golden.resolve("w.npy")));
        Map<String, Tensor> out = Programs.run(g, in, store);
        Map<String, Tensor> expected = SafeTensors.read(golden.resolve("grads.safetensors"));
        assertTrue(expected.keySet().equals(Autodiff.gradientOutputs(g).keySet()), "gradient keys " + expected.keySet());
        for (var e : expected.entrySet())
            Golden.assertClose(out.get(Autodiff.GRAD + e.getKey()), e.getValue(), TOLERANCE, what + " grad " + e.getKey());
    }

    @Test
    void mlpParameterGradients() throws IOException {
        Path g = Golden.dir("mlp");
        checkParams("mlp", Programs.build(Golden.repo("examples/mlp.moby"), "TinyMlp", Map.of(), false), g, Map.of("x", Golden.npy(g.resolve("x.npy"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"shifted", "unshifted", "padded"})
    void swinBlockParameterGradients(String name) throws IOException {
        Path g = Golden.dir("swin_block/" + name);
        JsonNode cfg = new ObjectMapper().readTree(g.resolve("config.json").toFile());
        Map<String, Value> sets = Map.of("dim", new Value.IntV(32), "heads", new Value.IntV(2), "window", new Value.IntV(4),
                "shift", new Value.IntV(cfg.get("shift").asInt()),
                "resolution", new Value.ListV(List.of(new Value.IntV(cfg.get("resolution").get(0).asInt()), new Value.IntV(cfg.get("resolution").get(1).asInt()))));
        checkParams("swin block " + name, Programs.build(Golden.repo("models/swin.moby"), "SwinBlock", sets, false), g,
                Map.of("x", Golden.npy(g.resolve("x.npy"))));
    }

    @Test
    void batchNormTrainingGradients() throws IOException {
        Path d = Golden.dir("batchnorm_train");
        Graph fwd = Programs.buildSource("bn.moby", """
                import "nn.moby";
                module Net() {
                    let bn = BatchNorm(dim=4);
                    fn forward(x: [B, 4]) -> [B, 4] { return bn(x); }
                }
                """, "Net", true);
        Graph g = Verifier.verify(Autodiff.differentiate(Programs.withWeightedSumLoss(fwd), "loss", Set.of("x")));
        ParameterStore store = ParameterStore.initialise(g, 0);
        Map<String, Tensor> w = new LinkedHashMap<>();
        SafeTensors.read(d.resolve("weights.safetensors")).forEach((k, v) -> w.put("bn." + k, v));
        store.load(w, "weights.safetensors");
        Map<String, Tensor> out = Programs.run(g, Map.of("x", Golden.npy(d.resolve("x.npy")), "w", Golden.npy(d.resolve("w.npy"))), store);
        Golden.assertClose(out.get("grad:input:x"), Golden.npy(d.resolve("gx.npy")), TOLERANCE, "batch norm grad x");
        Golden.assertClose(out.get("grad:bn.weight"), Golden.npy(d.resolve("gweight.npy")), TOLERANCE, "batch norm grad weight");
        Golden.assertClose(out.get("grad:bn.bias"), Golden.npy(d.resolve("gbias.npy")), TOLERANCE, "batch norm grad bias");
        Golden.assertClose(store.states().get("bn.running_mean"), Golden.npy(d.resolve("mean_after.npy")), 1e-5, "running mean after the training step");
    }
}
