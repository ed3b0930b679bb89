package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import mobyc.compiler.fuse.Pipeline;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc bench ab A.moby B.moby}: two MoBY training steps compiled in one process and stepped in turn, A B A
 * B ..., so that a machine whose speed drifts (a shared host, a turbo clock) slows both alike; medians of each, and
 * the median of the ratios B/A of adjacent pairs, with how many pairs B won. For comparing a change to a program
 * (or, by copies of the library, to the library) on a noisy machine, where two separate runs can differ by a third.
 * {@code --b-fuse-skip PASS[,PASS]} compiles B with those graph passes off ({@code -Dmobyc.fuse.skip} for B alone):
 * A and B may then be the same file, and the ratio is what the passes are worth. {@code --a-property KEY=VALUE} and
 * {@code --b-property KEY=VALUE} set system properties while that side compiles and while each of its steps runs
 * (restored after each): a knob the library reads at call time, such as {@code mobyc.team} (read at every run), is
 * then measured against itself in one process. A knob read once, when its class loads, takes the value of whichever
 * side loads it first: compare those in separate processes.
 */
@Command(name = "ab", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Compare two MoBY training steps (the last module of each file) stepped in turn in one process: A B A B ...")
final class BenchAb implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "A.moby", description = "The first program (the baseline).") Path a;
    @Parameters(index = "1", paramLabel = "B.moby", description = "The second program: ratios are B/A.") Path b;
    @Option(names = "--batch", defaultValue = "64", description = "Batch (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--steps", defaultValue = "20", description = "Timed pairs of steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--warmup", defaultValue = "3", description = "Untimed pairs first, at least (default: ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--warmup-seconds", defaultValue = "30", description = "Keep warming up until this many seconds have passed (default: ${DEFAULT-VALUE}).") double warmupSeconds;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME") String backend;
    @Option(names = "--b-fuse-skip", paramLabel = "PASS[,PASS]", split = ",",
            description = "Compile B with these graph passes off, by the names -Dmobyc.fuse.skip takes (an unknown one is refused with the list).")
    java.util.List<String> bSkip = java.util.List.of();
    @Option(names = "--a-property", paramLabel = "KEY=VALUE",
            description = "A system property set while A compiles and while each of A's steps runs (repeatable).")
    java.util.List<String> aProperties = java.util.List.of();
    @Option(names = "--b-property", paramLabel = "KEY=VALUE",
            description = "A system property set while B compiles and while each of B's steps runs (repeatable).")
    java.util.List<String> bProperties = java.util.List.of();
    @Spec CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (batch <= 0 || steps <= 0 || warmup < 0 || !(warmupSeconds >= 0))
            throw new UserError("--batch and --steps must be positive, --warmup and --warmup-seconds not negative");
        java.util.List<String> known = Pipeline.passNames();
        for (String pass : bSkip)
            if (!known.contains(pass)) throw new UserError("--b-fuse-skip: no pass '" + pass + "'; the passes: " + String.join(", ", known));
        Properties[] props = {Properties.parse("--a-property", aProperties), Properties.parse("--b-property", bProperties)};
        StepProgram[] p = {props[0].with(() -> StepProgram.compile(a, batch, backend, err)),
                props[1].with(() -> Pipeline.withSkipped(bSkip, () -> StepProgram.compile(b, batch, backend, err)))};
        for (int i = 0; i < 2; i++) {
            java.util.List<String> notes = new java.util.ArrayList<>();
            if (i == 1 && !bSkip.isEmpty()) notes.add("passes off: " + String.join(", ", bSkip));
            if (!props[i].isEmpty()) notes.add("properties: " + props[i]);
            out.printf(Locale.ROOT, "%s = %s: %,d parameters, %.1f GFLOP per step (analytic), compiled in %.2f s%n",
                    (i == 0 ? "A" : "B") + (notes.isEmpty() ? "" : " (" + String.join("; ", notes) + ")"), p[i].file, p[i].parameters,
                    p[i].flops / 1e9, p[i].compileSeconds);
        }
        out.flush();
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int warmed = 0;
        for (; warmed < warmup || System.nanoTime() < warmupEnd; warmed++)
            for (int i = 0; i < 2; i++) {
                int w = warmed, side = i;
                props[i].with(() -> p[side].step(w, null));
            }
        double[][] t = new double[2][steps];
        for (int s = 0; s < steps; s++)
            for (int i = 0; i < 2; i++) {
                int at = warmed + s, side = i;
                t[i][s] = props[i].with(() -> p[side].step(at, null));
            }
        double[] ratio = new double[steps];
        int bWins = 0;
        for (int s = 0; s < steps; s++) {
            ratio[s] = t[1][s] / t[0][s];
            if (t[1][s] < t[0][s]) bWins++;
        }
        for (int i = 0; i < 2; i++) {
            double[] x = t[i].clone();
            Arrays.sort(x);
            out.printf(Locale.ROOT, "%s: step time median %.3f s (quartiles %.3f-%.3f, min %.3f): %.2f img/s%n", i == 0 ? "A" : "B",
                    x[steps / 2], x[steps / 4], x[3 * steps / 4], x[0], batch / x[steps / 2]);
        }
        Arrays.sort(ratio);
        out.printf(Locale.ROOT, "B/A: median of %d pair ratios %.3f (quartiles %.3f-%.3f); B faster in %d of %d pairs, after %d warm-up pairs%n",
                steps, ratio[steps / 2], ratio[steps / 4], ratio[3 * steps / 4], bWins, steps, warmed);
        return Main.OK;
    }
}
