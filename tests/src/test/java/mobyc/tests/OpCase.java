package mobyc.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import mobyc.runtime.Tensor;

/**
 * One case of golden/ops/manifest.json: a .moby expression over inputs x0, x1, ..., its inputs and PyTorch's output,
 * and (for differentiable cases) the inputs PyTorch gave gradients for.
 */
record OpCase(String name, String expr, List<String> params, Map<String, Tensor> inputs, String outputShape, List<String> grads, Path dir) {

    static List<OpCase> all() {
        Path dir = Golden.dir("ops");
        try {
            List<OpCase> out = new ArrayList<>();
            for (JsonNode c : new ObjectMapper().readTree(dir.resolve("manifest.json").toFile())) out.add(of(dir, c));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static OpCase of(Path root, JsonNode c) {
        String name = c.get("name").asText();
        Path dir = root.resolve(name);
        List<String> params = new ArrayList<>();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (JsonNode in : c.get("inputs")) {
            String x = in.get("name").asText();
            params.add(x + ": " + in.get("dtype").asText() + "[" + shape(in.get("shape")) + "]");
            inputs.put(x, Golden.npy(dir.resolve(x + ".npy")));
        }
        List<String> grads = new ArrayList<>();
        if (c.has("grads")) for (JsonNode g : c.get("grads")) grads.add(g.asText());
        return new OpCase(name, c.get("expr").asText(), params, inputs, shape(c.get("output").get("shape")), grads, dir);
    }

    private static String shape(JsonNode s) {
        return StreamSupport.stream(s.spliterator(), false).map(JsonNode::asText).collect(Collectors.joining(", "));
    }

    /** {@code fn main(x0: ..., ...) { return EXPR; }} */
    String source() { return "fn main(" + String.join(", ", params) + ") {\n    return " + expr + ";\n}\n"; }

    /** {@code fn main(x0: ..., w: f32[out]) { return sum((EXPR) * w); }}, the loss whose gradients PyTorch gave. */
    String lossSource() {
        List<String> ps = new ArrayList<>(params);
        ps.add("w: f32[" + outputShape + "]");
        return "fn main(" + String.join(", ", ps) + ") {\n    return sum((" + expr + ") * w);\n}\n";
    }

    Tensor expected() { return Golden.npy(dir.resolve("out.npy")); }
    Tensor lossWeight() { return Golden.npy(dir.resolve("w.npy")); }
    Tensor expectedGrad(String input) { return Golden.npy(dir.resolve("g" + input.substring(1) + ".npy")); }

    @Override public String toString() { return name + " (" + expr + ")"; }
}
