package mobyc.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.data.ImageDataset;
import mobyc.runtime.Backend;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.WeightsException;

/**
 * The k-NN accuracy of a model during training: features of the training and test images by an eval-mode feature
 * graph with the current parameters, then {@link Knn}. Compile once, then {@link #run} at each epoch's end.
 *
 * <p>The feature graph's parameter and state paths may sit under a prefix in the training store: with prefix
 * {@code encoder.}, the graph's {@code layers.0.norm1.weight} is read from the store's
 * {@code encoder.layers.0.norm1.weight}. The values are copied into a store of the feature graph's own (allocated
 * once); the training store is only read.
 */
public final class KnnMonitor {
    private final Features features;
    private final String prefix;
    private ParameterStore view;

    /** The accuracies in percent over {@code images} test images, {@code train} training images, and the time taken. */
    public record Result(long images, long train, double top1, double top5, double seconds) {
        /** As metrics.jsonl records it: {@code knn_top1}, {@code knn_top5}. */
        public Map<String, Object> metrics() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("knn_top1", top1);
            m.put("knn_top5", top5);
            return m;
        }
    }

    /** Compiles {@code featureGraph} (eval mode, images to {@code [B, D]}) whose paths lie under {@code prefix} ("" for none). */
    public KnnMonitor(Graph featureGraph, Backend backend, String prefix) {
        this.features = new Features(featureGraph, backend);
        this.prefix = prefix == null ? "" : prefix;
    }

    /** One-shot: compiles the graph, extracts the features and classifies the test images. */
    public static Result run(Graph featureGraph, ParameterStore store, String prefix, Backend backend, ImageDataset train,
            ImageDataset test, int k, double temperature, int batch) {
        return new KnnMonitor(featureGraph, backend, prefix).run(store, train, test, k, temperature, batch);
    }

    /**
     * Weighted k-NN top-1 and top-5 of {@code test} against {@code train} with the parameters in {@code store}. Fails
     * with a {@link WeightsException} listing every path the store lacks or holds with another shape or type.
     */
    public Result run(ParameterStore store, ImageDataset train, ImageDataset test, int k, double temperature, int batch) {
        long t0 = System.nanoTime();
        ParameterStore params = parameters(store);
        FeatureSet trainFeatures = features.extract(params, train, batch), testFeatures = features.extract(params, test, batch);
        Knn.Result r = Knn.classify(trainFeatures, testFeatures, Math.max(train.classes(), test.classes()), k, temperature);
        return new Result(r.images(), r.train(), r.top1(), r.top5(), (System.nanoTime() - t0) / 1e9);
    }

    /** The feature graph's parameters and states, copied from {@code store} under the prefix. */
    private ParameterStore parameters(ParameterStore store) {
        if (view == null) view = ParameterStore.initialise(features.graph(), 0);
        List<String> problems = new ArrayList<>();
        Map<String, Tensor> mine = new LinkedHashMap<>(view.params());
        mine.putAll(view.states());
        mine.forEach((path, dst) -> {
            Tensor src = store.get(prefix + path);
            if (src == null) problems.add(prefix + path + ": missing");
            else if (!Arrays.equals(src.shape(), dst.shape()) || src.dtype() != dst.dtype())
                problems.add(prefix + path + ": " + src + ", the feature graph " + features.graph().name() + " expects " + dst);
        });
        if (!problems.isEmpty()) throw new WeightsException("the training parameters" + (prefix.isEmpty() ? "" : " under '" + prefix + "'"), problems);
        mine.forEach((path, dst) -> dst.copyFrom(store.get(prefix + path)));
        return view;
    }
}
