package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.SafeTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The MoBY objective of moby/moby.moby against a PyTorch reference written from MOBY.md
 * (tests/golden/make_moby_goldens.py): two steps on fixed weights and views give the reference's loss (1e-5),
 * gradients w.r.t. every online parameter (1e-3; those that are zero in exact arithmetic to 32 ulps of the
 * largest gradient), EMA-updated target, BatchNorm statistics and queues (1e-5).
 */
class MobyGoldenTest {
    static final Path DIR = Golden.repo("tests/src/test/resources/golden/moby");

    @ParameterizedTest
    @ValueSource(strings = {"interp", "cpu"})
    void oneStepMatchesTheReference(String backend) throws IOException {
        Graph model = Programs.build(Path.of("src/test/resources/moby_small.moby"), "SmallMoBY", Map.of(), true);
        Graph g = Verifier.verify(Autodiff.differentiate(model, "out"));
        ParameterStore store = ParameterStore.initialise(g, 0);
        store.load(SafeTensors.read(DIR.resolve("init.safetensors")), "init.safetensors");
        JsonNode s = new ObjectMapper().readTree(DIR.resolve("scalars.json").toFile());
        Executable exe = Backends.select(backend).compile(Lower.lower(g));

        Map<String, Tensor> out0 = exe.run(inputs(0, s.get("m0").asDouble()), store, new RunContext(0, 0));
        assertClose(out0.get("out").getFloat(0), s.get("loss0").asDouble(), 1e-5, "loss of step 0");
        Map<String, Tensor> grads = SafeTensors.read(DIR.resolve("grads0.safetensors"));
        assertEquals(new TreeSet<>(grads.keySet()), new TreeSet<>(Autodiff.gradientOutputs(g).values()));
        double largest = grads.values().stream().mapToDouble(Golden::maxAbs).max().orElseThrow();
        double floor = 1e-4 * largest, worst = 0;
        TreeSet<String> zero = new TreeSet<>();
        for (var e : grads.entrySet()) {
            if (Golden.maxAbs(e.getValue()) <= 1e-9 * largest) {
                // Zero in exact arithmetic (the reference runs in float64): the bias of every linear layer that
                // feeds a BatchNorm, and the final norm's bias, whose shifts a BatchNorm downstream removes. In float32
                // each is a sum of products that cancel (the final norm's: 8 samples x 4 tokens of 32-term dot
                // products, ~1024 products no larger than the largest gradient), so it is rounding noise, about
                // sqrt(1024) = 32 ulps of that scale when roundings are independent. A wrong gradient would be of the
                // order of the others, ~1e5 times more.
                zero.add(e.getKey());
                double noise = Golden.maxAbs(out0.get(e.getKey())) / (Math.ulp(1f) * largest);
                System.out.printf("MoBY %s: %s is %.2f ulps of the largest gradient (exactly 0 in float64)%n", backend, e.getKey(), noise);
                assertTrue(noise <= 32, backend + " " + e.getKey() + " should be zero: " + noise + " ulps of the largest gradient");
                continue;
            }
            double err = Golden.maxDiff(out0.get(e.getKey()), e.getValue()) / Math.max(Golden.maxAbs(e.getValue()), floor);
            assertTrue(err <= 1e-3, backend + " " + e.getKey() + ": relative error " + err);
            worst = Math.max(worst, err);
        }
        assertEquals(java.util.Set.of("grad:encoder.norm.bias", "grad:projector.linear_hidden.1.bias",
                "grad:projector.linear_out.bias", "grad:predictor.linear_hidden.1.bias"), zero, "the gradients that are zero in exact arithmetic");
        System.out.printf("MoBY %s: loss0 relative error %.3g, worst gradient relative error %.3g over %d parameters%n", backend,
                Math.abs(out0.get("out").getFloat(0) / s.get("loss0").asDouble() - 1), worst, grads.size());

        Map<String, Tensor> out1 = exe.run(inputs(1, s.get("m1").asDouble()), store, new RunContext(0, 1));
        assertClose(out1.get("out").getFloat(0), s.get("loss1").asDouble(), 1e-5, "loss of step 1");
        Map<String, Tensor> after = SafeTensors.read(DIR.resolve("after.safetensors"));
        assertTrue(after.keySet().containsAll(java.util.List.of("queue1", "queue2", "encoder_k.patch_embed.proj.weight", "projector_k.linear_out.bias")));
        for (var e : after.entrySet()) Golden.assertClose(store.get(e.getKey()), e.getValue(), 1e-5, backend + " after two steps: " + e.getKey());
    }

    private static Map<String, Tensor> inputs(int step, double m) {
        return Map.of("x1", Golden.npy(DIR.resolve("x1_" + step + ".npy")), "x2", Golden.npy(DIR.resolve("x2_" + step + ".npy")),
                "momentum", Tensor.of(new float[] {(float) m}));
    }


    private static void assertClose(double actual, double expected, double tol, String what) {
        double rel = Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(rel <= tol, what + ": " + actual + " vs " + expected + " (relative error " + rel + ")");
    }
}
