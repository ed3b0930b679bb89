package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Flops;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Backend;
import mobyc.runtime.Executable;
import mobyc.runtime.Initializers;
import mobyc.runtime.KernelProfile;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.optim.AdamW;
import mobyc.runtime.optim.GradClip;
import mobyc.runtime.optim.ParamGroups;

/**
 * A MoBY training step compiled for timing: the last module of a .moby file, its forward at a batch, differentiated
 * and compiled for a backend, with seeded parameters, seeded random views, AdamW and gradient clipping, as
 * {@code mobyc train} runs it. The benchmarks of {@link BenchCommand} step it.
 */
final class StepProgram {
    final Path file;
    final Backend backend;
    final double compileSeconds;
    /** FLOPs of the step's graph, counted analytically (the optimiser's left out). */
    final double flops;
    final long parameters;
    private final Executable exe;
    private final ParameterStore store;
    private final List<Tensor> params, grads = new ArrayList<>();
    private final AdamW opt;
    private final Map<String, Tensor> inputs = new LinkedHashMap<>();

    private StepProgram(Path file, int batch, String backendName, PrintWriter err) {
        this.file = file;
        Compilation c = Programs.load(List.of(file), new Diagnostics(), err);
        long t0 = System.nanoTime();
        Frontend.Built b = Programs.build(c, new Frontend.Request(ForwardCommand.lastModule(c, file), "forward",
                Map.of("batch", new Value.IntV(batch)), true), err);
        Graph g = Autodiff.differentiate(b.graph(), "out");
        backend = ForwardCommand.selectBackend(backendName);
        exe = backend.compile(Lower.lower(g));
        compileSeconds = (System.nanoTime() - t0) / 1e9;
        double f = 0;
        for (Node n : g.nodes()) f += Flops.of(n).evaluate(Map.of());
        flops = f;
        store = ParameterStore.initialise(g, 0);
        params = new ArrayList<>(store.params().values());
        parameters = params.stream().mapToLong(Tensor::numel).sum();
        opt = new AdamW(ParamGroups.of(store.params()), 0.9, 0.999, 1e-8, 0.05);
        for (Node n : g.inputs()) {
            String name = ((Op.Input) n.op()).inputName();
            Tensor t = Tensor.zeros(n.dtype(), n.shape().evaluate(Map.of()));
            if (name.equals("momentum")) t.setFloat(0, 0.99f);
            else Initializers.fill(t, new Init.Normal(0, 1), 0, "bench/" + name);
            inputs.put(name, t);
        }
    }

    /** Loads, builds and compiles {@code file}'s MoBY step at {@code batch} for a backend (null: the default). */
    static StepProgram compile(Path file, int batch, String backendName, PrintWriter err) {
        return new StepProgram(file, batch, backendName, err);
    }

    /** Records each kernel's time into {@code prof} from now on. */
    void profile(KernelProfile prof) { exe.profile(prof); }

    /**
     * One training step numbered {@code s} (forward, backward, clipping, AdamW); its seconds. Clipping and AdamW go
     * into {@code prof} when given.
     */
    double step(int s, KernelProfile prof) {
        long t = System.nanoTime();
        Map<String, Tensor> r = exe.run(inputs, store, new RunContext(0, s));
        long t1 = System.nanoTime();
        grads.clear();
        for (String p : store.params().keySet()) grads.add(r.get(Autodiff.GRAD + p));
        GradClip.clip(grads, 5.0);
        long t2 = System.nanoTime();
        opt.step(params, grads, 1e-4);
        if (prof != null) {
            prof.record("(grad clip)", "", t2 - t1);
            prof.record("(adamw step)", "", System.nanoTime() - t2);
        }
        grads.clear();
        exe.recycle(r); // the next step writes its gradients into these (PyTorch keeps .grad likewise)
        return (System.nanoTime() - t) / 1e9;
    }
}
