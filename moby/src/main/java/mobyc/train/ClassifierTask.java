package mobyc.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.data.Prefetcher;
import mobyc.runtime.Backend;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;

/** Supervised training of a classifier graph (logits [B, classes]) with cross-entropy; test top-1/top-5 each epoch. */
public final class ClassifierTask implements Task {
    private final Graph program, evalModel;
    private final String image;
    private final Batches batches;
    private final ImageDataset test;
    private final Backend backend;
    private final int evalBatch;
    private Prefetcher data;

    public ClassifierTask(Graph trainModel, Graph evalModel, ImageDataset train, ImageDataset test, int microBatch, long seed, Backend backend) {
        this.program = ClassifierProgram.training(trainModel);
        this.evalModel = evalModel;
        this.image = ClassifierProgram.imageInput(trainModel);
        this.batches = new Batches(train, microBatch, true, true, seed);
        this.test = test;
        this.backend = backend;
        this.evalBatch = Math.max(microBatch, 64);
    }

    @Override public Graph program() { return program; }
    @Override public String lossOutput() { return ClassifierProgram.LOSS; }
    @Override public long microBatchesPerEpoch() { return batches.batchesPerEpoch(); }
    @Override public int microBatch() { return batches.batchSize(); }
    @Override public String describe() { return batches.dataset().source(); }

    @Override public void open(long first, long count) { data = new Prefetcher(batches, first, count); }

    @Override public void next(long micro, long step, long total, Map<String, Tensor> inputs, Map<String, Object> metrics) {
        Batches.Batch b = data.next();
        inputs.put(image, b.images());
        inputs.put(ClassifierProgram.LABELS, b.labels());
    }

    @Override public Map<String, Object> evaluate(ParameterStore store, long epoch) {
        if (test == null) return new LinkedHashMap<>();
        return new Evaluation(evalModel, backend).run(store, test, evalBatch).metrics("test");
    }

    @Override public String summary(Map<String, Object> e) {
        return String.format(Locale.ROOT, "test top-1 %.2f%% (top-5 %.2f%%) on %d images", e.get("test_top1"), e.get("test_top5"), e.get("test_images"));
    }

    @Override public void close() {
        if (data != null) data.close();
    }
}
