package mobyc.runtime.interp;

import static mobyc.runtime.interp.Run.f32;
import static mobyc.runtime.interp.Run.i32;
import static mobyc.runtime.interp.Run.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class DataMovementTest {
    private static final Tensor X = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);

    @Test
    void reshapeKeepsRowMajorOrder() {
        assertArrayEquals(X.toFloatArray(), f32(new Op.Reshape(), shape(3, 2), X).toFloatArray());
    }

    @Test
    void permute() {
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f32(new Op.Permute(new int[] {1, 0}), shape(3, 2), X).toFloatArray());
        float[] v = new float[24];
        for (int i = 0; i < 24; i++) v[i] = i;
        Tensor t = f32(new Op.Permute(new int[] {2, 0, 1}), shape(4, 2, 3), Tensor.of(v, 2, 3, 4));
        // out[k, i, j] = x[i, j, k] = 12 i + 4 j + k
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    assertTrue(t.getFloat((k * 2 + i) * 3 + j) == 12 * i + 4 * j + k);
    }

    @Test
    void expandStretchesOnesAndAddsLeadingAxes() {
        Tensor row = Tensor.of(new float[] {1, 2, 3}, 3);
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, f32(new Op.Expand(), shape(2, 3), row).toFloatArray());
        Tensor col = Tensor.of(new float[] {1, 2}, 2, 1);
        assertArrayEquals(new float[] {1, 1, 1, 2, 2, 2}, f32(new Op.Expand(), shape(2, 3), col).toFloatArray());
        assertArrayEquals(new float[] {7, 7, 7, 7}, f32(new Op.Expand(), shape(2, 2), Tensor.of(new float[] {7})).toFloatArray());
    }

    @Test
    void sliceWithNegativeBoundsStepsAndClamping() {
        Tensor v = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6}, 7);
        assertArrayEquals(new float[] {1, 3, 5}, f32(new Op.Slice(0, 1, 6, 2), shape(3), v).toFloatArray());
        assertArrayEquals(new float[] {4, 5}, f32(new Op.Slice(0, -3, -1, 1), shape(2), v).toFloatArray());
        assertArrayEquals(new float[] {5, 6}, f32(new Op.Slice(-1, 5, Long.MAX_VALUE, 1), shape(2), v).toFloatArray());
        assertArrayEquals(new float[] {0, 3, 6}, f32(new Op.Slice(0, -100, 100, 3), shape(3), v).toFloatArray());
        assertArrayEquals(new float[] {2, 3, 5, 6}, f32(new Op.Slice(1, 1, 3, 1), shape(2, 2), X).toFloatArray());
        assertArrayEquals(new float[] {4, 5, 6}, f32(new Op.Slice(0, 1, 2, 1), shape(1, 3), X).toFloatArray());
    }

    @Test
    void concatAlongAnyAxis() {
        Tensor y = Tensor.of(new float[] {7, 8}, 2, 1);
        assertArrayEquals(new float[] {1, 2, 3, 7, 4, 5, 6, 8}, f32(new Op.Concat(-1), shape(2, 4), X, y).toFloatArray());
        Tensor z = Tensor.of(new float[] {9, 9, 9}, 1, 3);
        assertArrayEquals(new float[] {9, 9, 9, 1, 2, 3, 4, 5, 6, 9, 9, 9}, f32(new Op.Concat(0), shape(4, 3), z, X, z).toFloatArray());
    }

    @Test
    void rollAsTorch() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, 2);
        assertArrayEquals(new float[] {7, 8, 1, 2, 3, 4, 5, 6}, f32(new Op.Roll(new int[] {1}, new int[] {0}), shape(4, 2), x).toFloatArray());
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8, 1, 2}, f32(new Op.Roll(new int[] {-1}, new int[] {0}), shape(4, 2), x).toFloatArray());
        assertArrayEquals(new float[] {6, 5, 8, 7, 2, 1, 4, 3},
                f32(new Op.Roll(new int[] {2, 1}, new int[] {0, -1}), shape(4, 2), x).toFloatArray());
        assertArrayEquals(new float[] {7, 8, 1, 2, 3, 4, 5, 6}, f32(new Op.Roll(new int[] {9}, new int[] {0}), shape(4, 2), x).toFloatArray());
    }

    @Test
    void padWithAConstant() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Op.Pad pad = new Op.Pad(new long[] {1, 0}, new long[] {0, 2}, -1);
        assertArrayEquals(new float[] {-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1}, f32(pad, shape(3, 4), x).toFloatArray());
        Tensor i = Tensor.ofInts(new int[] {5}, 1);
        assertArrayEquals(new int[] {0, 5, 0}, i32(new Op.Pad(new long[] {1}, new long[] {1}, 0), shape(3), i).toIntArray());
    }

    @Test
    void gatherRowsByAnIndexOfAnyShape() {
        Tensor table = Tensor.of(new float[] {0, 1, 10, 11, 20, 21}, 3, 2);
        Tensor index = Tensor.ofInts(new int[] {2, 0, 1, 2}, 2, 2);
        assertArrayEquals(new float[] {20, 21, 0, 1, 10, 11, 20, 21}, f32(new Op.Gather(), shape(2, 2, 2), table, index).toFloatArray());
        Tensor ints = Tensor.ofInts(new int[] {4, 5, 6}, 3);
        assertArrayEquals(new int[] {6, 4}, i32(new Op.Gather(), shape(2), ints, Tensor.ofInts(new int[] {2, 0}, 2)).toIntArray());
        var e = assertThrows(IllegalArgumentException.class,
                () -> f32(new Op.Gather(), shape(2, 2), table, Tensor.ofInts(new int[] {1, 3}, 2)));
        assertTrue(e.getMessage().contains("index 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> f32(new Op.Gather(), shape(1, 2), table, Tensor.ofInts(new int[] {-1}, 1)));
    }

    @Test
    void integerDataMovesUnchanged() {
        Tensor x = Tensor.ofInts(new int[] {1, -2, 3, Integer.MIN_VALUE}, 2, 2);
        assertArrayEquals(new int[] {1, 3, -2, Integer.MIN_VALUE}, i32(new Op.Permute(new int[] {1, 0}), shape(2, 2), x).toIntArray());
    }
}
