package mobyc.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import com.fasterxml.jackson.databind.ObjectMapper;
import mobyc.compiler.ir.Graph;
import mobyc.data.ImageDataset;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.eval.LinearProbe;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.WeightsException;
import mobyc.runtime.io.AtomicFiles;
import mobyc.train.CheckpointException;
import mobyc.train.LinearTask;
import mobyc.train.TrainConfig;
import mobyc.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc eval linear}: linear evaluation as the reference: the backbone frozen (features in eval mode), a
 * linear head trained with SGD (momentum 0.9, Nesterov), lr 1.0 x B/512, weight decay 0, warmup then cosine, on
 * RandomResizedCrop + flip views; test top-1 / top-5 after each epoch. A run folder like train's (checkpoints,
 * resume, metrics.jsonl, metrics.png).
 */
@Command(name = "linear", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Linear evaluation: a linear head on the frozen features of a model (eval mode), trained with SGD (momentum 0.9,"
                + " Nesterov, lr 1.0 x B/512, no weight decay, warmup + cosine) on RandomResizedCrop + flip views; prints test top-1/top-5."})
final class EvalLinearCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "The .moby file of the model.") Path file;
    @Option(names = "--module", paramLabel = "NAME", description = "Module (default: the last module of FILE).") String module;
    @Option(names = "--function", paramLabel = "FN", defaultValue = "features", description = "Function giving [B, D] features (default: ${DEFAULT-VALUE}).") String function;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--weights", required = true, paramLabel = "W", description = "Pre-trained weights: a run folder, safetensors or .pth.") Path weights;
    @Option(names = "--prefix", paramLabel = "P", description = "Take the weights under this key prefix (e.g. encoder.), stripped.") String prefix;
    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}; the reference: 100).") long epochs;
    @Option(names = "--batch", defaultValue = "256", description = "Batch (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--lr", defaultValue = "1.0", description = "Base learning rate per 512 images (default: ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--warmup-epochs", defaultValue = "1", description = "Warmup epochs (default: ${DEFAULT-VALUE}; the reference: 5 of 100).") double warmupEpochs;
    @Option(names = "--data", paramLabel = "DIR", description = "Folder with the Fashion-MNIST IDX files (default as for train).") Path data;
    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N") int trainLimit;
    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N") int testLimit;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--workers", defaultValue = "0", description = "Augmentation threads (default: min(4, cores)).") int workers;
    @Option(names = "--out", defaultValue = "runs/linear", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}); a re-run resumes.") Path out;
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON.") Path json;
    @Option(names = "--no-progress", description = "Plain log lines instead of a progress bar.") boolean noProgress;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME") String backend;

    @Spec CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (batch <= 0 || epochs <= 0 || !(lr > 0)) throw new UserError("--batch, --epochs and --lr must be positive");
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : ForwardCommand.lastModule(c, file);
        Graph features = Programs.build(c, new Frontend.Request(entry, function, Programs.sets(sets, diags, err), false), err).graph();
        ImageDataset train = EvalCommand.dataset(data, "train", trainLimit), test = EvalCommand.dataset(data, "test", testLimit);
        Graph probe;
        try {
            probe = LinearProbe.graph(features, Math.max(train.classes(), test.classes()));
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": " + e.getMessage());
        }
        Path w = EvalCommand.weightsFile(weights);
        ParameterStore frozen = ParameterStore.initialise(features, 0);
        EvalCommand.loadWeights(frozen, w, prefix);
        Map<String, String> setText = new LinkedHashMap<>();
        for (String s : sets) setText.put(s.substring(0, Math.max(s.indexOf('='), 0)), s.substring(s.indexOf('=') + 1));
        setText.put("linear_of", w.toAbsolutePath().normalize().toString());
        setText.put("function", function);
        TrainConfig cfg = new TrainConfig(file, entry, setText, data, batch, 1, epochs, 0, "sgd", lr, warmupEpochs, 0.0, 0.0, 0.0,
                0.9, 0.0, seed, out, true, 0, 10, !noProgress, backend);
        var be = ForwardCommand.selectBackend(backend);
        try {
            LinearTask task = new LinearTask(probe, train, test, batch, seed, be, workers, store -> copyFrozen(frozen, store),
                    msg -> { err.println(msg); err.flush(); });
            Trainer.Outcome o = new Trainer(cfg, task, be, stdout).run();
            stdout.printf(Locale.ROOT, "linear evaluation (%d epochs): %s; head in %s%n", epochs, o.summary(), o.out().resolve("weights.safetensors"));
            if (json != null) {
                Map<String, Object> m = new LinkedHashMap<>(o.evaluation());
                m.put("epochs", epochs);
                m.put("batch", batch);
                m.put("lr", lr);
                m.put("weights", w.toString());
                m.put("features", entry + "." + function);
                byte[] bytes = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
                AtomicFiles.write(json, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
            }
        } catch (CheckpointException | WeightsException | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + e.getMessage());
        }
        return Main.OK;
    }

    /** The pre-trained tensors into the probe's store (where the feature graph's parameters are frozen states). */
    private static void copyFrozen(ParameterStore frozen, ParameterStore probe) {
        Map<String, Tensor> all = new LinkedHashMap<>(frozen.params());
        all.putAll(frozen.states());
        all.forEach((path, t) -> {
            Tensor dst = probe.get(path);
            if (dst == null) throw new IllegalStateException("the probe has no tensor " + path);
            dst.copyFrom(t);
        });
    }
}
