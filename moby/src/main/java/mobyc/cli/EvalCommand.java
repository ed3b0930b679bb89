package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import mobyc.data.DataException;
import mobyc.data.ImageDataset;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.ParameterStore;
import mobyc.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mobyc eval FILE --weights W}: test top-1 / top-5 of a trained classifier. */
@Command(name = "eval", description = "Report test top-1 and top-5 accuracy of a classifier with trained weights.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Option(names = "--module", paramLabel = "NAME") String module;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--weights", required = true, paramLabel = "W", description = "weights.safetensors of a run (or a run folder).") Path weights;
    @Option(names = "--data", paramLabel = "DIR", description = "Folder with t10k- IDX files (default as for train).") Path data;
    @Option(names = "--batch", defaultValue = "256") int batch;
    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N") int testLimit;
    @Option(names = {"--backend", "--device"}, paramLabel = "NAME") String backend;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (batch <= 0) throw new UserError("--batch must be positive");
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : ForwardCommand.lastModule(c, file);
        Frontend.Built b = Programs.build(c, Frontend.Request.forward(entry, Programs.sets(sets, diags, err)), err);
        Path w = Files.isDirectory(weights) ? weights.resolve("weights.safetensors") : weights;
        ParameterStore store = ParameterStore.initialise(b.graph(), 0);
        ForwardCommand.loadWeights(store, w, null);
        ImageDataset test;
        try {
            test = TrainCommand.limit(ImageDataset.fashionMnist(data, "test"), testLimit);
        } catch (DataException e) {
            throw new UserError(e.getMessage());
        }
        Evaluation.Result r = new Evaluation(b.graph(), ForwardCommand.selectBackend(backend)).run(store, test, batch);
        out.printf(Locale.ROOT, "test top-1 %.2f%%, top-5 %.2f%% on %d images (%s)%n", r.top1(), r.top5(), r.images(), test.source());
        return Main.OK;
    }
}
