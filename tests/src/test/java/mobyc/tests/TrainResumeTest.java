package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * A training run killed with SIGKILL mid-way and resumed with --resume ends with bit-identical parameters to the
 * same run left alone; a resumed run refuses a checkpoint made with another configuration.
 */
class TrainResumeTest {
    @TempDir Path tmp;

    static List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", Golden.repo("examples/fmnist_swin.moby").toString(),
                "--set", "embed_dim=8", "--set", "depths=[1, 1]", "--set", "heads=[1, 2]",
                "--steps", "40", "--batch", "16", "--lr", "8e-3", "--warmup-epochs", "0.2", "--seed", "3",
                "--train-limit", "320", "--test-limit", "32", "--checkpoint-every", "2", "--no-progress", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void killedAndResumedRunEqualsTheUninterruptedOne() throws Exception {
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        Cli a = Cli.run(args(straight).toArray(String[]::new));
        assertEquals(0, a.status(), a::toString);

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "mobyc.cli.Main"));
        cmd.addAll(args(killed));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
        Path marker = killed.resolve("checkpoints").resolve(String.format("ckpt-%09d.json", 6));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue(), "the run was to be killed mid-way:\n" + Files.readString(tmp.resolve("killed.log")));
        assertTrue(Files.exists(marker), Files.readString(tmp.resolve("killed.log")));
        assertTrue(!Files.exists(killed.resolve("weights.safetensors")), "the killed run did not finish");

        Cli b = Cli.run(args(killed, "--resume").toArray(String[]::new));
        assertEquals(0, b.status(), b::toString);
        assertTrue(b.out().contains("resumed from step "), b::toString);
        assertArrayEquals(Files.readAllBytes(straight.resolve("weights.safetensors")), Files.readAllBytes(killed.resolve("weights.safetensors")),
                "parameters after kill -9 and --resume differ from the uninterrupted run");
    }

    @Test
    void gradientAccumulationEqualsTheFullBatch() throws IOException {
        Path full = tmp.resolve("full"), micro = tmp.resolve("micro");
        List<String> a = args(full, "--set", "drop_path_rate=0.0");
        a.set(a.indexOf("40"), "3");
        assertEquals(0, Cli.run(a.toArray(String[]::new)).status());
        List<String> b = args(micro, "--set", "drop_path_rate=0.0", "--accumulate", "2");
        b.set(b.indexOf("40"), "3");
        Cli r = Cli.run(b.toArray(String[]::new));
        assertEquals(0, r.status(), r::toString);
        var x = mobyc.runtime.io.SafeTensors.read(full.resolve("weights.safetensors"));
        var y = mobyc.runtime.io.SafeTensors.read(micro.resolve("weights.safetensors"));
        assertEquals(x.keySet(), y.keySet());
        for (String k : x.keySet()) Golden.assertClose(y.get(k), x.get(k), 1e-4, "accumulated " + k);
    }

    @Test
    void resumeRefusesAnotherConfigurationAndBrokenCheckpoints() throws IOException {
        Path out = tmp.resolve("run");
        List<String> shortRun = args(out);
        shortRun.set(shortRun.indexOf("40"), "4");
        assertEquals(0, Cli.run(shortRun.toArray(String[]::new)).status());
        List<String> other = args(out, "--resume");
        other.set(other.indexOf("16"), "32");
        Cli r = Cli.run(other.toArray(String[]::new));
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().contains("was made with batch = 16, this run has 32"), r::toString);

        // truncate the newest tensors file: resume falls back to the previous complete checkpoint and says why
        Path newest = out.resolve("checkpoints").resolve(String.format("ckpt-%09d.safetensors", 4));
        byte[] bytes = Files.readAllBytes(newest);
        Files.write(newest, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        List<String> resume = args(out, "--resume");
        resume.set(resume.indexOf("40"), "4");
        Cli s = Cli.run(resume.toArray(String[]::new));
        assertEquals(0, s.status(), s::toString);
        assertTrue(s.out().contains("skipped checkpoint") && s.out().contains(newest.getFileName().toString()) && s.out().contains("truncated"), s::toString);
        assertTrue(s.out().contains("resumed from step 2"), s::toString);
        Cli again = Cli.run(resume.toArray(String[]::new)); // the run is complete: nothing left, and no "loss NaN -> NaN"
        assertEquals(0, again.status(), again::toString);
        assertTrue(again.out().contains("done: 4 steps, none left to run") && !again.out().contains("NaN"), again::toString);
        File[] files = out.resolve("checkpoints").toFile().listFiles((d, n) -> n.contains(".tmp"));
        assertEquals(0, files == null ? 0 : files.length, "no temporary files are left behind");
    }
}
