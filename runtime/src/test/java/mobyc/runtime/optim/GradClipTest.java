package mobyc.runtime.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class GradClipTest {
    @Test
    void matchesTorchClipGradNorm() {
        List<Tensor> grads = Goldens.stacks("clip/before"), expected = Goldens.stacks("clip/after");
        double maxNorm = Goldens.META.get("clip").get("max_norm").asDouble();
        double torchTotal = Goldens.META.get("clip").get("total_norm").asDouble();
        double total = GradClip.clip(grads, maxNorm);
        assertEquals(torchTotal, total, 1e-6 * torchTotal);  // torch reduces in f32, mobyc in double
        for (int i = 0; i < grads.size(); i++) {
            double d = OptimizerGoldenTest.relativeDiff(grads.get(i), expected.get(i));
            assertTrue(d <= 1e-6, Goldens.NAMES.get(i) + ": " + d);
        }
        assertEquals(maxNorm, GradClip.globalNorm(grads), 1e-5);
    }

    @Test
    void gradientsUnderTheLimitAreUntouched() {
        Tensor g = Tensor.of(new float[] {3, 4}, 2);
        assertEquals(5.0, GradClip.clip(List.of(g), 5.0));  // scale 5 / (5 + 1e-6) < 1 clips, by under 1e-6
        Tensor h = Tensor.of(new float[] {3, 4}, 2);
        assertEquals(5.0, GradClip.clip(List.of(h), 6.0));
        assertEquals(3f, h.getFloat(0));
        assertEquals(4f, h.getFloat(1));
    }

    @Test
    void theNormSpansEveryTensor() {
        Tensor a = Tensor.of(new float[] {3}, 1), b = Tensor.of(new float[] {0, 4}, 2);
        assertEquals(5.0, GradClip.clip(List.of(a, b), 1.0));
        assertEquals(3 / (5 + 1e-6), a.getFloat(0), 1e-7);
        assertEquals(4 / (5 + 1e-6), b.getFloat(1), 1e-7);
    }

    @Test
    void aNonFiniteNormIsReturnedAndNothingIsScaled() {
        Tensor g = Tensor.of(new float[] {Float.NaN, 1}, 2);
        assertTrue(Double.isNaN(GradClip.clip(List.of(g), 1.0)));
        assertEquals(1f, g.getFloat(1));
        Tensor h = Tensor.of(new float[] {Float.POSITIVE_INFINITY, 1}, 2);
        assertEquals(Double.POSITIVE_INFINITY, GradClip.clip(List.of(h), 1.0));
        assertEquals(1f, h.getFloat(1));
    }
}
