package mobyc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import mobyc.data.ImageDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc demo}, the README's main command: MoBY pre-training of a small Swin (examples/moby_fmnist.moby) on
 * Fashion-MNIST with progress, then k-NN evaluation of the learned features, printing the final accuracy. By
 * default it uses the 5,000 training / 1,000 test images shipped inside mobyc (the same images as the first ones
 * of the full set), a few minutes on 2 cores; {@code --full} takes the whole installed set.
 */
@Command(name = "demo", description = {"MoBY self-supervised pre-training of a small Swin on Fashion-MNIST, then k-NN evaluation.",
        "Uses the sample shipped inside mobyc (5,000 / 1,000 images); --full takes the installed set (apt-get install dataset-fashion-mnist)."})
final class DemoCommand implements Callable<Integer> {
    /** The sample shipped inside mobyc (ImageDataset.SAMPLE_RESOURCE): the first 5,000 training and 1,000 test images. */
    static final int SAMPLE_TRAIN = 5000, SAMPLE_TEST = 1000;
    @Option(names = "--full", description = "Use the full Fashion-MNIST (60,000 / 10,000 images) from --data or /usr/share/datasets/fashion-mnist.") boolean full;
    @Option(names = "--data", paramLabel = "DIR", description = "Folder with the Fashion-MNIST IDX files (with --full).") Path data;
    @Option(names = "--model", defaultValue = "MoBYFashionDemo", paramLabel = "MODULE",
            description = "Module of examples/moby_fmnist.moby: MoBYFashionDemo (small, default) or MoBYFashion (issue 6's recipe).") String model;
    @Option(names = "--epochs", defaultValue = "5", description = "Epochs (default: ${DEFAULT-VALUE}).") long epochs;
    @Option(names = "--batch", defaultValue = "64", description = "Batch (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--lr", defaultValue = "8e-3", description = "Base learning rate per 512 images (default: ${DEFAULT-VALUE}).") String lr;
    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N training images.") int trainLimit;
    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N test images.") int testLimit;
    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}); a re-run resumes.") Path out;
    @Option(names = "--no-progress", description = "Plain log lines instead of a progress bar.") boolean noProgress;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME", description = "Backend (default: the best available).") String backend;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Path spec = ExamplesCommand.examplesDir().resolve("moby_fmnist.moby");
        int train = trainLimit, test = testLimit;
        if (!full) {
            train = train > 0 ? Math.min(train, SAMPLE_TRAIN) : SAMPLE_TRAIN;
            test = test > 0 ? Math.min(test, SAMPLE_TEST) : SAMPLE_TEST;
        } else if (data == null && !Files.isDirectory(ImageDataset.DEBIAN_FASHION_MNIST)) {
            throw new UserError("--full needs the Fashion-MNIST files: apt-get install dataset-fashion-mnist, or --data DIR");
        }
        stdout.printf(Locale.ROOT, "mobyc demo: MoBY pre-training of %s (%s) on %s Fashion-MNIST, %d epochs, then k-NN (k=20) on the test set%n",
                model, spec, full ? "the full" : "the shipped sample of", epochs);
        stdout.flush();
        List<String> args = new ArrayList<>(List.of("train", spec.toString(), "--module", model, "--epochs", Long.toString(epochs),
                "--batch", Integer.toString(batch), "--lr", lr, "--warmup-epochs", "1", "--out", out.toString(),
                "--train-limit", Integer.toString(train), "--test-limit", Integer.toString(test)));
        if (data != null) args.addAll(List.of("--data", data.toString()));
        if (noProgress) args.add("--no-progress");
        if (backend != null) args.addAll(List.of("--backend", backend));
        int status = Main.run(args.toArray(String[]::new), stdout, err);
        if (status != Main.OK) return status;
        JsonNode last = null;
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            if (n.has("knn_top1")) last = n;
        }
        if (last != null)
            stdout.printf(Locale.ROOT, "MoBY demo: k-NN top-1 %.2f%%, top-5 %.2f%% on %d test images after %d epochs (weights, metrics.jsonl and metrics.png in %s)%n",
                    last.get("knn_top1").asDouble(), last.get("knn_top5").asDouble(), last.get("knn_images").asLong(), epochs, out);
        return Main.OK;
    }
}
