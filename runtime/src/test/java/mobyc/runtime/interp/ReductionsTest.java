package mobyc.runtime.interp;

import static mobyc.runtime.interp.Run.f32;
import static mobyc.runtime.interp.Run.i32;
import static mobyc.runtime.interp.Run.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Op.ReduceFn;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class ReductionsTest {
    private static final Tensor X = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);

    private static Op.Reduce reduce(ReduceFn fn, boolean keep, int... axes) { return new Op.Reduce(fn, axes, keep); }

    @Test
    void sumMeanMaxOverOneAxisWithNegativeAxesAndKeepDims() {
        assertArrayEquals(new float[] {6, 15}, f32(reduce(ReduceFn.SUM, false, 1), shape(2), X).toFloatArray());
        assertArrayEquals(new float[] {6, 15}, f32(reduce(ReduceFn.SUM, true, -1), shape(2, 1), X).toFloatArray());
        assertArrayEquals(new float[] {5, 7, 9}, f32(reduce(ReduceFn.SUM, false, 0), shape(3), X).toFloatArray());
        assertArrayEquals(new float[] {2.5f, 3.5f, 4.5f}, f32(reduce(ReduceFn.MEAN, true, -2), shape(1, 3), X).toFloatArray());
        assertArrayEquals(new float[] {3, 6}, f32(reduce(ReduceFn.MAX, false, 1), shape(2), X).toFloatArray());
        assertArrayEquals(new float[] {21}, f32(reduce(ReduceFn.SUM, false, 0, 1), shape(), X).toFloatArray());
    }

    @Test
    void nonAdjacentAxes() {
        float[] v = new float[24];
        for (int i = 0; i < v.length; i++) v[i] = i;
        Tensor x = Tensor.of(v, 2, 3, 4);
        // sum over axes 0 and 2: out[j] = sum_i sum_k (12 i + 4 j + k) = 2*4*4j + (0+12)*4 + 2*(0+1+2+3)
        float[] expected = new float[3];
        for (int j = 0; j < 3; j++) expected[j] = 32 * j + 48 + 12;
        assertArrayEquals(expected, f32(reduce(ReduceFn.SUM, false, 0, -1), shape(3), x).toFloatArray());
        assertArrayEquals(new float[] {11, 23}, f32(reduce(ReduceFn.MAX, true, 1, 2), shape(2, 1, 1), x).toFloatArray());
    }

    @Test
    void sumAccumulatesInDouble() {
        int n = 4098;
        float[] v = new float[n];
        v[0] = 1e8f;
        for (int i = 1; i < n; i++) v[i] = 1f;
        // float accumulation would lose every +1 (1e8 + 1 == 1e8 in float)
        assertEquals((float) (1e8 + n - 1), f32(reduce(ReduceFn.SUM, false, 0), shape(), Tensor.of(v, n)).getFloat(0));
    }

    @Test
    void maxPropagatesNaN() {
        Tensor x = Tensor.of(new float[] {1, Float.NaN, 3}, 3);
        assertTrue(Float.isNaN(f32(reduce(ReduceFn.MAX, false, 0), shape(), x).getFloat(0)));
        Tensor neg = Tensor.of(new float[] {Float.NEGATIVE_INFINITY, -5}, 2);
        assertEquals(-5f, f32(reduce(ReduceFn.MAX, false, 0), shape(), neg).getFloat(0));
    }

    @Test
    void integerReductions() {
        Tensor x = Tensor.ofInts(new int[] {1, -2, 3, Integer.MAX_VALUE, 1, 0}, 2, 3);
        assertArrayEquals(new int[] {2, Integer.MIN_VALUE}, i32(reduce(ReduceFn.SUM, false, 1), shape(2), x).toIntArray());
        assertArrayEquals(new int[] {Integer.MAX_VALUE, 1, 3}, i32(reduce(ReduceFn.MAX, false, 0), shape(3), x).toIntArray());
    }

    @Test
    void emptyReductions() {
        Tensor empty = Tensor.zeros(DType.F32, 2, 0);
        assertArrayEquals(new float[] {0, 0}, f32(reduce(ReduceFn.SUM, false, 1), shape(2), empty).toFloatArray());
        assertTrue(Float.isNaN(f32(reduce(ReduceFn.MEAN, false, 1), shape(2), empty).getFloat(0)));
        assertThrows(IllegalArgumentException.class, () -> f32(reduce(ReduceFn.MAX, false, 1), shape(2), empty));
    }
}
