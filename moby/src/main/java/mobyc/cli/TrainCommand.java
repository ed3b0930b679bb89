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
import mobyc.train.TrainConfig;
import mobyc.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mobyc train FILE.moby}: trains a classifier written in .moby on Fashion-MNIST (or IDX data). */
@Command(name = "train", description = "Train a classifier written in .moby (supervised, cross-entropy) on Fashion-MNIST-style IDX data.")
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Option(names = "--module", paramLabel = "NAME", description = "Module to train (default: the last module of FILE).") String module;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--data", paramLabel = "DIR", description = "Folder with train-/t10k- IDX files (default: /usr/share/datasets/fashion-mnist, else the sample shipped inside mobyc).") Path data;
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
    @Option(names = "--resume", description = "Continue from the newest complete checkpoint in --out.") boolean resume;
    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "N", description = "Also checkpoint every N steps (always at each epoch's end).") long checkpointEvery;
    @Option(names = "--log-every", defaultValue = "1", paramLabel = "N", description = "Write a metrics line every N steps (default: ${DEFAULT-VALUE}).") int logEvery;
    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N training images (0: all).") int trainLimit;
    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N test images (0: all).") int testLimit;
    @Option(names = "--no-progress", description = "Plain log lines instead of a progress bar.") boolean noProgress;
    @Option(names = "--print-groups", description = "Print which parameters get weight decay, then stop.") boolean printGroups;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend (default: the best available).") String backend;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (batch <= 0 || accumulate <= 0 || epochs < 0 || steps < 0 || logEvery <= 0) throw new UserError("--batch, --accumulate and --log-every must be positive; --epochs and --steps not negative");
        if (!(lr > 0)) throw new UserError("--lr must be positive");
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : ForwardCommand.lastModule(c, file);
        Map<String, Value> values = Programs.sets(sets, diags, err);
        Frontend.Built trainGraph = Programs.build(c, new Frontend.Request(entry, "forward", values, true), err);
        Frontend.Built evalGraph = Programs.build(c, new Frontend.Request(entry, "forward", values, false), err);
        if (printGroups) {
            var store = mobyc.runtime.ParameterStore.initialise(trainGraph.graph(), seed);
            stdout.print(mobyc.runtime.optim.ParamGroups.of(store.params()).describe());
            return Main.OK;
        }
        ImageDataset train, test;
        try {
            train = limit(ImageDataset.fashionMnist(data, "train"), trainLimit);
            test = limit(ImageDataset.fashionMnist(data, "test"), testLimit);
        } catch (DataException e) {
            throw new UserError(e.getMessage());
        }
        Map<String, String> setText = new LinkedHashMap<>();
        for (String s : sets) setText.put(s.substring(0, s.indexOf('=')).trim(), s.substring(s.indexOf('=') + 1).trim());
        TrainConfig cfg = new TrainConfig(file, entry, setText, data, batch, accumulate, epochs, steps, optimizer, lr, warmupEpochs,
                warmupLr, minLr, weightDecay, momentum, clip, seed, out, resume, checkpointEvery, logEvery, !noProgress, backend);
        try {
            Trainer.Outcome o = new Trainer(cfg, trainGraph.graph(), evalGraph.graph(), train, test, ForwardCommand.selectBackend(backend), stdout).run();
            stdout.printf(Locale.ROOT, "done: %d steps, loss %.4f -> %.4f%s; weights in %s%n", o.steps(), o.firstLoss(), o.lastLoss(),
                    o.test() == null ? "" : String.format(Locale.ROOT, ", test top-1 %.2f%% (top-5 %.2f%%) on %d images", o.test().top1(), o.test().top5(), o.test().images()),
                    o.out().resolve("weights.safetensors"));
        } catch (CheckpointException | WeightsException | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot write to " + out + ": " + e.getMessage());
        }
        return Main.OK;
    }

    static ImageDataset limit(ImageDataset ds, int n) { return n > 0 && n < ds.size() ? ds.subset(0, n) : ds; }
}
