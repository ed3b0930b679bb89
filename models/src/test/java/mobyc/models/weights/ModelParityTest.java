package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.Npy;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The imported torchvision weights in models/swin.moby and models/deit.moby, with the hyper-parameters of the
 * fixture models, give PyTorch's logits and features on the reference executor: the names, the shapes and the
 * numerics all line up.
 */
class ModelParityTest {
    static final double TOLERANCE = 1e-5;

    static final Map<String, String> SWIN = Map.of("img_size", "16", "patch", "4", "in_chans", "3", "classes", "5", "embed_dim", "16",
            "depths", "[2, 2]", "heads", "[1, 2]", "window", "2");
    static final Map<String, String> VIT = Map.of("img_size", "16", "patch", "8", "classes", "5", "embed_dim", "16", "depth", "2",
            "heads", "2", "mlp_ratio", "2.0");

    @ParameterizedTest
    @CsvSource({"swin.moby, SwinTransformer, swin_torchvision.pth, swin", "swin.moby, SwinTransformer, swin_moby.pth, swin",
            "swin.moby, SwinTransformer, swin_official.safetensors, swin",
            "deit.moby, VisionTransformer, vit_torchvision.pth, vit", "deit.moby, VisionTransformer, vit_timm.safetensors, vit"})
    void importedWeightsReproducePyTorch(String source, String module, String weights, String model) throws IOException {
        Map<String, String> sets = model.equals("swin") ? SWIN : VIT;
        for (String function : List.of("forward", "features")) {
            Frontend.Built b = build(Path.of(source), module, function, sets);
            ParameterStore store = ParameterStore.initialise(b.graph(), 0);
            store.load(asThisSwinMobyNamesThem(Checkpoint.load(Fixtures.file(weights), null).tensors(), store), weights);
            Tensor x = Npy.read(Fixtures.file("x.npy"));
            Tensor y = Backends.select("interp").compile(Lower.lower(b.graph())).run(Map.of(b.inputs().getFirst(), x), store, new RunContext(0, 0))
                    .get(b.outputs().getFirst());
            Tensor expected = Npy.read(Fixtures.file(model + (function.equals("forward") ? "_logits.npy" : "_features.npy")));
            assertArrayEquals(expected.shape(), y.shape());
            for (long i = 0; i < y.numel(); i++) {
                double e = expected.getFloat(i), a = y.getFloat(i);
                long at = i;
                assertTrue(Math.abs(e - a) <= TOLERANCE * (1 + Math.abs(e)), () -> weights + " " + function + "[" + at + "]: " + a + ", PyTorch " + e);
            }
        }
    }

    /**
     * The official names, or, while models/swin.moby still calls each stage's PatchMerging {@code merge} (its
     * SwinStage has a bool hyper-parameter named downsample), those names with {@code .downsample.} as
     * {@code .merge.}; {@link #swinMobyUsesTheOfficialNames} says whether that is still so.
     */
    static Map<String, Tensor> asThisSwinMobyNamesThem(Map<String, Tensor> weights, ParameterStore store) {
        if (!usesMerge(store)) return weights;
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.forEach((k, t) -> out.put(k.replaceFirst("^(layers\\.\\d+)\\.downsample\\.", "$1.merge."), t));
        return out;
    }

    static boolean usesMerge(ParameterStore store) {
        return store.params().keySet().stream().anyMatch(k -> k.matches("layers\\.\\d+\\.merge\\..+"));
    }

    /** Official Swin checkpoints load into models/swin.moby as they are (skipped, saying why, while it uses merge). */
    @Test
    void swinMobyUsesTheOfficialNames() {
        ParameterStore store = ParameterStore.initialise(build(Path.of("swin.moby"), "SwinTransformer", "forward", SWIN).graph(), 0);
        Assumptions.assumeFalse(usesMerge(store), "models/swin.moby names each stage's PatchMerging 'merge' (layers.0.merge.*), "
                + "where the official Swin release, MoBY and its own header say layers.0.downsample.*");
        assertEquals(List.copyOf(Fixtures.safetensors("swin_official.safetensors").keySet()), List.copyOf(store.params().keySet()));
    }

    static Frontend.Built build(Path file, String module, String function, Map<String, String> sets) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(file), d);
        Map<String, Value> values = new LinkedHashMap<>();
        sets.forEach((k, v) -> values.put(k, Frontend.parseValue(v, k, d)));
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request(module, function, values, false));
        assertTrue(!d.hasErrors(), d::format);
        assertNotNull(b);
        return b;
    }
}
