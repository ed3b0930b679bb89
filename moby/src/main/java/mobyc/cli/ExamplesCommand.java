package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Executable;
import mobyc.runtime.Initializers;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc examples}: checks the shipped examples and runs each forward on seeded random inputs, printing
 * parameters, FLOPs, output statistics and time (a smoke test of an installation).
 */
@Command(name = "examples", description = "Check the shipped examples and run each forward on seeded random inputs.")
final class ExamplesCommand implements Callable<Integer> {
    @Option(names = "--batch", defaultValue = "4", description = "Batch size of the random inputs (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend (default: the best available).") String backend;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    record Example(String file, String module, Map<String, Value> sets) {}

    static final List<Example> EXAMPLES = List.of(
            new Example("mlp.moby", "TinyMlp", Map.of()),
            new Example("../models/swin.moby", "SwinBlock", Map.of("dim", new Value.IntV(32), "heads", new Value.IntV(2),
                    "window", new Value.IntV(4), "shift", new Value.IntV(2),
                    "resolution", new Value.ListV(List.of(new Value.IntV(8), new Value.IntV(8))))));

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (batch <= 0) throw new UserError("--batch must be positive");
        Path dir = examplesDir();
        var be = ForwardCommand.selectBackend(backend);
        out.println("mobyc examples: examples in " + dir + ", backend " + be.name());
        for (Example ex : EXAMPLES) {
            Diagnostics diags = new Diagnostics();
            Compilation c = Programs.load(List.of(dir.resolve(ex.file())), diags, err);
            Frontend.Built b = Programs.build(c, Frontend.Request.forward(ex.module(), ex.sets()), err);
            out.println(Summary.line(ex.file() + " " + ex.module() + new java.util.TreeMap<>(ex.sets()), b.graph()));
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (Node n : b.graph().inputs()) {
                Map<String, Long> bind = new LinkedHashMap<>();
                for (String s : n.shape().symbols()) bind.put(s, (long) batch);
                Tensor t = Tensor.zeros(n.dtype(), n.shape().evaluate(bind));
                Initializers.fill(t, new Init.Normal(0, 1), seed, "demo/" + ex.module() + "/" + ((mobyc.compiler.ir.Op.Input) n.op()).inputName());
                in.put(((mobyc.compiler.ir.Op.Input) n.op()).inputName(), t);
            }
            ParameterStore store = ParameterStore.initialise(b.graph(), seed);
            Executable exe = be.compile(Lower.lower(b.graph()));
            long t0 = System.nanoTime();
            Map<String, Tensor> res = exe.run(in, store, new RunContext(seed, 0));
            double ms = (System.nanoTime() - t0) / 1e6;
            for (var e : res.entrySet()) {
                float[] v = e.getValue().toFloatArray();
                double mean = 0, sq = 0;
                for (float x : v) mean += x;
                mean /= v.length;
                for (float x : v) sq += (x - mean) * (x - mean);
                out.printf(java.util.Locale.ROOT, "  forward %s -> %s %s: mean %.4f, std %.4f (%.1f ms)%n",
                        in.values().iterator().next().shapeString(), e.getKey(), e.getValue().shapeString(), mean, Math.sqrt(sq / v.length), ms);
            }
        }
        out.println("ok");
        return Main.OK;
    }

    /** The examples folder: $MOBYC_HOME/examples (set by the launcher), else ./examples. */
    static Path examplesDir() {
        String home = System.getProperty("mobyc.home");
        Path p = home != null ? Path.of(home, "examples") : Path.of("examples");
        if (!Files.isDirectory(p)) throw new UserError("cannot find the examples folder (" + p.toAbsolutePath() + ")");
        return p;
    }
}
