package mobyc.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.Backend;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.WeightsException;
import mobyc.runtime.io.FormatException;
import mobyc.runtime.io.Npy;
import mobyc.models.weights.Checkpoint;
import mobyc.models.weights.KeyMap;
import mobyc.models.weights.KeyMapException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mobyc forward}: runs a module on NumPy inputs with safetensors weights and writes NumPy outputs. */
@Command(name = "forward", description = "Run a module's forward function on .npy inputs and write .npy outputs.")
final class ForwardCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Option(names = "--module", paramLabel = "NAME", description = "Module (or top-level function); default: the last module of FILE.") String module;
    @Option(names = "--function", paramLabel = "FN", defaultValue = "forward", description = "Function to run (default: ${DEFAULT-VALUE}).") String function;
    @Option(names = "--features", description = "Write the pooled features (the module's 'features' function) instead of the forward output.") boolean features;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--input", required = true, paramLabel = "[NAME=]X.npy", description = "Input tensor; NAME= picks the argument when there are several (repeatable).")
    List<String> inputs = new ArrayList<>();
    @Option(names = "--weights", paramLabel = "W", description = "Weights: safetensors or a PyTorch .pth, in mobyc, official Swin/MoBY, timm or torchvision names (default: the initialisers, seeded).") Path weights;
    @Option(names = "--prefix", paramLabel = "P", description = "Take the weights under this key prefix (e.g. encoder. of a MoBY checkpoint; found automatically when unambiguous).") String prefix;
    @Option(names = "--output", required = true, paramLabel = "Y.npy", description = "Output file; several outputs are written as Y_0.npy, Y_1.npy, ...") Path output;
    @Option(names = "--seed", defaultValue = "0", description = "Seed for initialisers and random ops (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--train", description = "Run in training mode (dropout, stochastic depth, batch statistics).") boolean train;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend to run on (default: the best available).") String backend;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : lastModule(c, file);
        String fn = features ? "features" : function;
        Frontend.Built b = Programs.build(c, new Frontend.Request(entry, fn, Programs.sets(sets, diags, err), train), err);
        Map<String, Tensor> in = readInputs(b);
        ParameterStore store = ParameterStore.initialise(b.graph(), seed);
        if (weights != null) loadWeights(store, weights, prefix);
        Backend be = selectBackend(backend);
        Executable exe = be.compile(Lower.lower(b.graph()));
        Map<String, Tensor> result;
        try {
            result = exe.run(in, store, new RunContext(seed, 0));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        List<String> names = b.outputs();
        for (int i = 0; i < names.size(); i++) {
            Path p = names.size() == 1 ? output : sibling(output, "_" + i);
            try {
                Npy.write(p, result.get(names.get(i)));
            } catch (IOException e) {
                throw new UserError("cannot write " + p + ": " + e.getMessage());
            }
            out.println("wrote " + p + " " + result.get(names.get(i)).shapeString());
        }
        return Main.OK;
    }

    /**
     * Loads a checkpoint of any supported format into the store, all or nothing. Keys that are the model's own names
     * load as they are; otherwise official Swin/MoBY, timm, torchvision or mmdet names are mapped to mobyc's (when no
     * naming is recognised, the keys are kept, so the store's error lists what is missing and unexpected).
     */
    static void loadWeights(ParameterStore store, Path weights, String prefix) {
        try {
            Map<String, Tensor> raw = Checkpoint.read(weights);
            java.util.Set<String> own = new java.util.HashSet<>(store.params().keySet());
            own.addAll(store.states().keySet());
            Map<String, Tensor> t = raw;
            if (prefix != null || !own.equals(raw.keySet())) {
                try {
                    t = KeyMap.toMobyc(raw, prefix).tensors();
                } catch (KeyMapException e) {
                    if (prefix != null) throw e;
                }
            }
            store.load(t, weights.toString());
        } catch (FormatException | WeightsException | KeyMapException e) {
            throw new UserError(e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot read " + weights + ": " + e.getMessage());
        }
    }

    static Backend selectBackend(String name) {
        try {
            return Backends.select(name);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private Map<String, Tensor> readInputs(Frontend.Built b) {
        Map<String, Tensor> in = new LinkedHashMap<>();
        List<String> names = b.inputs();
        int positional = 0;
        for (String spec : inputs) {
            int eq = spec.indexOf('=');
            String name;
            String path;
            if (eq > 0 && names.contains(spec.substring(0, eq))) {
                name = spec.substring(0, eq);
                path = spec.substring(eq + 1);
            } else {
                if (positional >= names.size())
                    throw new UserError("too many --input values: " + b.graph().name() + " takes " + names.size() + " (" + String.join(", ", names) + ")");
                name = names.get(positional++);
                path = spec;
            }
            try {
                in.put(name, Npy.read(Path.of(path)));
            } catch (FormatException e) {
                throw new UserError(e.getMessage());
            } catch (IOException e) {
                throw new UserError("cannot read " + path + ": " + e.getMessage());
            }
        }
        for (String n : names) if (!in.containsKey(n)) throw new UserError("missing --input for '" + n + "'");
        return in;
    }

    static Path sibling(Path p, String suffix) {
        String f = p.getFileName().toString();
        int dot = f.lastIndexOf('.');
        String name = dot > 0 ? f.substring(0, dot) + suffix + f.substring(dot) : f + suffix;
        return p.resolveSibling(name);
    }

    /** The module a command uses when --module is not given: the last one declared in the file. */
    static String lastModule(Compilation c, Path file) {
        String last = null;
        for (Decl.FileUnit u : c.roots()) for (Decl d : u.decls()) if (d instanceof Decl.Module || d instanceof Decl.ModuleAlias) last = d.name();
        if (last == null) throw new UserError(file + " declares no module; name a function with --module");
        return last;
    }
}
