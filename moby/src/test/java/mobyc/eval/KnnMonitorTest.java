package mobyc.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import mobyc.compiler.ir.Graph;
import mobyc.data.ImageDataset;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Backend;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import mobyc.runtime.WeightsException;
import org.junit.jupiter.api.Test;

/** The trainer's k-NN monitor: a backbone's features read from a larger model's store under a prefix. */
class KnnMonitorTest {
    final Backend cpu = Backends.select(null);
    final ImageDataset train = TinyModels.images(60, 3, 1), test = TinyModels.images(17, 3, 2);

    @Test
    void readsTheBackboneUnderItsPrefixWithoutChangingTheStore() {
        Graph features = TinyModels.features();
        ParameterStore outer = ParameterStore.initialise(TinyModels.build("Outer", "forward", true, Map.of()), 5);
        outer.get("encoder.bn.running_mean").copyFrom(Tensor.of(new float[] {0.1f, 0.2f, -0.3f, 0f, 1f}, 5));
        Map<String, float[]> before = snapshot(outer);

        KnnMonitor monitor = new KnnMonitor(features, cpu, "encoder.");
        KnnMonitor.Result r = monitor.run(outer, train, test, 5, 0.07, 8);
        assertEquals(direct(features, outer, 5), r.top1(), 1e-12);
        assertEquals(17, r.images());
        assertEquals(60, r.train());
        assertEquals(Map.of("knn_top1", r.top1(), "knn_top5", r.top5()), r.metrics());
        snapshot(outer).forEach((k, v) -> assertArrayEquals(before.get(k), v, k + " changed"));

        // the next run sees new values of the store
        Random rnd = new Random(9);
        float[] w = new float[36 * 5];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        outer.get("encoder.w").copyFrom(Tensor.of(w, 36, 5));
        KnnMonitor.Result again = monitor.run(outer, train, test, 5, 0.07, 8);
        assertEquals(direct(features, outer, 5), again.top1(), 1e-12);
        KnnMonitor.Result once = KnnMonitor.run(features, outer, "encoder.", cpu, train, test, 5, 0.07, 100);
        assertEquals(again.top1(), once.top1(), 1e-12);
        assertEquals(again.top5(), once.top5(), 1e-12);
    }

    @Test
    void namesEveryMissingOrMisshapenPath() {
        Graph features = TinyModels.features();
        ParameterStore outer = ParameterStore.initialise(TinyModels.build("Outer", "forward", false, Map.of()), 5);
        WeightsException e = assertThrows(WeightsException.class, () -> new KnnMonitor(features, cpu, "enc.").run(outer, train, test, 5, 0.07, 8));
        assertTrue(e.problems().contains("enc.w: missing"), e::getMessage);
        ParameterStore narrow = ParameterStore.initialise(TinyModels.build("Outer", "forward", false, Map.of("dim", new Value.IntV(4))), 5);
        WeightsException shapes = assertThrows(WeightsException.class, () -> new KnnMonitor(features, cpu, "encoder.").run(narrow, train, test, 5, 0.07, 8));
        assertTrue(shapes.getMessage().contains("encoder.w: f32[36, 4]"), shapes::getMessage);
    }

    /** Top-1 of the feature graph with its own store holding the values under "encoder." in {@code outer}. */
    private double direct(Graph features, ParameterStore outer, int k) {
        ParameterStore own = ParameterStore.initialise(features, 0);
        Map<String, Tensor> values = new LinkedHashMap<>();
        outer.params().forEach((key, t) -> { if (key.startsWith("encoder.")) values.put(key.substring(8), t); });
        outer.states().forEach((key, t) -> { if (key.startsWith("encoder.")) values.put(key.substring(8), t); });
        own.load(values, "outer");
        Features f = new Features(features, cpu);
        return Knn.classify(f.extract(own, train, 8), f.extract(own, test, 8), 3, k, 0.07).top1();
    }

    private static Map<String, float[]> snapshot(ParameterStore s) {
        Map<String, float[]> m = new LinkedHashMap<>();
        s.params().forEach((k, t) -> m.put(k, t.toFloatArray()));
        s.states().forEach((k, t) -> m.put(k, t.toFloatArray()));
        return m;
    }
}
