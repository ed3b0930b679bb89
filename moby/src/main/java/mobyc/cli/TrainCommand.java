package mobyc.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import mobyc.data.DataException;
import mobyc.data.ImageDataset;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.WeightsException;
import mobyc.train.CheckpointException;
import mobyc.train.ClassifierTask;
import mobyc.train.ObjectiveTask;
import mobyc.train.Task;
import mobyc.train.TrainConfig;
import mobyc.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc train FILE.moby}: trains what FILE's module describes. A module whose forward returns logits
 * [B, classes] is trained as a classifier (cross-entropy); one whose forward returns a scalar is a self-supervised
 * objective (MoBY): its image inputs are fed augmented views of the same images, its {@code momentum} input the
 * cosine momentum schedule, and k-NN on the test set is measured after each epoch.
 */
@Command(name = "train", description = {"Train a model written in .moby: a classifier (forward returns logits) with cross-entropy,",
        "or a self-supervised objective (forward returns the loss, e.g. MoBY in examples/moby_fmnist.moby) on two augmented views."})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Option(names = "--module", paramLabel = "NAME", description = "Module to train (default: the last module of FILE).") String module;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--data", paramLabel = "DIR", description = {"Folder with train-/t10k- IDX files (default: /usr/share/datasets/fashion-mnist, else the sample shipped inside mobyc);",
            "for objectives also an ImageFolder (class sub-folders of JPEG/PNG) or the reference's train.zip (with train_map.txt beside it)."}) Path data;
    @Option(names = "--epochs", defaultValue = "1", description = "Epochs (default: ${DEFAULT-VALUE}).") long epochs;
    @Option(names = "--steps", defaultValue = "0", description = "Optimiser steps; overrides --epochs when > 0.") long steps;
    @Option(names = "--batch", defaultValue = "64", description = "Global batch (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--accumulate", defaultValue = "1", description = "Micro-batches per step (gradient accumulation, default: ${DEFAULT-VALUE}).") int accumulate;
    @Option(names = "--lr", defaultValue = "1e-3", description = "Base learning rate for a batch of 512, scaled by batch/512 (default: ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--warmup-epochs", defaultValue = "0.5", description = "Linear warmup, in epochs (default: ${DEFAULT-VALUE}).") double warmupEpochs;
    @Option(names = "--warmup-lr", defaultValue = "5e-7", description = "Base warmup start rate (default: ${DEFAULT-VALUE}).") double warmupLr;
    @Option(names = "--min-lr", defaultValue = "5e-6", description = "Base final rate of the cosine (default: ${DEFAULT-VALUE}).") double minLr;
    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw or sgd (default: ${DEFAULT-VALUE}).") String optimizer;
    @Option(names = "--weight-decay", defaultValue = "0.05", description = "Weight decay, not applied to biases, 1-D parameters, position embeddings and bias tables (default: ${DEFAULT-VALUE}).") double weightDecay;
    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).") double momentum;
    @Option(names = "--clip", defaultValue = "5.0", description = "Global gradient-norm clip, 0 for none (default: ${DEFAULT-VALUE}).") double clip;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation, data order and dropout (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--out", defaultValue = "runs/train", paramLabel = "DIR", description = "Output folder: checkpoints/, metrics.jsonl, weights.safetensors (default: ${DEFAULT-VALUE}).") Path out;
    @Option(names = "--resume", description = "Continue from the newest complete checkpoint in --out (the default: a re-run of the same command resumes).") boolean resume;
    @Option(names = "--restart", description = "Start from step 0 even if --out holds checkpoints (they are deleted first).") boolean restart;
    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "N", description = "Also checkpoint every N steps (always at each epoch's end).") long checkpointEvery;
    @Option(names = "--log-every", defaultValue = "1", paramLabel = "N", description = "Write a metrics line every N steps (default: ${DEFAULT-VALUE}).") int logEvery;
    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N training images (0: all).") int trainLimit;
    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N test images (0: all).") int testLimit;
    @Option(names = "--no-progress", description = "Plain log lines instead of a progress bar.") boolean noProgress;
    @Option(names = "--print-groups", description = "Print which parameters get weight decay, then stop.") boolean printGroups;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend (default: the best available).") String backend;
    @Option(names = "--ema-momentum", defaultValue = "0.99", paramLabel = "M0", description = "Objectives: momentum of the target at step 0, cosine to 1 (default: ${DEFAULT-VALUE}).") double emaMomentum;
    @Option(names = "--knn-every", defaultValue = "1", paramLabel = "EPOCHS", description = "Objectives: k-NN evaluation on the test set every N epochs and at the end, 0 for never (default: ${DEFAULT-VALUE}).") int knnEvery;
    @Option(names = "--knn-k", defaultValue = "20", description = "Objectives: neighbours of the k-NN evaluation (default: ${DEFAULT-VALUE}).") int knnK;
    @Option(names = "--knn-temperature", defaultValue = "0.07", description = "Objectives: temperature of the k-NN vote (default: ${DEFAULT-VALUE}).") double knnTemperature;
    @Option(names = "--workers", defaultValue = "0", description = "Objectives: augmentation threads (default: min(4, cores)).") int workers;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (batch <= 0 || accumulate <= 0 || epochs < 0 || steps < 0 || logEvery <= 0) throw new UserError("--batch, --accumulate and --log-every must be positive; --epochs and --steps not negative");
        if (!(lr > 0)) throw new UserError("--lr must be positive");
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : ForwardCommand.lastModule(c, file);
        Map<String, Value> values = Programs.sets(sets, diags, err);
        int micro = batch / Math.max(accumulate, 1);
        if (Programs.declaresHyper(c, entry, "batch") && !values.containsKey("batch")) values.put("batch", new Value.IntV(micro));
        Frontend.Built trainGraph = Programs.build(c, new Frontend.Request(entry, "forward", values, true), err);
        boolean objective = ObjectiveTask.isObjective(trainGraph.graph());
        Frontend.Built evalGraph = objective
                ? (Programs.hasFunction(c, entry, "features") && knnEvery > 0 ? Programs.build(c, new Frontend.Request(entry, "features", values, false), err) : null)
                : Programs.build(c, new Frontend.Request(entry, "forward", values, false), err);
        if (printGroups) {
            var store = mobyc.runtime.ParameterStore.initialise(trainGraph.graph(), seed);
            stdout.print(mobyc.runtime.optim.ParamGroups.of(store.params()).describe());
            return Main.OK;
        }
        ImageDataset train = null, test = null;
        mobyc.data.ImageSource source = null;
        try {
            if (objective && data != null && isImageFiles(data)) {
                source = data.getFileName().toString().endsWith(".zip")
                        ? mobyc.data.ZipMapSource.open(data.getParent() == null ? Path.of(".") : data.getParent(), data.getFileName().toString().replaceFirst("\\.zip$", ""))
                        : mobyc.data.ImageFolder.open(data);
                stdout.println("data: " + source.source() + " (k-NN monitoring needs IDX data and is off)");
            } else {
                train = limit(ImageDataset.fashionMnist(data, "train"), trainLimit);
                test = limit(ImageDataset.fashionMnist(data, "test"), testLimit);
            }
        } catch (DataException e) {
            throw new UserError(e.getMessage());
        }
        Map<String, String> setText = new LinkedHashMap<>();
        for (String s : sets) setText.put(s.substring(0, s.indexOf('=')).trim(), s.substring(s.indexOf('=') + 1).trim());
        if (objective) setText.putIfAbsent("ema_momentum", Double.toString(emaMomentum));
        TrainConfig cfg = new TrainConfig(file, entry, setText, data, batch, accumulate, epochs, steps, optimizer, lr, warmupEpochs,
                warmupLr, minLr, weightDecay, momentum, clip, seed, out, !restart, checkpointEvery, logEvery, !noProgress, backend);
        if (resume && restart) throw new UserError("--resume and --restart exclude each other");
        if (restart) deleteCheckpoints(out.resolve("checkpoints"), err);
        mobyc.runtime.Backend be = ForwardCommand.selectBackend(backend);
        try {
            Task task = objective
                    ? new ObjectiveTask(trainGraph.graph(), evalGraph == null ? null : evalGraph.graph(), source != null ? source : train,
                            source != null ? null : train, knnEvery > 0 ? test : null,
                            micro, seed, be, emaMomentum, knnEvery, knnK, knnTemperature, workers, msg -> { err.println(msg); err.flush(); })
                    : new ClassifierTask(trainGraph.graph(), evalGraph.graph(), train, test, micro, seed, be);
            Trainer.Outcome o = new Trainer(cfg, task, be, stdout).run();
            String losses = Double.isNaN(o.firstLoss()) // no step ran: the checkpoint was already at the end (a run stops at a non-finite loss)
                    ? "none left to run" : String.format(Locale.ROOT, "loss %.4f -> %.4f", o.firstLoss(), o.lastLoss());
            stdout.printf(Locale.ROOT, "done: %d steps, %s%s; weights in %s%n", o.steps(), losses,
                    o.summary() == null ? "" : ", " + o.summary(), o.out().resolve("weights.safetensors"));
        } catch (CheckpointException | WeightsException | IllegalArgumentException | DataException e) {
            throw new UserError(e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + e.getMessage());
        }
        return Main.OK;
    }

    private static void deleteCheckpoints(Path dir, PrintWriter err) {
        if (!java.nio.file.Files.isDirectory(dir)) return;
        try (var files = java.nio.file.Files.list(dir)) {
            List<Path> ckpts = files.filter(f -> f.getFileName().toString().startsWith("ckpt-")).toList();
            for (Path f : ckpts) java.nio.file.Files.delete(f);
            if (!ckpts.isEmpty()) err.println("--restart: deleted " + ckpts.size() + " checkpoint files in " + dir);
        } catch (IOException e) {
            throw new UserError("--restart: cannot delete the checkpoints in " + dir + ": " + e.getMessage());
        }
    }

    /** An ImageFolder (class sub-folders of images) or the reference's train.zip (+ train_map.txt), not IDX files. */
    static boolean isImageFiles(Path data) {
        if (data.getFileName() != null && data.getFileName().toString().endsWith(".zip")) return true;
        if (!java.nio.file.Files.isDirectory(data)) return false;
        try (var files = java.nio.file.Files.list(data)) {
            return files.noneMatch(f -> f.getFileName().toString().contains("idx")) ;
        } catch (IOException e) {
            return false;
        }
    }

    static ImageDataset limit(ImageDataset ds, int n) { return n > 0 && n < ds.size() ? ds.subset(0, n) : ds; }
}
