package mobyc.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mobyc.cli.Main;
import mobyc.dsl.eval.Value;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mobyc eval classify} and {@code mobyc eval knn} in-process, on the first images of Fashion-MNIST. */
class EvalCliTest {
    @TempDir Path tmp;

    static final String MODELS = """
            import "nn.moby";

            // a random projection of the pixels: features of 16 values
            module Proj(dim: int = 16) {
                param w: [784, dim] = normal(std=0.05);
                fn features(x: [B, 1, 28, 28]) -> [B, dim] {
                    return reshape(x, [B, 784]) @ w;
                }
                fn same(x: [B, 1, 28, 28]) -> [B, 1, 28, 28] {
                    return x;
                }
                fn forward(x: [B, 1, 28, 28]) -> [B, dim] {
                    return features(x);
                }
            }

            // Proj inside a larger model, as a MoBY encoder is
            module Pair(dim: int = 16) {
                let encoder = Proj(dim=dim);
                let projector = Linear(in_features=dim, out_features=4);
                fn forward(x: [B, 1, 28, 28]) -> [B, 4] {
                    return projector(encoder(x));
                }
            }

            module Lin(classes: int = 10) {
                let fc = Linear(in_features=784, out_features=classes, std=0.05);
                fn forward(x: [B, 1, 28, 28]) -> [B, classes] {
                    return fc(reshape(x, [B, 784]));
                }
            }
            """;

    static final Pattern RESULT = Pattern.compile(
            "k-NN \\(k=(\\d+), T=([0-9.]+)\\): top-1 (\\d+\\.\\d\\d)%, top-5 (\\d+\\.\\d\\d)% on (\\d+) test images \\((\\d+) train\\)\n");

    record Cli(int status, String out, String err) {
        @Override public String toString() { return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err; }

        double top1() {
            Matcher m = RESULT.matcher(out);
            assertTrue(m.find(), this::toString);
            return Double.parseDouble(m.group(3));
        }
    }

    static Cli run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(status, out.toString(), err.toString());
    }

    private Path models() throws IOException {
        Path f = tmp.resolve("models.moby");
        if (!Files.exists(f)) Files.writeString(f, MODELS);
        return f;
    }

    /** The initial parameters of {@code module} (seed {@code seed}) written as safetensors. */
    private Path weights(String module, long seed, Map<String, Value> sets, String name) throws IOException {
        ParameterStore s = ParameterStore.initialise(TinyModels.buildFrom(MODELS, module, sets), seed);
        Map<String, Tensor> all = new LinkedHashMap<>(s.params());
        all.putAll(s.states());
        Path p = tmp.resolve(name);
        SafeTensors.write(p, all);
        return p;
    }

    @Test
    void knnOfARandomModelSaysSo() throws IOException {
        Path json = tmp.resolve("knn.json");
        Cli r = run("eval", "knn", models().toString(), "--module", "Proj", "--train-limit", "1000", "--test-limit", "100", "--k", "10",
                "--temperature", "0.1", "--batch", "64", "--json", json.toString());
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().startsWith("no --weights: evaluating the randomly initialised model (seed 0)"), r::toString);
        Matcher m = RESULT.matcher(r.out());
        assertTrue(m.find(), r::toString);
        assertEquals(List.of("10", "0.1", "100", "1000"), List.of(m.group(1), m.group(2), m.group(5), m.group(6)));
        assertTrue(r.top1() > 40, "random projections keep much of the pixels' neighbourhoods: " + r);
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals(r.top1(), j.get("top1").asDouble(), 0.005);
        assertEquals(10, j.get("k").asInt());
        assertEquals(16, j.get("dim").asInt());
        assertEquals("Proj.features", j.get("features").asText());
        assertTrue(j.get("weights").isNull());
    }

    @Test
    void weightsUnderAPrefixGiveTheSameAsTheBackboneAlone() throws IOException {
        Path pair = weights("Pair", 4, Map.of(), "pair.safetensors");
        Path alone = tmp.resolve("alone.safetensors");
        Tensor w = SafeTensors.read(pair).get("encoder.w");
        SafeTensors.write(alone, Map.of("w", w));
        String[] common = {"--module", "Proj", "--train-limit", "500", "--test-limit", "50"};
        Cli a = run(concat(new String[] {"eval", "knn", models().toString(), "--weights", pair.toString(), "--prefix", "encoder."}, common));
        Cli b = run(concat(new String[] {"eval", "knn", models().toString(), "--weights", alone.toString()}, common));
        assertEquals(0, a.status(), a::toString);
        assertEquals(0, b.status(), b::toString);
        assertFalse(a.out().contains("no --weights"), a::toString);
        assertEquals(b.out(), a.out());
        // a run folder holds weights.safetensors
        Path run = Files.createDirectory(tmp.resolve("run"));
        Files.copy(alone, run.resolve("weights.safetensors"));
        assertEquals(b.out(), run(concat(new String[] {"eval", "knn", models().toString(), "--weights", run.toString()}, common)).out());
    }

    @Test
    void mistakesAreOneLineErrors() throws IOException {
        String file = models().toString();
        String[] small = {"--module", "Proj", "--train-limit", "200", "--test-limit", "20"};
        Cli missing = run(concat(new String[] {"eval", "knn", file, "--weights", tmp.resolve("nope.safetensors").toString()}, small));
        assertError(missing, "nope.safetensors");
        Path pair = weights("Pair", 4, Map.of(), "pair.safetensors");
        assertError(run(concat(new String[] {"eval", "knn", file, "--weights", pair.toString(), "--prefix", "enc."}, small)), "enc.");
        Path narrow = weights("Proj", 1, Map.of("dim", new Value.IntV(8)), "narrow.safetensors");
        assertError(run(concat(new String[] {"eval", "knn", file, "--weights", narrow.toString()}, small)), "w: shape [784, 8]");
        assertError(run(concat(new String[] {"eval", "knn", file, "--function", "same"}, small)), "[B, D]");
        assertError(run(concat(new String[] {"eval", "knn", file, "--k", "500"}, small)), "--k 500");
        assertError(run(concat(new String[] {"eval", "knn", file, "--temperature", "0"}, small)), "--temperature");
        Cli noFunction = run(concat(new String[] {"eval", "knn", file, "--function", "nope"}, small));
        assertEquals(1, noFunction.status(), noFunction::toString);
        assertEquals(2, run("eval", "knn").status());
        assertEquals(2, run("eval", "knn", "--raw-pixels", file).status());
        assertEquals(2, run("eval").status());
        assertEquals(2, run("eval", file, "--module", "Lin").status()); // classify needs --weights
    }

    private static void assertError(Cli r, String mention) {
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().startsWith("mobyc: error: ") && r.err().contains(mention), r::toString);
        assertFalse(r.err().contains("\tat "), "a stack trace: " + r);
    }

    @Test
    void rawPixelsBaseline() {
        Cli r = run("eval", "knn", "--raw-pixels", "--train-limit", "3000", "--test-limit", "300");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.top1() > 70, r::toString);
    }

    @Test
    void classifyIsAlsoTheDefault() throws IOException {
        Path w = weights("Lin", 2, Map.of(), "lin.safetensors");
        String file = models().toString();
        Cli sub = run("eval", "classify", file, "--module", "Lin", "--weights", w.toString(), "--test-limit", "50");
        Cli plain = run("eval", file, "--module", "Lin", "--weights", w.toString(), "--test-limit", "50");
        assertEquals(0, sub.status(), sub::toString);
        assertTrue(sub.out().startsWith("test top-1 "), sub::toString);
        assertEquals(sub.out(), plain.out());
        Cli help = run("eval", "--help");
        assertTrue(help.out().contains("classify") && help.out().contains("knn"), help::toString);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
