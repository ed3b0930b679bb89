package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: help, version, exit statuses, check/compile output, and user errors without stack traces. */
class CliTest {
    @TempDir Path tmp;

    static final String MLP = Golden.repo("examples/mlp.moby").toString();
    static final String SWIN = Golden.repo("models/swin.moby").toString();

    @Test
    void helpAndVersion() {
        Cli help = Cli.run("--help");
        assertEquals(0, help.status());
        for (String cmd : new String[] {"check", "compile", "forward", "demo", "examples", "devices"}) assertTrue(help.out().contains(cmd), help::toString);
        Cli v = Cli.run("--version");
        assertEquals(0, v.status());
        assertTrue(v.out().startsWith("mobyc "), v::toString);
    }

    @Test
    void wrongUsageExitsWithTwo() {
        assertEquals(2, Cli.run().status());
        assertEquals(2, Cli.run("frobnicate").status());
        assertEquals(2, Cli.run("check").status());
        assertEquals(2, Cli.run("compile", MLP, "--emit", "bogus").status());
        assertEquals(2, Cli.run("forward", MLP).status());
    }

    @Test
    void checkPrintsParametersAndFlops() {
        Cli r = Cli.run("check", MLP);
        assertEquals(0, r.status(), r::toString);
        assertEquals("TinyMlp: 872 parameters, forward 1.77 KFLOPs at B=1 (input x: f32[B, 16])\n", r.out());
        Cli s = Cli.run("check", SWIN, "--module", "SwinBlock", "--set", "dim=32", "--set", "heads=2", "--set", "window=4",
                "--set", "shift=2", "--set", "resolution=[8, 8]");
        assertEquals(0, s.status(), s::toString);
        assertTrue(s.out().startsWith("SwinBlock: 12,802 parameters, forward "), s::toString);
        Cli needs = Cli.run("check", SWIN);
        assertEquals(0, needs.status(), needs::toString);
        assertTrue(needs.out().contains("SwinBlock: needs hyper-parameters dim, heads, resolution (give them with --set)"), needs::toString);
    }

    @Test
    void checkReportsEveryErrorWithExitOne() throws IOException {
        Path f = tmp.resolve("bad.moby");
        Files.writeString(f, """
                module M(dim: int = 4) {
                    param w: [dim, dim] = zeros();
                    fn forward(x: [B, dim]) {
                        let y = x @ w;
                        return relu(y) + undefined_name + dimm;
                    }
                }
                """);
        Cli r = Cli.run("check", f.toString());
        assertEquals(1, r.status(), r::toString);
        assertEquals(f + ":5:26: error: unknown name 'undefined_name'\n"
                + "        return relu(y) + undefined_name + dimm;\n"
                + "                         ^\n"
                + f + ":5:43: error: unknown name 'dimm'\n"
                + "        return relu(y) + undefined_name + dimm;\n"
                + "                                          ^\n"
                + "  hint: did you mean 'dim'?\n"
                + "2 errors\n", r.err());
        assertEquals("", r.out());
    }

    @Test
    void benchTimesAMobyStep() {
        System.setProperty("mobyc.home", Golden.repo("").toString());
        Cli r = Cli.run("bench", "moby-step", "--config", "small32", "--batch", "4", "--steps", "1", "--warmup", "0", "--warmup-seconds", "0");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().contains("moby-step small32, batch 4") && r.out().contains("GFLOP per step") && r.out().contains(" img/s, "), r::toString);
        assertEquals(1, Cli.run("bench", "moby-step", "--config", "resnet").status());
        Cli peak = Cli.run("bench", "moby-step", "--config", "small32", "--batch", "2", "--steps", "1", "--warmup", "0", "--warmup-seconds", "0",
                "--sgemm-peak=0.2");
        assertEquals(0, peak.status(), peak::toString);
        assertTrue(peak.out().matches("(?s).*sgemm 1024\\^3 on this machine now: [0-9.]+ GFLOP/s \\(median of [0-9]+\\); the step sustains [0-9.]+% of it.*"), peak::toString);
        assertTrue(peak.out().matches("(?s).*paired: 1 more steps, each followed by as long a burst of sgemm \\(median [0-9.]+ GFLOP/s\\): the step sustains [0-9.]+% .*"), peak::toString);
        assertEquals(1, Cli.run("bench", "moby-step", "--sgemm-peak=0").status());
    }

    @Test
    void benchAbStepsTwoProgramsInTurn() {
        String tiny = Golden.repo("tests/src/test/resources/moby_tiny.moby").toString();
        Cli r = Cli.run("bench", "ab", tiny, tiny, "--batch", "4", "--steps", "3", "--warmup", "1", "--warmup-seconds", "0");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().contains("A = " + tiny + ": ") && r.out().contains("B = " + tiny + ": "), r::toString);
        assertTrue(r.out().matches("(?s).*\nA: step time median [0-9.]+ s .*\nB: step time median [0-9.]+ s .*"
                + "\nB/A: median of 3 pair ratios [0-9.]+ \\(quartiles [0-9.]+-[0-9.]+\\); B faster in [0-3] of 3 pairs, after 1 warm-up pairs\n"), r::toString);
        assertEquals(1, Cli.run("bench", "ab", tiny, tiny, "--steps", "0").status());
        Cli missing = Cli.run("bench", "ab", tiny, "no/such.moby", "--batch", "4");
        assertEquals(1, missing.status(), missing::toString);
        assertTrue(missing.err().contains("no/such.moby"), missing::toString);
        Cli skip = Cli.run("bench", "ab", tiny, tiny, "--batch", "4", "--steps", "1", "--warmup", "0", "--warmup-seconds", "0",
                "--b-fuse-skip", "activations,epilogues");
        assertEquals(0, skip.status(), skip::toString);
        assertTrue(skip.out().contains("A = " + tiny + ": ") && skip.out().contains("B (passes off: activations, epilogues) = " + tiny + ": "), skip::toString);
        assertEquals(null, System.getProperty("mobyc.fuse.skip"), "B's compile only");
        Cli unknown = Cli.run("bench", "ab", tiny, tiny, "--b-fuse-skip", "fusion");
        assertEquals(1, unknown.status(), unknown::toString);
        assertTrue(unknown.err().contains("--b-fuse-skip: no pass 'fusion'; the passes: patchify, attention, windows, cse, identities,"), unknown::toString);
    }

    /**
     * Per-side system properties: set while that side compiles and steps, restored afterwards. B's backend by
     * {@code mobyc.backend} shows that B's compile sees B's property and A's does not; a malformed entry is refused.
     */
    @Test
    void benchAbSetsEachSidesPropertiesAroundItsWork() {
        String tiny = Golden.repo("tests/src/test/resources/moby_tiny.moby").toString();
        Cli r = Cli.run("bench", "ab", tiny, tiny, "--batch", "4", "--steps", "1", "--warmup", "0", "--warmup-seconds", "0",
                "--a-property", "mobyc.team=false", "--b-property", "mobyc.backend=interp", "--b-fuse-skip", "activations");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().contains("A (properties: mobyc.team=false) = " + tiny + ": ")
                && r.out().contains("B (passes off: activations; properties: mobyc.backend=interp) = " + tiny + ": "), r::toString);
        assertEquals(null, System.getProperty("mobyc.team"), "A's property restored");
        assertEquals(null, System.getProperty("mobyc.backend"), "B's property restored");
        Cli noBackend = Cli.run("bench", "ab", tiny, tiny, "--batch", "4", "--steps", "1", "--warmup", "0", "--warmup-seconds", "0",
                "--b-property", "mobyc.backend=nosuch");
        assertEquals(1, noBackend.status(), noBackend::toString);
        assertTrue(noBackend.err().contains("nosuch"), noBackend::toString);
        assertEquals(null, System.getProperty("mobyc.backend"), "restored after B's compile failed");
        Cli bad = Cli.run("bench", "ab", tiny, tiny, "--b-property", "novalue");
        assertEquals(1, bad.status(), bad::toString);
        assertTrue(bad.err().contains("--b-property takes KEY=VALUE, got 'novalue'"), bad::toString);
    }

    @Test
    void compileEmitsReadableIr() {
        Cli r = Cli.run("compile", MLP, "--emit", "ir");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().startsWith("graph TinyMlp {\n  %0 = param fc1.weight : f32[32, 16] init trunc_normal(std=0.02, a=-2, b=2)\n"), r::toString);
        assertTrue(r.out().contains("= gelu %"), r::toString);
        assertTrue(r.out().contains("output out = %"), r::toString);
        Cli k = Cli.run("compile", MLP, "--emit", "kernels");
        assertEquals(0, k.status(), k::toString);
        assertTrue(k.out().contains("= matmul(b"), k::toString);
        Cli m = Cli.run("compile", MLP, "--train", "--backward", "--emit", "memory", "--batch", "64");
        assertEquals(0, m.status(), m::toString);
        assertTrue(m.out().startsWith("memory: ") && m.out().contains("arena (peak of temporaries)") && m.out().contains("(at B = 64)"), m::toString);
    }

    @Test
    void forwardRefusesBadInputsWithoutStackTraces() throws IOException {
        Path g = Golden.dir("mlp");
        Path y = tmp.resolve("y.npy");
        // an input of the wrong shape
        Path x = Golden.dir("swin_block/shifted").resolve("x.npy");
        Cli r = Cli.run("forward", MLP, "--input", x.toString(), "--output", y.toString());
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().startsWith("mobyc: error: input x: expected [B, 16], got [2, 8, 8, 32]"), r::toString);
        // a truncated weights file
        byte[] w = Files.readAllBytes(g.resolve("weights.safetensors"));
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(w, w.length / 2));
        r = Cli.run("forward", MLP, "--input", g.resolve("x.npy").toString(), "--weights", cut.toString(), "--output", y.toString());
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().startsWith("mobyc: error: " + cut), r::toString);
        // weights of another model: every missing key is named
        r = Cli.run("forward", MLP, "--input", g.resolve("x.npy").toString(),
                "--weights", Golden.dir("swin_block/shifted").resolve("weights.safetensors").toString(), "--output", y.toString());
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().contains("fc1.weight") && r.err().contains("norm.bias") && r.err().contains("attn.qkv.weight"), r::toString);
        assertFalse(Files.exists(y), "no output is written when the run fails");
        // a missing input file
        r = Cli.run("forward", MLP, "--input", tmp.resolve("nope.npy").toString(), "--output", y.toString());
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().contains("nope.npy"), r::toString);
        for (Cli c : new Cli[] {r}) assertFalse(c.err().contains("\tat "), c::toString);
    }

    @Test
    void unknownBackendIsAUserError() {
        Path g = Golden.dir("mlp");
        Cli r = Cli.run("forward", MLP, "--input", g.resolve("x.npy").toString(), "--output", tmp.resolve("y.npy").toString(), "--backend", "cuda9");
        assertEquals(1, r.status(), r::toString);
        assertTrue(r.err().contains("unknown backend 'cuda9'; available: ") && r.err().contains("interp"), r::toString);
    }

    @Test
    void examplesRunTheirForward() {
        System.setProperty("mobyc.home", Golden.repo("").toString());
        Cli r = Cli.run("examples", "--batch", "2");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.out().contains("TinyMlp") && r.out().contains("SwinBlock") && r.out().endsWith("ok\n"), r::toString);
    }
}
