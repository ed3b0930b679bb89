package mobyc.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Verifier;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.data.ImageSource;
import mobyc.data.TwoViewLoader;
import mobyc.data.aug.Augment;
import mobyc.eval.KnnMonitor;
import mobyc.runtime.Backend;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;

/**
 * A self-supervised objective written in .moby (MoBY): its forward returns the loss and takes two image inputs (the
 * views, fed by a {@link TwoViewLoader} with MoBY's augmentations) and optionally a scalar {@code momentum} (the
 * target's cosine schedule, MOBY.md step 1: m_t = 1 - (1 - m0) (cos(pi t / T) + 1) / 2). After each epoch the
 * module's {@code features} (eval mode) are measured with weighted k-NN on the test set.
 */
public final class ObjectiveTask implements Task {
    public static final String MOMENTUM = "momentum";

    private final Graph program;
    private final List<String> views = new ArrayList<>();
    private final boolean hasMomentum;
    private final ImageSource train;
    private final ImageDataset knnTrain, test;
    private final int microBatch, knnEvery, knnK;
    private final long seed;
    private final double m0, knnTemperature;
    private final int workers;
    private final Consumer<String> log;
    private final KnnMonitor knn;
    private final Augment.Views augment;
    private TwoViewLoader loader;
    private final Tensor momentum = Tensor.zeros(mobyc.compiler.ir.DType.F32, new long[0]);

    /** Whether a training graph is an objective: its forward ("out") is a scalar. */
    public static boolean isObjective(Graph g) {
        Node out = g.outputs().get("out");
        return out != null && out.shape().rank() == 0;
    }

    /**
     * {@code train} feeds the views (IDX, an ImageFolder, a zip + map); k-NN runs when {@code featureGraph},
     * {@code knnTrain} and {@code test} are given (in-memory data sets).
     */
    public ObjectiveTask(Graph trainModel, Graph featureGraph, ImageSource train, ImageDataset knnTrain, ImageDataset test, int microBatch, long seed,
                         Backend backend, double m0, int knnEvery, int knnK, double knnTemperature, int workers, Consumer<String> log) {
        boolean momentumInput = false;
        for (Node n : trainModel.inputs()) {
            String name = ((Op.Input) n.op()).inputName();
            if (n.shape().rank() == 4) views.add(name);
            else if (name.equals(MOMENTUM) && n.shape().rank() == 0) momentumInput = true;
            else throw new IllegalArgumentException(trainModel.name() + ": the trainer cannot feed input '" + name + "' " + n.shape()
                    + " (an objective takes two image views [B, C, H, W] and optionally a scalar 'momentum')");
        }
        if (views.size() != 2)
            throw new IllegalArgumentException(trainModel.name() + " takes " + views.size() + " image inputs; the trainer feeds two augmented views");
        Node x = trainModel.inputs().stream().filter(n -> n.shape().rank() == 4).findFirst().orElseThrow();
        long c = x.shape().dim(1).constant(), h = x.shape().dim(2).constant(), w = x.shape().dim(3).constant();
        if (c != train.channels() || h != w)
            throw new IllegalArgumentException(trainModel.name() + " takes images " + x.shape() + " but " + train.source() + " has "
                    + train.channels() + " channel(s)");
        this.program = Verifier.verify(Autodiff.differentiate(trainModel, "out"));
        this.hasMomentum = momentumInput;
        this.train = train;
        this.knnTrain = knnTrain;
        this.test = test;
        this.microBatch = microBatch;
        this.seed = seed;
        this.m0 = m0;
        this.knnEvery = knnEvery;
        this.knnK = knnK;
        this.knnTemperature = knnTemperature;
        this.workers = workers;
        this.log = log;
        this.knn = featureGraph == null || test == null || knnTrain == null ? null : new KnnMonitor(featureGraph, backend, "");
        this.augment = c == 1 ? Augment.mobyGray((int) h, Batches.FASHION_MNIST_MEAN, Batches.FASHION_MNIST_STD) : Augment.mobyRgb((int) h);
    }

    /** MOBY.md step 1: the target's momentum at step t of T. */
    public static double momentumAt(double m0, long t, long total) {
        return 1 - (1 - m0) * (Math.cos(Math.PI * t / total) + 1) / 2;
    }

    @Override public Graph program() { return program; }
    @Override public String lossOutput() { return "out"; }
    @Override public long microBatchesPerEpoch() { return train.size() / microBatch; }
    @Override public int microBatch() { return microBatch; }
    @Override public String describe() { return train.source() + ", two views (" + augment.view1().name() + " / " + augment.view2().name() + ")"; }

    @Override public void open(long first, long count) {
        loader = new TwoViewLoader(train, augment, microBatch, seed, workers, log);
        loader.start(first, count);
    }

    @Override public void next(long micro, long step, long total, Map<String, Tensor> inputs, Map<String, Object> metrics) {
        TwoViewLoader.Batch b = loader.next();
        inputs.put(views.get(0), b.x1());
        inputs.put(views.get(1), b.x2());
        if (hasMomentum) {
            double m = momentumAt(m0, step, total);
            momentum.setFloat(0, (float) m);
            inputs.put(MOMENTUM, momentum);
            metrics.put("momentum", m);
        }
    }

    @Override public Map<String, Object> evaluate(ParameterStore store, long epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (knn == null || knnEvery <= 0) return m;
        if (loader != null && loader.skipped() > 0) m.put("skipped_images", loader.skipped());
        KnnMonitor.Result r = knn.run(store, knnTrain, test, knnK, knnTemperature, 256);
        m.putAll(r.metrics());
        m.put("knn_images", r.images());
        return m;
    }

    @Override public String summary(Map<String, Object> e) {
        if (!e.containsKey("knn_top1")) return "";
        return String.format(Locale.ROOT, "k-NN (k=%d, T=%.2f) top-1 %.2f%%, top-5 %.2f%% on %s test images", knnK, knnTemperature,
                e.get("knn_top1"), e.get("knn_top5"), e.get("knn_images"));
    }

    @Override public void close() {
        if (loader != null) loader.close();
    }
}
