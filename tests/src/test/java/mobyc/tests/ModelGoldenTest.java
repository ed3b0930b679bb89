package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The MLP and Swin block examples through `mobyc forward` against PyTorch, and BatchNorm in training mode. */
class ModelGoldenTest {
    static final double TOLERANCE = 1e-5;

    @TempDir Path tmp;

    @Test
    void mlpMatchesPyTorch() {
        Path g = Golden.dir("mlp");
        Path y = tmp.resolve("y.npy");
        Cli r = Cli.run("forward", Golden.repo("examples/mlp.moby").toString(), "--module", "TinyMlp",
                "--input", g.resolve("x.npy").toString(), "--weights", g.resolve("weights.safetensors").toString(), "--output", y.toString());
        assertEquals(0, r.status(), r::toString);
        Golden.assertClose(Golden.npy(y), Golden.npy(g.resolve("y.npy")), TOLERANCE, "mlp");
    }

    @ParameterizedTest
    @ValueSource(strings = {"shifted", "unshifted", "padded"})
    void swinBlockMatchesPyTorch(String name) throws IOException {
        Path g = Golden.dir("swin_block/" + name);
        JsonNode cfg = new ObjectMapper().readTree(g.resolve("config.json").toFile());
        Path y = tmp.resolve("y.npy");
        List<String> args = new ArrayList<>(List.of("forward", Golden.repo("models/swin.moby").toString(), "--module", "SwinBlock",
                "--input", g.resolve("x.npy").toString(), "--weights", g.resolve("weights.safetensors").toString(), "--output", y.toString()));
        for (String k : List.of("dim", "heads", "window", "shift")) args.addAll(List.of("--set", k + "=" + cfg.get(k).asInt()));
        args.addAll(List.of("--set", "resolution=" + cfg.get("resolution")));
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.status(), r::toString);
        Golden.assertClose(Golden.npy(y), Golden.npy(g.resolve("y.npy")), TOLERANCE, "swin block " + name);
    }

    @Test
    void batchNormTrainingMatchesPyTorch() throws IOException {
        Path g = Golden.dir("batchnorm_train");
        Diagnostics diags = new Diagnostics();
        Compilation c = Frontend.loadSource("bn.moby", """
                import "nn.moby";
                module Net() {
                    let bn = BatchNorm(dim=4);
                    fn forward(x: [B, 4]) -> [B, 4] { return bn(x); }
                }
                """, diags);
        Frontend.Built b = Frontend.build(c, new Frontend.Request("Net", "forward", Map.of(), true));
        assertTrue(!diags.hasErrors(), diags::format);
        ParameterStore store = ParameterStore.initialise(b.graph(), 0);
        Map<String, Tensor> weights = new java.util.LinkedHashMap<>();
        SafeTensors.read(g.resolve("weights.safetensors")).forEach((k, v) -> weights.put("bn." + k, v));
        store.load(weights, "weights.safetensors");
        Map<String, Tensor> out = Backends.select("interp").compile(Lower.lower(b.graph()))
                .run(Map.of("x", Golden.npy(g.resolve("x.npy"))), store, new RunContext(0, 0));
        Golden.assertClose(out.get("out"), Golden.npy(g.resolve("y.npy")), TOLERANCE, "batch norm output");
        Golden.assertClose(store.states().get("bn.running_mean"), Golden.npy(g.resolve("mean_after.npy")), TOLERANCE, "running mean");
        Golden.assertClose(store.states().get("bn.running_var"), Golden.npy(g.resolve("var_after.npy")), TOLERANCE, "running var");
    }
}
