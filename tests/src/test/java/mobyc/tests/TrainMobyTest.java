package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CI-sized MoBY pre-training with `mobyc train` (a tiny Swin, tests/src/test/resources/moby_tiny.moby, on the first
 * images of Fashion-MNIST): the loss falls, k-NN is measured and logged with the momentum schedule, the plot is
 * drawn; a run killed with SIGKILL and started again with the same command resumes from its last complete
 * checkpoint and ends bit-identical to the uninterrupted run, with no half-written checkpoint left.
 */
class TrainMobyTest {
    @TempDir Path tmp;

    static List<String> args(Path out, String steps) {
        return new ArrayList<>(List.of("train", Path.of("src/test/resources/moby_tiny.moby").toString(),
                "--steps", steps, "--batch", "32", "--lr", "1.6e-2", "--warmup-epochs", "0.1", "--seed", "5",
                "--train-limit", "960", "--test-limit", "200", "--checkpoint-every", "3", "--no-progress", "--workers", "2",
                "--out", out.toString()));
    }

    @Test
    void lossFallsAndKnnIsMeasured() throws IOException {
        Path out = tmp.resolve("run");
        Cli r = Cli.run(args(out, "60").toArray(String[]::new));
        assertEquals(0, r.status(), r::toString);
        List<Double> losses = new ArrayList<>(), momenta = new ArrayList<>();
        double knn = -1;
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(line);
            if (n.has("loss")) {
                losses.add(n.get("loss").asDouble());
                momenta.add(n.get("momentum").asDouble());
            }
            if (n.has("knn_top1")) knn = n.get("knn_top1").asDouble();
        }
        assertEquals(60, losses.size());
        double first = losses.subList(0, 10).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = losses.subList(50, 60).stream().mapToDouble(d -> d).average().orElseThrow();
        System.out.printf("MoBY tiny: loss %.3f -> %.3f, k-NN top-1 %.1f%%%n", first, last, knn);
        assertTrue(last < first - 0.3, "the MoBY loss falls: " + first + " -> " + last);
        assertEquals(0.99, momenta.getFirst(), 1e-9, "m_0 = 0.99");
        for (int i = 1; i < momenta.size(); i++) assertTrue(momenta.get(i) >= momenta.get(i - 1), "the momentum rises");
        assertTrue(knn > 30, "k-NN on learned features beats chance (10%) clearly: " + knn);
        assertTrue(r.out().contains("k-NN (k=20, T=0.07) top-1"), r::toString);
        assertTrue(Files.size(out.resolve("metrics.png")) > 1000, "the plot is drawn");
        assertTrue(Files.exists(out.resolve("weights.safetensors")));

        // linear evaluation of the pre-trained encoder: the head learns, the backbone stays frozen
        Path lin = tmp.resolve("linear");
        Cli l = Cli.run("eval", "linear", Path.of("src/test/resources/moby_tiny.moby").toString(), "--weights", out.toString(),
                "--epochs", "6", "--batch", "32", "--lr", "16", "--train-limit", "640", "--test-limit", "200", "--no-progress", "--workers", "2",
                "--out", lin.toString(), "--json", tmp.resolve("linear.json").toString());
        assertEquals(0, l.status(), l::toString);
        JsonNode result = json.readTree(tmp.resolve("linear.json").toFile());
        System.out.printf("MoBY tiny: linear top-1 %.1f%%%n", result.get("linear_top1").asDouble());
        assertTrue(result.get("linear_top1").asDouble() > 20, "the linear head beats chance (10%) twice over: " + result);
        var pre = mobyc.runtime.io.SafeTensors.read(out.resolve("weights.safetensors"));
        var after = mobyc.runtime.io.SafeTensors.read(lin.resolve("weights.safetensors"));
        assertTrue(after.containsKey("head.weight"), after.keySet()::toString);
        for (String k : List.of("encoder.patch_embed.proj.weight", "encoder.layers.1.blocks.0.mlp.fc2.weight"))
            assertArrayEquals(pre.get(k).toFloatArray(), after.get(k).toFloatArray(), "frozen " + k);
    }

    @Test
    void pretrainsOnAnImageFolderAndSkipsBrokenFiles() throws IOException {
        Path root = tmp.resolve("images");
        java.util.Random rnd = new java.util.Random(1);
        for (String cls : List.of("cats", "dogs")) {
            Files.createDirectories(root.resolve(cls));
            for (int i = 0; i < 24; i++) {
                var img = new java.awt.image.BufferedImage(20 + i % 5, 18 + i % 3, java.awt.image.BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++)
                    for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, rnd.nextInt(0xFFFFFF));
                javax.imageio.ImageIO.write(img, i % 2 == 0 ? "png" : "jpg", root.resolve(cls).resolve(i + (i % 2 == 0 ? ".png" : ".jpg")).toFile());
            }
        }
        Files.write(root.resolve("dogs").resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3});
        Cli r = Cli.run("train", Path.of("src/test/resources/moby_rgb_tiny.moby").toString(), "--data", root.toString(), "--steps", "4",
                "--batch", "16", "--no-progress", "--workers", "2", "--out", tmp.resolve("rgb").toString());
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().contains("ImageFolder") || r.out().contains("images"), r::toString);
        assertTrue(r.err().contains("broken.jpg"), "the unreadable file is named in the log: " + r);
        assertTrue(Files.exists(tmp.resolve("rgb").resolve("weights.safetensors")));
    }

    @Test
    void killedRunResumesWithTheSameCommand() throws Exception {
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        Cli a = Cli.run(args(straight, "12").toArray(String[]::new));
        assertEquals(0, a.status(), a::toString);

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "mobyc.cli.Main"));
        cmd.addAll(args(killed, "12"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
        Path marker = killed.resolve("checkpoints").resolve(String.format("ckpt-%09d.json", 6));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(2);
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue(), "the run was to be killed mid-way:\n" + Files.readString(tmp.resolve("killed.log")));
        assertTrue(Files.exists(marker), Files.readString(tmp.resolve("killed.log")));
        assertTrue(!Files.exists(killed.resolve("weights.safetensors")), "the killed run did not finish");

        Cli b = Cli.run(args(killed, "12").toArray(String[]::new));      // the same command again, no flag
        assertEquals(0, b.status(), b::toString);
        assertTrue(b.out().contains("resumed from step "), b::toString);
        assertArrayEquals(Files.readAllBytes(straight.resolve("weights.safetensors")), Files.readAllBytes(killed.resolve("weights.safetensors")),
                "weights (online, target, queues) after kill -9 and a re-run differ from the uninterrupted run");
        File[] tmpFiles = killed.resolve("checkpoints").toFile().listFiles((d, n) -> n.contains(".tmp"));
        assertEquals(0, tmpFiles == null ? 0 : tmpFiles.length, "no half-written checkpoint is left");
    }
}
