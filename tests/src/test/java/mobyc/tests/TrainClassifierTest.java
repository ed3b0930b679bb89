package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CI-sized supervised run: a small Swin written in .moby trained with `mobyc train` on the first 4,800 images
 * of Fashion-MNIST (the shipped sample, or the same images of the installed set) has a falling loss and a test
 * top-1 far above chance (10%), then `mobyc eval` reproduces the accuracy from the saved weights.
 */
class TrainClassifierTest {
    @TempDir Path tmp;

    @Test
    void smallSwinLearnsFashionMnist() throws IOException {
        Path out = tmp.resolve("run");
        String model = Golden.repo("examples/fmnist_swin.moby").toString();
        String[] sets = {"--set", "embed_dim=16", "--set", "depths=[1, 1]", "--set", "heads=[1, 2]", "--set", "drop_path_rate=0.0", "--set", "patch=4"};
        List<String> args = new ArrayList<>(List.of("train", model));
        args.addAll(List.of(sets));
        args.addAll(List.of("--steps", "160", "--batch", "32", "--lr", "6.4e-2", "--warmup-epochs", "0.1", "--train-limit", "4800",
                "--test-limit", "500", "--no-progress", "--out", out.toString()));
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.status(), r::toString);

        List<Double> losses = new ArrayList<>();
        double top1 = -1;
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(line);
            if (n.has("loss")) losses.add(n.get("loss").asDouble());
            if (n.has("test_top1")) top1 = n.get("test_top1").asDouble();
        }
        assertEquals(160, losses.size());
        double first = mean(losses.subList(0, 20)), last = mean(losses.subList(140, 160));
        assertTrue(Math.abs(first - Math.log(10)) < 0.3, "initial loss " + first + " should be near ln 10");
        assertTrue(last < first - 0.6, "loss did not fall enough: " + first + " -> " + last);
        assertTrue(top1 > 35, "test top-1 " + top1 + "% is not clearly better than chance");
        System.out.printf("small Swin on Fashion-MNIST: loss %.3f -> %.3f, test top-1 %.1f%%%n", first, last, top1);

        List<String> eval = new ArrayList<>(List.of("eval", model));
        eval.addAll(List.of(sets));
        eval.addAll(List.of("--weights", out.toString(), "--test-limit", "500"));
        Cli e = Cli.run(eval.toArray(String[]::new));
        assertEquals(0, e.status(), e::toString);
        assertTrue(e.out().startsWith(String.format(java.util.Locale.ROOT, "test top-1 %.2f%%", top1)), e::toString);
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
