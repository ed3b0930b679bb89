package mobyc.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import mobyc.compiler.ir.Graph;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.data.TwoViewLoader;
import mobyc.data.aug.Augment;
import mobyc.data.aug.HorizontalFlip;
import mobyc.data.aug.Normalize;
import mobyc.data.aug.RandomResizedCrop;
import mobyc.runtime.Backend;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;

/**
 * Linear evaluation: a linear head trained on frozen features ({@link mobyc.eval.LinearProbe}) with the reference's
 * augmentation (RandomResizedCrop, scale 0.08-1, and flip), test top-1/top-5 after each epoch. The frozen weights
 * are loaded by {@code pretrained} before training.
 */
public final class LinearTask implements Task {
    private final Graph probe, program;
    private final String image;
    private final ImageDataset train, test;
    private final int microBatch, workers;
    private final long seed;
    private final Backend backend;
    private final Consumer<ParameterStore> pretrained;
    private final Consumer<String> log;
    private final Augment augment;
    private TwoViewLoader loader;
    private Evaluation evaluation;

    public LinearTask(Graph probe, ImageDataset train, ImageDataset test, int microBatch, long seed, Backend backend, int workers,
                      Consumer<ParameterStore> pretrained, Consumer<String> log) {
        this.probe = probe;
        this.program = ClassifierProgram.training(probe);
        this.image = ClassifierProgram.imageInput(probe);
        this.train = train;
        this.test = test;
        this.microBatch = microBatch;
        this.seed = seed;
        this.backend = backend;
        this.workers = workers;
        this.pretrained = pretrained;
        this.log = log;
        int size = train.height();
        this.augment = train.channels() == 3 ? Augment.linearRgb(size)
                : new Augment("linear-gray", size, List.of(RandomResizedCrop.of(size), new HorizontalFlip(0.5)),
                        Normalize.of(Batches.FASHION_MNIST_MEAN, Batches.FASHION_MNIST_STD));
    }

    @Override public Graph program() { return program; }
    @Override public String lossOutput() { return ClassifierProgram.LOSS; }
    @Override public long microBatchesPerEpoch() { return train.size() / microBatch; }
    @Override public int microBatch() { return microBatch; }
    @Override public String describe() { return train.source() + ", " + augment.name() + " (frozen features, linear head)"; }
    @Override public void initialise(ParameterStore store) { pretrained.accept(store); }

    @Override public void open(long first, long count) {
        loader = new TwoViewLoader(train, augment, augment, microBatch, augment.size(), seed, workers, log);
        loader.start(first, count);
    }

    @Override public void next(long micro, long step, long total, Map<String, Tensor> inputs, Map<String, Object> metrics) {
        TwoViewLoader.Batch b = loader.next();
        inputs.put(image, b.x1());
        inputs.put(ClassifierProgram.LABELS, Tensor.ofInts(b.labels(), b.labels().length));
    }

    @Override public Map<String, Object> evaluate(ParameterStore store, long epoch) {
        if (test == null) return new LinkedHashMap<>();
        if (evaluation == null) evaluation = new Evaluation(probe, backend);
        return evaluation.run(store, test, Math.max(microBatch, 64)).metrics("linear");
    }

    @Override public String summary(Map<String, Object> e) {
        return String.format(Locale.ROOT, "linear top-1 %.2f%%, top-5 %.2f%% on %d test images", e.get("linear_top1"), e.get("linear_top5"), e.get("test_images"));
    }

    @Override public void close() {
        if (loader != null) loader.close();
    }
}
