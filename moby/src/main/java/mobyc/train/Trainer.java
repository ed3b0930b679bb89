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
    private final Task task;
    private final Backend backend;
    private final PrintWriter log;

    /** The run's result: steps, first/last loss, the last end-of-epoch evaluation (may be empty) and its summary. */
    public record Outcome(long steps, double lastLoss, double firstLoss, Map<String, Object> evaluation, String summary, Path out) {}

    public Trainer(TrainConfig cfg, Task task, Backend backend, PrintWriter log) {
        this.cfg = cfg;
        this.task = task;
        this.backend = backend;
        this.log = log;
    }

    public Outcome run() throws IOException {
        if (cfg.batch() % cfg.accumulate() != 0)
            throw new IllegalArgumentException("--batch " + cfg.batch() + " is not divisible by --accumulate " + cfg.accumulate());
        long microPerEpoch = task.microBatchesPerEpoch();
        long stepsPerEpoch = microPerEpoch / cfg.accumulate();
        if (stepsPerEpoch == 0) throw new IllegalArgumentException("the training set is smaller than one batch of " + cfg.batch());
        long total = cfg.steps() > 0 ? cfg.steps() : cfg.epochs() * stepsPerEpoch;

        Graph program = task.program();
        Executable exe = backend.compile(Lower.lower(program));
        ParameterStore store = ParameterStore.initialise(program, cfg.seed());
        task.initialise(store);
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
                program.name().replaceFirst("(\\.train)?(\\.grad)?$", ""), store.params().values().stream().mapToLong(Tensor::numel).sum(), task.describe(), total, stepsPerEpoch, cfg.batch(),
                cfg.accumulate() > 1 ? " in " + cfg.accumulate() + " micro-batches" : "", lrMax, cfg.baseLr(), cfg.batch(),
                cfg.optimizer(), backend.name());
        if (start > 0) log.printf("resumed from step %d%n", start);
        log.flush();

        List<Tensor> acc = new ArrayList<>(); // gradients summed over micro-steps (with --accumulate above 1)
        if (cfg.accumulate() > 1) for (Tensor p : params) acc.add(Tensor.zeros(p.dtype(), p.shape()));
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        Map<String, Object> stepMetrics = new LinkedHashMap<>();
        double firstLoss = Double.NaN, lastLoss = Double.NaN;
        Map<String, Object> lastEval = Map.of();
        String summary = null;
        task.open(start * cfg.accumulate(), (total - start) * cfg.accumulate());
        try (Metrics metrics = new Metrics(cfg.out().resolve("metrics.jsonl"), start > 0 ? start : -1);
             Progress progress = new Progress(cfg.progress(), total, start, log)) {
            long t0 = System.nanoTime();
            long seen = 0;
            for (long step = start; step < total; step++) {
                double loss = 0;
                stepMetrics.clear();
                List<Tensor> grads = acc;
                Map<String, Tensor> runOut = null;
                for (int k = 0; k < cfg.accumulate(); k++) {
                    long microStep = step * cfg.accumulate() + k;
                    task.next(microStep, step, total, inputs, stepMetrics);
                    Map<String, Tensor> out = exe.run(inputs, store, new RunContext(cfg.seed(), microStep));
                    loss += out.get(task.lossOutput()).getFloat(0) / cfg.accumulate();
                    if (cfg.accumulate() == 1) { // the step's gradients are the run's: no copy
                        grads = new ArrayList<>(params.size());
                        for (String path : paths) grads.add(out.get(Autodiff.GRAD + path));
                        runOut = out;
                    } else {
                        for (int i = 0; i < params.size(); i++) accumulate(acc.get(i), out.get(Autodiff.GRAD + paths.get(i)), k == 0, cfg.accumulate());
                        exe.recycle(out); // read: the next micro-step writes its outputs into these tensors
                    }
                    seen += task.microBatch();
                }
                double norm = cfg.clip() > 0 ? GradClip.clip(grads, cfg.clip()) : GradClip.globalNorm(grads);
                double lr = schedule.at(step);
                opt.step(params, grads, lr);
                if (runOut != null) exe.recycle(runOut);
                if (Double.isNaN(firstLoss)) firstLoss = loss;
                lastLoss = loss;
                double secs = (System.nanoTime() - t0) / 1e9;
                double ips = seen / Math.max(secs, 1e-9);
                long epoch = step / stepsPerEpoch;
                if (!Double.isFinite(loss)) throw new IllegalStateException("the loss is " + loss + " at step " + step + "; lower --lr or enable --clip");
                if (step % cfg.logEvery() == 0 || step == total - 1) {
                    Map<String, Object> r = record("step", step, "epoch", epoch, "loss", loss, "lr", lr, "grad_norm", norm, "img_per_s", ips);
                    r.putAll(stepMetrics);
                    metrics.log(r);
                }
                progress.step(step, epoch, loss, lr, ips, stepMetrics);
                boolean epochEnd = (step + 1) % stepsPerEpoch == 0;
                boolean last = step == total - 1;
                if (last || epochEnd || (cfg.checkpointEvery() > 0 && (step + 1) % cfg.checkpointEvery() == 0))
                    save(ckptDir, step + 1, store, opt, paths);
                if (epochEnd || last) {
                    Map<String, Object> e = task.evaluate(store, epoch);
                    if (!e.isEmpty()) {
                        lastEval = e;
                        summary = task.summary(e);
                        Map<String, Object> r = record("step", step, "epoch", epoch);
                        r.putAll(e);
                        metrics.log(r);
                        progress.message(String.format(Locale.ROOT, "epoch %d: %s", epoch, summary));
                    }
                    epochEnded(epoch);
                }
            }
        } finally {
            task.close();
        }
        Map<String, Tensor> weights = new LinkedHashMap<>(store.params());
        weights.putAll(store.states());
        mobyc.runtime.io.SafeTensors.write(cfg.out().resolve("weights.safetensors"), weights);
        return new Outcome(total, lastLoss, firstLoss, lastEval, summary, cfg.out());
    }

    /** Called after each epoch's checkpoint and evaluation (the plot is refreshed here). */
    private void epochEnded(long epoch) {
        try {
            Plot.write(cfg.out().resolve("metrics.jsonl"), cfg.out().resolve("metrics.png"));
        } catch (IOException | RuntimeException e) {
            log.println("warning: could not draw " + cfg.out().resolve("metrics.png") + ": " + e.getMessage());
        }
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
        if (found.isEmpty()) return 0;
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
