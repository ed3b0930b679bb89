package mobyc.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import mobyc.data.DataException;
import mobyc.data.ImageDataset;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.eval.FeatureSet;
import mobyc.eval.Features;
import mobyc.eval.Knn;
import mobyc.models.weights.Checkpoint;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.WeightsException;
import mobyc.runtime.io.AtomicFiles;
import mobyc.train.Evaluation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc eval}: accuracy of a model on Fashion-MNIST. {@code eval classify FILE --weights W} (also spelled
 * {@code eval FILE --weights W}) reports a classifier's test top-1 / top-5; {@code eval knn} the weighted k-NN
 * accuracy of a model's pooled features ({@link Knn}), or of the raw pixels as a baseline.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Report the accuracy of a model on Fashion-MNIST: a classifier's (classify, the default) or weighted k-NN on its features (knn).",
        subcommands = {EvalCommand.ClassifyCommand.class, EvalCommand.KnnCommand.class, EvalLinearCommand.class})
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "Same as 'eval classify FILE'.") Path file;
    @Mixin ClassifyOptions options;
    @Spec CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        if (file == null) throw new CommandLine.ParameterException(spec.commandLine(), "missing a command (classify, knn) or FILE");
        return options.run(file, spec);
    }

    /** {@code mobyc eval classify FILE --weights W}: test top-1 / top-5 of a trained classifier. */
    @Command(name = "classify", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Report test top-1 and top-5 accuracy of a classifier with trained weights.")
    static final class ClassifyCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE") Path file;
        @Mixin ClassifyOptions options;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override public Integer call() { return options.run(file, spec); }
    }

    /** The options of {@code eval classify} (and of {@code eval FILE}). */
    static final class ClassifyOptions {
        @Option(names = "--module", paramLabel = "NAME", description = "Module (default: the last module of FILE).") String module;
        @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
        @Option(names = "--weights", paramLabel = "W", description = "Required: weights.safetensors of a run (or a run folder), or any checkpoint 'forward' reads.") Path weights;
        @Option(names = "--data", paramLabel = "DIR", description = "Folder with t10k- IDX files (default as for train).") Path data;
        @Option(names = "--batch", defaultValue = "256", paramLabel = "N", description = "Images per batch (default: ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N test images (0: all).") int testLimit;
        @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend (default: the best available).") String backend;

        Integer run(Path file, CommandLine.Model.CommandSpec spec) {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            if (weights == null) throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--weights=W'");
            if (batch <= 0) throw new UserError("--batch must be positive");
            Diagnostics diags = new Diagnostics();
            Compilation c = Programs.load(List.of(file), diags, err);
            String entry = module != null ? module : ForwardCommand.lastModule(c, file);
            Frontend.Built b = Programs.build(c, Frontend.Request.forward(entry, Programs.sets(sets, diags, err)), err);
            ParameterStore store = ParameterStore.initialise(b.graph(), 0);
            ForwardCommand.loadWeights(store, weightsFile(weights), null);
            ImageDataset test = dataset(data, "test", testLimit);
            Evaluation.Result r = new Evaluation(b.graph(), ForwardCommand.selectBackend(backend)).run(store, test, batch);
            out.printf(Locale.ROOT, "test top-1 %.2f%%, top-5 %.2f%% on %d images (%s)%n", r.top1(), r.top5(), r.images(), test.source());
            return Main.OK;
        }
    }

    /** {@code mobyc eval knn}: weighted k-NN top-1 / top-5 of a model's features (or of raw pixels). */
    @Command(name = "knn", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
            "Weighted k-NN accuracy of a model's pooled features on Fashion-MNIST, as DINO's k-NN monitor: features of the"
                    + " training and test images in eval mode, L2-normalised; each test image's k most similar training images"
                    + " (cosine) vote for their class with weight exp(similarity / T).",
            "Without --weights the randomly initialised model (seed 0) is evaluated, a baseline; --raw-pixels evaluates"
                    + " the normalised pixels themselves."})
    static final class KnnCommand implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "The .moby file of the model (not with --raw-pixels).") Path file;
        @Option(names = "--module", paramLabel = "NAME", description = "Module (default: the last module of FILE).") String module;
        @Option(names = "--function", paramLabel = "FN", defaultValue = "features", description = "Function giving [B, D] features of images (default: ${DEFAULT-VALUE}).") String function;
        @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
        @Option(names = "--weights", paramLabel = "W", description = "Weights: a run folder, safetensors or .pth in any naming 'forward' reads (default: the initialisers, seed 0).") Path weights;
        @Option(names = "--prefix", paramLabel = "P", description = "Take the weights under this key prefix (e.g. encoder. of a MoBY checkpoint), stripped.") String prefix;
        @Option(names = "--k", defaultValue = "20", paramLabel = "K", description = "Neighbours that vote (default: ${DEFAULT-VALUE}).") int k;
        @Option(names = "--temperature", defaultValue = "0.07", paramLabel = "T", description = "Vote weight exp(similarity / T) (default: ${DEFAULT-VALUE}).") double temperature;
        @Option(names = "--data", paramLabel = "DIR", description = "Folder with train-/t10k- IDX files (default as for train).") Path data;
        @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N training images (0: all).") int trainLimit;
        @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N test images (0: all).") int testLimit;
        @Option(names = "--batch", defaultValue = "256", paramLabel = "N", description = "Images per batch of feature extraction (default: ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--raw-pixels", description = "Use the normalised pixels as features (no model): the baseline.") boolean rawPixels;
        @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON.") Path json;
        @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend (default: the best available).") String backend;

        @Spec CommandLine.Model.CommandSpec spec;

        @Override public Integer call() {
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            if (rawPixels && (file != null || weights != null || prefix != null || module != null))
                throw new CommandLine.ParameterException(spec.commandLine(), "--raw-pixels takes no FILE, --weights, --prefix or --module");
            if (!rawPixels && file == null)
                throw new CommandLine.ParameterException(spec.commandLine(), "missing FILE (or --raw-pixels for the pixel baseline)");
            if (k <= 0) throw new UserError("--k must be positive, got " + k);
            if (!(temperature > 0) || !Double.isFinite(temperature)) throw new UserError("--temperature must be positive, got " + temperature);
            if (batch <= 0) throw new UserError("--batch must be positive, got " + batch);
            if (trainLimit < 0 || testLimit < 0) throw new UserError("--train-limit and --test-limit must not be negative");
            ImageDataset train = dataset(data, "train", trainLimit), test = dataset(data, "test", testLimit);
            if (k > train.size()) throw new UserError("--k " + k + " is more than the " + train.size() + " training images");

            long t0 = System.nanoTime();
            FeatureSet trainFeatures, testFeatures;
            String entry = null;
            if (rawPixels) {
                trainFeatures = FeatureSet.rawPixels(train);
                testFeatures = FeatureSet.rawPixels(test);
            } else {
                Diagnostics diags = new Diagnostics();
                Compilation c = Programs.load(List.of(file), diags, err);
                entry = module != null ? module : ForwardCommand.lastModule(c, file);
                Frontend.Built b = Programs.build(c, new Frontend.Request(entry, function, Programs.sets(sets, diags, err), false), err);
                ParameterStore store = ParameterStore.initialise(b.graph(), 0);
                if (weights != null) loadWeights(store, weightsFile(weights), prefix);
                else out.println("no --weights: evaluating the randomly initialised model (seed 0), a baseline");
                try {
                    Features features = new Features(b.graph(), ForwardCommand.selectBackend(backend));
                    trainFeatures = features.extract(store, train, batch);
                    testFeatures = features.extract(store, test, batch);
                } catch (IllegalArgumentException e) {
                    throw new UserError(file + ": " + e.getMessage());
                }
            }
            double featureSeconds = seconds(t0);
            long t1 = System.nanoTime();
            Knn.Result r;
            try {
                r = Knn.classify(trainFeatures, testFeatures, Math.max(train.classes(), test.classes()), k, temperature);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            double knnSeconds = seconds(t1);
            String t = BigDecimal.valueOf(temperature).stripTrailingZeros().toPlainString();
            out.printf(Locale.ROOT, "k-NN (k=%d, T=%s): top-1 %.2f%%, top-5 %.2f%% on %d test images (%d train)%n", k, t, r.top1(), r.top5(),
                    r.images(), r.train());
            if (json != null) writeJson(r, entry, trainFeatures.dim(), train, test, featureSeconds, knnSeconds);
            return Main.OK;
        }

        private void writeJson(Knn.Result r, String entry, int dim, ImageDataset train, ImageDataset test, double featureSeconds,
                double knnSeconds) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("k", k);
            m.put("temperature", temperature);
            m.put("top1", r.top1());
            m.put("top5", r.top5());
            m.put("test_images", r.images());
            m.put("train_images", r.train());
            m.put("features", rawPixels ? "raw pixels" : entry + "." + function);
            m.put("dim", dim);
            m.put("file", file == null ? null : file.toString());
            m.put("weights", weights == null ? null : weights.toString());
            m.put("prefix", prefix);
            m.put("train_source", train.source());
            m.put("test_source", test.source());
            m.put("feature_seconds", featureSeconds);
            m.put("knn_seconds", knnSeconds);
            try {
                byte[] bytes = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
                AtomicFiles.write(json, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
            } catch (IOException e) {
                throw new UserError("cannot write " + json + ": " + e.getMessage());
            }
        }
    }

    /**
     * Loads weights as {@code forward} does, except that with a prefix, keys under it that are exactly the model's
     * own names once it is stripped load as they are, whatever they are called (a mobyc run of any model).
     */
    static void loadWeights(ParameterStore store, Path file, String prefix) {
        if (prefix != null) {
            Map<String, Tensor> inside = new LinkedHashMap<>();
            try {
                Checkpoint.read(file).forEach((key, t) -> {
                    if (key.startsWith(prefix)) inside.put(key.substring(prefix.length()), t);
                });
            } catch (IOException | RuntimeException e) {
                inside.clear(); // forward's loader says what is wrong with the file
            }
            Set<String> own = new HashSet<>(store.params().keySet());
            own.addAll(store.states().keySet());
            if (!inside.isEmpty() && inside.keySet().equals(own)) {
                try {
                    store.load(inside, file + " (keys under '" + prefix + "')");
                } catch (WeightsException e) {
                    throw new UserError(e.getMessage());
                }
                return;
            }
        }
        ForwardCommand.loadWeights(store, file, prefix);
    }

    /** A run folder's weights.safetensors, or the file itself. */
    static Path weightsFile(Path weights) {
        return Files.isDirectory(weights) ? weights.resolve("weights.safetensors") : weights;
    }

    static ImageDataset dataset(Path data, String split, int limit) {
        try {
            return TrainCommand.limit(ImageDataset.fashionMnist(data, split), limit);
        } catch (DataException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static double seconds(long since) { return (System.nanoTime() - since) / 1e9; }
}
