package mobyc.runtime.interp;

import static mobyc.runtime.interp.Run.assertClose;
import static mobyc.runtime.interp.Run.f32;
import static mobyc.runtime.interp.Run.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** Expected values from NumPy in float64, rounded to float32. */
class NormalizationsTest {
    @Test
    void softmaxAndLogSoftmaxAlongTheLastAxis() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 1001, 1002, 1003}, 2, 3);
        float[] p = {0.09003057f, 0.24472848f, 0.66524094f};
        float[] logp = {-2.407606f, -1.407606f, -0.40760598f};
        assertClose(new float[] {p[0], p[1], p[2], p[0], p[1], p[2]}, f32(new Op.Softmax(-1), shape(2, 3), x).toFloatArray(), 1e-7);
        assertClose(new float[] {logp[0], logp[1], logp[2], logp[0], logp[1], logp[2]},
                f32(new Op.LogSoftmax(1), shape(2, 3), x).toFloatArray(), 1e-7);
    }

    @Test
    void softmaxAlongAnInnerAxis() {
        Tensor x = Tensor.of(new float[] {1, 5, 2, 3}, 2, 2);
        assertClose(new float[] {0.26894143f, 0.8807971f, 0.7310586f, 0.11920292f}, f32(new Op.Softmax(0), shape(2, 2), x).toFloatArray(), 1e-7);
        Tensor y = Tensor.of(new float[] {0, 0, 0, 0, 0, 0, 0, 0}, 2, 2, 2);
        assertClose(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, f32(new Op.Softmax(1), shape(2, 2, 2), y).toFloatArray(), 0);
    }

    @Test
    void layerNormUsesTheBiasedVarianceWithEpsInsideTheRoot() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 2, 4, 6, 8}, 2, 4);
        Tensor ones = Tensor.of(new float[] {1, 1, 1, 1}, 4), zeros = Tensor.of(new float[4], 4);
        float[] out = f32(new Op.LayerNorm(1e-5), shape(2, 4), x, ones, zeros).toFloatArray();
        assertClose(new float[] {-1.3416355f, -0.4472118f, 0.4472118f, 1.3416355f}, java.util.Arrays.copyOf(out, 4), 1e-6);
        Tensor w = Tensor.of(new float[] {1, 2, 0.5f, -1}, 4), b = Tensor.of(new float[] {0, 1, 2, 3}, 4);
        float[] affine = f32(new Op.LayerNorm(1e-5), shape(1, 4), Tensor.of(new float[] {1, 2, 3, 4}, 1, 4), w, b).toFloatArray();
        assertClose(new float[] {-1.3416355f, 0.10557639f, 2.2236059f, 1.6583645f}, affine, 1e-6);
    }

    @Test
    void batchNormAlongTheChannelAxis() {
        // x [N=2, C=2, L=2]; channel 0: (x - 1) / 2; channel 1: (x - 2) / 0.5 * 2 + 1
        Tensor x = Tensor.of(new float[] {1, 3, 2, 3, 5, 7, 1, 0}, 2, 2, 2);
        Tensor mean = Tensor.of(new float[] {1, 2}, 2), var = Tensor.of(new float[] {4, 0.25f}, 2);
        Tensor w = Tensor.of(new float[] {1, 2}, 2), b = Tensor.of(new float[] {0, 1}, 2);
        assertClose(new float[] {0, 1, 1, 5, 2, 3, -3, -7},
                f32(new Op.BatchNorm(1, 0), shape(2, 2, 2), x, mean, var, w, b).toFloatArray(), 1e-7);
        // channels last, negative axis
        Tensor xl = Tensor.of(new float[] {1, 2, 3, 3}, 2, 2);
        assertClose(new float[] {0, 1, 1, 5}, f32(new Op.BatchNorm(-1, 0), shape(2, 2), xl, mean, var, w, b).toFloatArray(), 1e-7);
    }

    @Test
    void l2NormalizeDividesByTheNormOrEps() {
        Tensor x = Tensor.of(new float[] {3, 4, 0, 0}, 2, 2);
        assertArrayEquals(new float[] {0.6f, 0.8f, 0, 0}, f32(new Op.L2Normalize(1, 1e-12), shape(2, 2), x).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 0, 0}, f32(new Op.L2Normalize(0, 1e-12), shape(2, 2), x).toFloatArray());
        Tensor tiny = Tensor.of(new float[] {3e-7f, 4e-7f}, 2);
        assertClose(new float[] {0.3f, 0.4f}, f32(new Op.L2Normalize(0, 1e-6), shape(2), tiny).toFloatArray(), 1e-6);
    }

    @Test
    void crossEntropyIsLogSumExpMinusTheLabelsLogit() {
        Tensor logits = Tensor.of(new float[] {1, 2, 3, 1, 1, 1}, 2, 3);
        Tensor labels = Tensor.ofInts(new int[] {2, 0}, 2);
        assertClose(new float[] {0.40760598f, 1.0986123f}, f32(new Op.CrossEntropy(), shape(2), logits, labels).toFloatArray(), 1e-7);
        var e = assertThrows(IllegalArgumentException.class,
                () -> f32(new Op.CrossEntropy(), shape(2), logits, Tensor.ofInts(new int[] {0, 3}, 2)));
        assertTrue(e.getMessage().contains("label 3") && e.getMessage().contains("example 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> f32(new Op.CrossEntropy(), shape(2), logits, Tensor.ofInts(new int[] {-1, 0}, 2)));
    }
}
