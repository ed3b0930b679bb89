package mobyc.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.runtime.Backends;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Feature extraction in batches (with a smaller last one) against the same computation by hand. */
class FeaturesTest {
    @ParameterizedTest
    @ValueSource(strings = {"interp", "cpu"})
    void extractsEveryImageInOrderInEvalMode(String backend) {
        Graph g = TinyModels.features();
        ParameterStore store = ParameterStore.initialise(g, 3);
        float[] mean = {0.5f, -1f, 0f, 2f, 0.25f}, var = {2f, 0.5f, 1f, 4f, 1.5f};
        store.get("bn.running_mean").copyFrom(Tensor.of(mean, 5));
        store.get("bn.running_var").copyFrom(Tensor.of(var, 5));
        ImageDataset ds = TinyModels.images(13, 3, 7);
        Features f = new Features(g, Backends.select(backend));
        assertEquals(5, f.dim());
        FeatureSet small = f.extract(store, ds, 4), whole = f.extract(store, ds, 100);
        assertEquals(13, small.n());
        assertEquals(5, small.dim());
        assertArrayEquals(ds.labels(), small.labels());
        assertArrayEquals(whole.data(), small.data(), 1e-5f);

        // by hand: BatchNorm with the running statistics of (normalised pixels @ w)
        FeatureSet pixels = FeatureSet.rawPixels(ds);
        assertEquals(36, pixels.dim());
        assertEquals((ds.pixel(4, 7) / 255f - Batches.FASHION_MNIST_MEAN) / Batches.FASHION_MNIST_STD, pixels.data()[4 * 36 + 7], 1e-6);
        float[] w = store.get("w").toFloatArray(), gamma = store.get("bn.weight").toFloatArray(), beta = store.get("bn.bias").toFloatArray();
        for (int i = 0; i < 13; i++)
            for (int d = 0; d < 5; d++) {
                double y = 0;
                for (int p = 0; p < 36; p++) y += (double) pixels.data()[i * 36 + p] * w[p * 5 + d];
                double want = (y - mean[d]) / Math.sqrt(var[d] + 1e-5) * gamma[d] + beta[d];
                assertEquals(want, small.data()[i * 5 + d], 1e-4 * Math.max(1, Math.abs(want)), "image " + i + " feature " + d);
            }
        // eval mode: the store's states are untouched
        assertArrayEquals(mean, store.get("bn.running_mean").toFloatArray());
    }

    @Test
    void refusesGraphsThatDoNotGiveFeatures() {
        var cpu = Backends.select(null);
        Graph training = TinyModels.build("TinyNet", "features", true, Map.of());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Features(training, cpu)).getMessage().contains("eval mode"));
        Graph images = TinyModels.build("TinyNet", "doubled", false, Map.of());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Features(images, cpu)).getMessage().contains("[B, D]"));
    }
}
