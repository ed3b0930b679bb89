package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every op of interp against PyTorch: each case of golden/ops/manifest.json is a .moby expression over inputs
 * x0, x1, ...; it is compiled through the whole front end and run on interp, then compared to PyTorch's output.
 */
class OpGoldenTest {
    static final double TOLERANCE = 1e-5;

    @TestFactory
    List<DynamicTest> everyOpMatchesPyTorch() throws IOException {
        Path dir = Golden.dir("ops");
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : cases) tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> run(dir, c)));
        assertTrue(tests.size() >= 60, "manifest has only " + tests.size() + " cases");
        return tests;
    }

    private static void run(Path dir, JsonNode c) {
        String name = c.get("name").asText();
        List<String> params = new ArrayList<>();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (JsonNode in : c.get("inputs")) {
            String shape = StreamSupport.stream(in.get("shape").spliterator(), false).map(JsonNode::asText).collect(Collectors.joining(", "));
            params.add(in.get("name").asText() + ": " + in.get("dtype").asText() + "[" + shape + "]");
            inputs.put(in.get("name").asText(), Golden.npy(dir.resolve(name).resolve(in.get("name").asText() + ".npy")));
        }
        String source = "fn main(" + String.join(", ", params) + ") {\n    return " + c.get("expr").asText() + ";\n}\n";
        Diagnostics diags = new Diagnostics();
        Compilation comp = Frontend.loadSource(name + ".moby", source, diags);
        Frontend.Built b = diags.hasErrors() ? null : Frontend.build(comp, new Frontend.Request("main", "forward", Map.of(), false));
        assertTrue(!diags.hasErrors(), () -> source + diags.format());
        assertNotNull(b);
        var exe = Backends.select("interp").compile(Lower.lower(b.graph()));
        Tensor out = exe.run(inputs, ParameterStore.initialise(b.graph(), 0), new RunContext(0, 0)).get("out");
        Golden.assertClose(out, Golden.npy(dir.resolve(name).resolve("out.npy")), TOLERANCE, name + " (" + c.get("expr").asText() + ")");
    }
}
