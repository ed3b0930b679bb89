package mobyc.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.lower.Lower;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.data.Prefetcher;
import mobyc.runtime.Backend;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.optim.AdamW;
import mobyc.runtime.optim.GradClip;
import mobyc.runtime.optim.LrSchedule;
import mobyc.runtime.optim.Optimizer;
import mobyc.runtime.optim.ParamGroups;
import mobyc.runtime.optim.Sgd;

/**
 * The training loop that objectives reuse: deterministic batches, one compiled forward+backward program, gradient
 * accumulation, global-norm clipping, a multi-tensor optimiser step on the per-step learning rate, metrics, a
 * progress bar, and checkpoints of the whole state that resume bit-identically (data order and random numbers
 * are functions of (seed, step), so nothing else needs saving).
 */
public final class Trainer {
    private final TrainConfig cfg;
    private final Graph trainModel;
    private final Graph evalModel;
    private final ImageDataset train;
    private final ImageDataset test;
    private final Backend backend;
    private final PrintWriter log;

    public record Outcome(long steps, double lastLoss, double firstLoss, Evaluation.Result test, Path out) {}

    public Trainer(TrainConfig cfg, Graph trainModel, Graph evalModel, ImageDataset train, ImageDataset test, Backend backend, PrintWriter log) {
        this.cfg = cfg;
        this.trainModel = trainModel;
        this.evalModel = evalModel;
        this.train = train;
        this.test = test;
        this.backend = backend;
        this.log = log;
    }

    public Outcome run() throws IOException {
        if (cfg.batch() % cfg.accumulate() != 0)
            throw new IllegalArgumentException("--batch " + cfg.batch() + " is not divisible by --accumulate " + cfg.accumulate());
        int micro = cfg.batch() / cfg.accumulate();
        Batches batches = new Batches(train, micro, true, true, cfg.seed());
        long microPerEpoch = batches.batchesPerEpoch();
        long stepsPerEpoch = microPerEpoch / cfg.accumulate();
        if (stepsPerEpoch == 0) throw new IllegalArgumentException("the training set (" + train.size() + " images) is smaller than one batch of " + cfg.batch());
        long total = cfg.steps() > 0 ? cfg.steps() : cfg.epochs() * stepsPerEpoch;

        Graph program = ClassifierProgram.training(trainModel);
        Executable exe = backend.compile(Lower.lower(program));
        ParameterStore store = ParameterStore.initialise(program, cfg.seed());
        List<String> paths = new ArrayList<>(store.params().keySet());
        List<Tensor> params = new ArrayList<>(store.params().values());
        ParamGroups groups = ParamGroups.of(store.params());
        Optimizer opt = switch (cfg.optimizer()) {
            case "adamw" -> new AdamW(groups, 0.9, 0.999, 1e-8, cfg.weightDecay());
            case "sgd" -> new Sgd(groups, cfg.momentum(), 0, cfg.weightDecay(), true);
            default -> throw new IllegalArgumentException("unknown optimizer '" + cfg.optimizer() + "' (adamw or sgd)");
        };
        double lrMax = LrSchedule.scaled(cfg.baseLr(), cfg.batch());
        long warmup = Math.min(total, Math.round(cfg.warmupEpochs() * stepsPerEpoch));
        LrSchedule schedule = LrSchedule.warmupCosine(lrMax, LrSchedule.scaled(cfg.warmupLr(), cfg.batch()),
                LrSchedule.scaled(cfg.minLr(), cfg.batch()), warmup, total);

        Path ckptDir = cfg.out().resolve("checkpoints");
        long start = 0;
        if (cfg.resume()) start = resume(ckptDir, store, opt, paths);
        Files.createDirectories(cfg.out());
        log.printf(Locale.ROOT, "train: %s, %,d parameters; %s; %d steps (%d per epoch), batch %d%s, lr %.3g (base %.3g x %d/512), %s on %s%n",
                trainModel.name(), trainModel.parameterCount(), train.source(), total, stepsPerEpoch, cfg.batch(),
                cfg.accumulate() > 1 ? " in " + cfg.accumulate() + " micro-batches" : "", lrMax, cfg.baseLr(), cfg.batch(),
                cfg.optimizer(), backend.name());
        if (start > 0) log.printf("resumed from step %d%n", start);
        log.flush();

        List<Tensor> acc = new ArrayList<>();
        for (Tensor p : params) acc.add(Tensor.zeros(p.dtype(), p.shape()));
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        String image = ClassifierProgram.imageInput(trainModel);
        double firstLoss = Double.NaN, lastLoss = Double.NaN;
        Evaluation.Result lastEval = null;
        try (Metrics metrics = new Metrics(cfg.out().resolve("metrics.jsonl"), cfg.resume() ? start : -1);
             Prefetcher data = new Prefetcher(batches, start * cfg.accumulate(), (total - start) * cfg.accumulate());
             Progress progress = new Progress(cfg.progress(), total, start, log)) {
            long t0 = System.nanoTime();
            long seen = 0;
            for (long step = start; step < total; step++) {
                double loss = 0;
                for (int k = 0; k < cfg.accumulate(); k++) {
                    long microStep = step * cfg.accumulate() + k;
                    Batches.Batch b = data.next();
                    inputs.put(image, b.images());
                    inputs.put(ClassifierProgram.LABELS, b.labels());
                    Map<String, Tensor> out = exe.run(inputs, store, new RunContext(cfg.seed(), microStep));
                    loss += out.get(ClassifierProgram.LOSS).getFloat(0) / cfg.accumulate();
                    for (int i = 0; i < params.size(); i++) accumulate(acc.get(i), out.get(Autodiff.GRAD + paths.get(i)), k == 0, cfg.accumulate());
                    seen += b.size();
                }
                double norm = cfg.clip() > 0 ? GradClip.clip(acc, cfg.clip()) : GradClip.globalNorm(acc);
                double lr = schedule.at(step);
                opt.step(params, acc, lr);
                if (Double.isNaN(firstLoss)) firstLoss = loss;
                lastLoss = loss;
                double secs = (System.nanoTime() - t0) / 1e9;
                double ips = seen / Math.max(secs, 1e-9);
                long epoch = step / stepsPerEpoch;
                if (!Double.isFinite(loss)) throw new IllegalStateException("the loss is " + loss + " at step " + step + "; lower --lr or enable --clip");
                if (step % cfg.logEvery() == 0 || step == total - 1)
                    metrics.log(record("step", step, "epoch", epoch, "loss", loss, "lr", lr, "grad_norm", norm, "img_per_s", ips));
                progress.step(step, epoch, loss, lr, ips);
                boolean epochEnd = (step + 1) % stepsPerEpoch == 0;
                boolean last = step == total - 1;
                if (last || epochEnd || (cfg.checkpointEvery() > 0 && (step + 1) % cfg.checkpointEvery() == 0))
                    save(ckptDir, step + 1, store, opt, paths);
                if ((epochEnd || last) && test != null) {
                    lastEval = new Evaluation(evalModel, backend).run(store, test, Math.max(cfg.batch(), 64));
                    metrics.log(record("step", step, "epoch", epoch, "test_top1", lastEval.top1(), "test_top5", lastEval.top5()));
                    progress.message(String.format(Locale.ROOT, "epoch %d: test top-1 %.2f%%, top-5 %.2f%%", epoch, lastEval.top1(), lastEval.top5()));
                }
            }
        }
        Map<String, Tensor> weights = new LinkedHashMap<>(store.params());
        weights.putAll(store.states());
        mobyc.runtime.io.SafeTensors.write(cfg.out().resolve("weights.safetensors"), weights);
        return new Outcome(total, lastLoss, firstLoss, lastEval, cfg.out());
    }

    private static void accumulate(Tensor into, Tensor g, boolean first, int parts) {
        long n = into.numel();
        if (parts == 1) {
            into.copyFrom(g);
            return;
        }
        float scale = 1f / parts;
        for (long i = 0; i < n; i++) into.setFloat(i, (first ? 0f : into.getFloat(i)) + g.getFloat(i) * scale);
    }

    static Map<String, Object> record(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private void save(Path dir, long step, ParameterStore store, Optimizer opt, List<String> paths) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        store.params().forEach((k, v) -> t.put("param/" + k, v));
        store.states().forEach((k, v) -> t.put("state/" + k, v));
        opt.state(paths).forEach((k, v) -> t.put("optim/" + k, v));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("config", cfg.identity());
        run.put("step", step);
        Checkpoints.save(dir, step, t, run);
    }

    /** Loads the newest complete checkpoint; returns the number of steps it had done (0 when there is none). */
    private long resume(Path dir, ParameterStore store, Optimizer opt, List<String> paths) throws IOException {
        List<String> skipped = new ArrayList<>();
        Optional<Checkpoints.Loaded> found = Checkpoints.newest(dir, skipped);
        for (String s : skipped) log.println("warning: skipped checkpoint: " + s);
        if (found.isEmpty()) {
            log.println("no checkpoint in " + dir + "; starting from step 0");
            return 0;
        }
        Checkpoints.Loaded c = found.get();
        Object saved = c.run().get("config");
        Map<String, Object> now = cfg.identity();
        if (saved instanceof Map<?, ?> m) {
            for (var e : now.entrySet()) {
                Object was = m.get(e.getKey());
                if (was == null || !String.valueOf(was).equals(String.valueOf(e.getValue())))
                    throw new CheckpointException(c.manifest() + " was made with " + e.getKey() + " = " + was + ", this run has " + e.getValue());
            }
        }
        Map<String, Tensor> model = new LinkedHashMap<>(), optim = new LinkedHashMap<>();
        for (var e : c.tensors().entrySet()) {
            String k = e.getKey();
            if (k.startsWith("param/")) model.put(k.substring(6), e.getValue());
            else if (k.startsWith("state/")) model.put(k.substring(6), e.getValue());
            else if (k.startsWith("optim/")) optim.put(k.substring(6), e.getValue());
            else throw new CheckpointException(c.manifest() + ": unexpected tensor '" + k + "'");
        }
        store.load(model, c.manifest().toString());
        opt.loadState(optim, paths);
        return c.step();
    }
}
