package mobyc.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import mobyc.runtime.KernelProfile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mobyc bench}: whole-workload timings on a backend (kernel benchmarks are JMH, in bench/). */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Time whole workloads on a backend.", subcommands = {BenchCommand.MobyStep.class, BenchAb.class})
final class BenchCommand implements Runnable {
    @Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { throw new CommandLine.ParameterException(spec.commandLine(), "missing a workload (moby-step, ab)"); }

    /**
     * One full MoBY training step (EMA, both branches on both views, loss, backward, queue update, gradient clipping
     * and the AdamW step) on seeded random views, timed over several steps after warm-up; img/s and achieved
     * GFLOP/s with the FLOPs of the step's graph counted analytically (the optimiser's are left out).
     */
    @Command(name = "moby-step", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Time a full MoBY training step: --config small32 (Swin on 32x32, examples/moby_small32.moby) or swin_t (examples/moby_swin_tiny.moby).")
    static final class MobyStep implements Callable<Integer> {
        @Option(names = "--config", defaultValue = "small32", description = "small32 or swin_t (default: ${DEFAULT-VALUE}).") String config;
        @Option(names = "--batch", defaultValue = "64", description = "Batch (default: ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--steps", defaultValue = "5", description = "Timed steps (default: ${DEFAULT-VALUE}).") int steps;
        @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps first, at least (default: ${DEFAULT-VALUE}).") int warmup;
        @Option(names = "--warmup-seconds", defaultValue = "20", description = "Keep warming up until this many seconds have passed (default: ${DEFAULT-VALUE}): "
                + "the JIT compiles the kernels over the first steps, and the timed steps should see the compiled code.") double warmupSeconds;
        @Option(names = {"--backend", "--device"}, paramLabel = "NAME") String backend;
        @Option(names = "--profile", description = "Also print where the timed steps spent their time, per op kind and shape.") boolean profile;
        @Option(names = "--profile-rows", defaultValue = "25", description = "Rows of each profile table (default: ${DEFAULT-VALUE}).") int profileRows;
        @Option(names = "--sgemm-peak", arity = "0..1", fallbackValue = "10", paramLabel = "SECONDS",
                description = "Then measure this machine's sgemm for SECONDS (default 10; 1024^3 products on the cpu backend's GEMM) and print the step's GFLOP/s as a share of it; "
                        + "then as many more steps, each followed by as long a burst of sgemm, and the median of those paired shares.")
        Double sgemmPeak;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override public Integer call() {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            if (batch <= 0 || steps <= 0 || warmup < 0 || !(warmupSeconds >= 0) || sgemmPeak != null && !(sgemmPeak > 0))
                throw new UserError("--batch, --steps and --sgemm-peak must be positive, --warmup and --warmup-seconds not negative");
            String file = switch (config) {
                case "small32" -> "moby_small32.moby";
                case "swin_t" -> "moby_swin_tiny.moby";
                default -> throw new UserError("--config is small32 or swin_t, not '" + config + "'");
            };
            StepProgram p = StepProgram.compile(ExamplesCommand.examplesDir().resolve(file), batch, backend, err);
            out.printf(Locale.ROOT, "moby-step %s, batch %d, %s backend: %,d parameters, %.1f GFLOP per step (analytic), compiled in %.2f s%n",
                    config, batch, p.backend.name(), p.parameters, p.flops / 1e9, p.compileSeconds);
            out.flush();
            double[] times = new double[steps];
            KernelProfile prof = new KernelProfile();
            long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
            int warmed = 0;
            while (warmed < warmup || System.nanoTime() < warmupEnd) p.step(warmed++, null);
            if (profile) p.profile(prof);
            for (int s = 0; s < steps; s++) times[s] = p.step(warmed + s, profile ? prof : null);
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            double median = sorted[steps / 2];
            out.printf(Locale.ROOT, "step time median %.3f s (min %.3f, max %.3f over %d steps after %d warm-up steps): %.2f img/s, %.1f GFLOP/s%n",
                    median, sorted[0], sorted[steps - 1], steps, warmed, batch / median, p.flops / 1e9 / median);
            if (profile) out.print(prof.table(profileRows));
            if (sgemmPeak != null) {
                out.flush();
                SgemmPeak peak = SgemmPeak.measure(1024, sgemmPeak);
                out.printf(Locale.ROOT, "sgemm %d^3 on this machine now: %.1f GFLOP/s (median of %d); the step sustains %.1f%% of it%n",
                        peak.n(), peak.gflops(), peak.runs(), 100 * p.flops / 1e9 / median / peak.gflops());
                paired(p, warmed + steps, out);
            }
            return Main.OK;
        }

        /**
         * The share again, step by step: each of {@code steps} more steps is followed by a burst of sgemm as long as the
         * step, and compared with it; the median of those shares does not depend on which minute each half ran in.
         */
        private void paired(StepProgram p, int from, PrintWriter out) {
            double[] shares = new double[steps], rates = new double[steps];
            try (SgemmPeak.Meter meter = new SgemmPeak.Meter(1024)) {
                for (int s = 0; s < steps; s++) {
                    double t = p.step(from + s, null);
                    rates[s] = meter.burst(t, 3).gflops();
                    shares[s] = p.flops / 1e9 / t / rates[s];
                }
            }
            double[] sorted = shares.clone();
            Arrays.sort(sorted);
            Arrays.sort(rates);
            out.printf(Locale.ROOT, "paired: %d more steps, each followed by as long a burst of sgemm (median %.1f GFLOP/s): the step sustains "
                    + "%.1f%% of the sgemm beside it (median; %.1f-%.1f%%)%n", steps, rates[steps / 2], 100 * sorted[steps / 2],
                    100 * sorted[0], 100 * sorted[steps - 1]);
        }
    }
}
