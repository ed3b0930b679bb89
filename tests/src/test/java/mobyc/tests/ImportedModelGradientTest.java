package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;
import mobyc.dsl.eval.Value;
import mobyc.models.weights.Checkpoint;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.SafeTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * torchvision's Swin and ViT (small configs, random weights saved with torch.save) imported into models/swin.moby and
 * models/deit.moby: gradients of loss = sum(logits * w) w.r.t. every parameter match PyTorch's within 1e-3
 * (fixtures from tests/golden/make_weight_fixtures.py; logits and features are checked in models' ModelParityTest).
 */
class ImportedModelGradientTest {
    static final Path WEIGHTS = Golden.repo("models/src/test/resources/weights");

    static Map<String, Value> ints(Object... kv) {
        Map<String, Value> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put((String) kv[i], v instanceof Integer n ? new Value.IntV(n) : v instanceof Double d ? new Value.FloatV(d)
                    : new Value.ListV(((List<?>) v).stream().map(x -> (Value) new Value.IntV((Integer) x)).toList()));
        }
        return m;
    }

    @ParameterizedTest
    @CsvSource({"swin, models/swin.moby, SwinTransformer", "vit, models/deit.moby, VisionTransformer"})
    void gradientsMatchPyTorch(String name, String file, String module) throws IOException {
        Map<String, Value> sets = name.equals("swin")
                ? ints("img_size", 16, "patch", 4, "in_chans", 3, "classes", 5, "embed_dim", 16, "depths", List.of(2, 2),
                        "heads", List.of(1, 2), "window", 2, "drop_path_rate", 0.0)
                : ints("img_size", 16, "patch", 8, "classes", 5, "embed_dim", 16, "depth", 2, "heads", 2, "mlp_ratio", 2.0,
                        "drop_path_rate", 0.0);
        Graph g = Verifier.verify(Autodiff.differentiate(Programs.withWeightedSumLoss(
                Programs.build(Golden.repo(file), module, sets, false)), "loss"));
        ParameterStore store = ParameterStore.initialise(g, 0);
        Path pth = WEIGHTS.resolve(name + "_torchvision.pth");
        store.load(Checkpoint.load(pth, null).tensors(), pth.toString());
        Map<String, Tensor> out = Programs.run(g, Map.of("x", Golden.npy(WEIGHTS.resolve("x.npy")), "w", Golden.npy(WEIGHTS.resolve(name + "_w.npy"))), store);
        Map<String, Tensor> expected = SafeTensors.read(WEIGHTS.resolve(name + "_grads.safetensors"));
        assertEquals(expected.keySet(), Autodiff.gradientOutputs(g).keySet());
        for (var e : expected.entrySet())
            Golden.assertClose(out.get(Autodiff.GRAD + e.getKey()), e.getValue(), 1e-3, name + " grad " + e.getKey());
    }
}
