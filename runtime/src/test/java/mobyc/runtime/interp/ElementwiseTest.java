package mobyc.runtime.interp;

import static mobyc.runtime.interp.Run.assertClose;
import static mobyc.runtime.interp.Run.f32;
import static mobyc.runtime.interp.Run.i32;
import static mobyc.runtime.interp.Run.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Op.BinaryFn;
import mobyc.compiler.ir.Op.UnaryFn;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class ElementwiseTest {
    private static float unary(UnaryFn fn, float x) {
        return f32(new Op.Unary(fn), shape(), Tensor.of(new float[] {x})).getFloat(0);
    }

    @Test
    void unaryFloat() {
        assertEquals(-2f, unary(UnaryFn.NEG, 2f));
        assertEquals(2.7182817f, unary(UnaryFn.EXP, 1f));
        assertEquals(0f, unary(UnaryFn.LOG, 1f));
        assertEquals(Float.NEGATIVE_INFINITY, unary(UnaryFn.LOG, 0f));
        assertEquals(1.4142135f, unary(UnaryFn.SQRT, 2f));
        assertEquals(0.5f, unary(UnaryFn.RSQRT, 4f));
        assertEquals(0.46211717f, unary(UnaryFn.TANH, 0.5f));
        assertEquals(0.5204999f, unary(UnaryFn.ERF, 0.5f));
        assertEquals(0f, unary(UnaryFn.RELU, -1f));
        assertEquals(3f, unary(UnaryFn.RELU, 3f));
        assertTrue(Float.isNaN(unary(UnaryFn.RELU, Float.NaN)));
        assertEquals(0.8413448f, unary(UnaryFn.GELU, 1f));
        assertEquals(-0.15865526f, unary(UnaryFn.GELU, -1f));
        assertEquals(0f, unary(UnaryFn.GELU, 0f));
        assertEquals(-0f, unary(UnaryFn.GELU, -20f), 1e-30);
        assertEquals(0.5f, unary(UnaryFn.DGELU, 0f));
        assertEquals(1.0833155f, unary(UnaryFn.DGELU, 1f), 1e-7f); // Phi(1) + phi(1)
        assertEquals(-0.08331547f, unary(UnaryFn.DGELU, -1f), 1e-8f);
        assertEquals(0f, unary(UnaryFn.DGELU, -20f), 1e-30);
        assertEquals(1f, unary(UnaryFn.DGELU, 20f));
        assertEquals(2.5f, unary(UnaryFn.ABS, -2.5f));
        assertEquals(0.5f, unary(UnaryFn.SIGMOID, 0f));
        assertEquals(0.8807971f, unary(UnaryFn.SIGMOID, 2f));
        assertEquals(0f, unary(UnaryFn.SIGMOID, -200f));
        assertEquals(-2f, unary(UnaryFn.FLOOR, -1.5f));
    }

    @Test
    void unaryInt() {
        Tensor x = Tensor.ofInts(new int[] {-3, 0, 4}, 3);
        assertArrayEquals(new int[] {3, 0, -4}, i32(new Op.Unary(UnaryFn.NEG), shape(3), x).toIntArray());
        assertArrayEquals(new int[] {3, 0, 4}, i32(new Op.Unary(UnaryFn.ABS), shape(3), x).toIntArray());
        assertArrayEquals(new int[] {0, 0, 4}, i32(new Op.Unary(UnaryFn.RELU), shape(3), x).toIntArray());
    }

    @Test
    void binaryBroadcastsRowsColumnsAndScalars() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor row = Tensor.of(new float[] {10, 20, 30}, 3);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, f32(new Op.Binary(BinaryFn.ADD), shape(2, 3), a, row).toFloatArray());
        Tensor col = Tensor.of(new float[] {1, 2}, 2, 1);
        assertArrayEquals(new float[] {0, 1, 2, 2, 3, 4}, f32(new Op.Binary(BinaryFn.SUB), shape(2, 3), a, col).toFloatArray());
        Tensor outer = f32(new Op.Binary(BinaryFn.MUL), shape(2, 3), col, Tensor.of(new float[] {1, 2, 3}, 1, 3));
        assertArrayEquals(new float[] {1, 2, 3, 2, 4, 6}, outer.toFloatArray());
        Tensor half = Tensor.of(new float[] {2});
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 2, 2.5f, 3}, f32(new Op.Binary(BinaryFn.DIV), shape(2, 3), a, half).toFloatArray());
        assertArrayEquals(new float[] {2, 1, 2f / 3, 0.5f, 0.4f, 2f / 6}, f32(new Op.Binary(BinaryFn.DIV), shape(2, 3), half, a).toFloatArray());
    }

    @Test
    void binaryOverLoopTailSizes() {
        for (int n : new int[] {1, 13, 25, 207}) {
            float[] x = new float[n], y = new float[n], sum = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = i * 0.37f - 3;
                y[i] = 1.5f - i * 0.11f;
                sum[i] = x[i] + y[i];
            }
            assertArrayEquals(sum, f32(new Op.Binary(BinaryFn.ADD), shape(n), Tensor.of(x, n), Tensor.of(y, n)).toFloatArray());
        }
    }

    private static float[] floats(BinaryFn fn, float[] a, float[] b) {
        return f32(new Op.Binary(fn), shape(a.length), Tensor.of(a, a.length), Tensor.of(b, b.length)).toFloatArray();
    }

    private static int[] ints(BinaryFn fn, int[] a, int[] b) {
        return i32(new Op.Binary(fn), shape(a.length), Tensor.ofInts(a, a.length), Tensor.ofInts(b, b.length)).toIntArray();
    }

    @Test
    void floatModFollowsTheDivisorsSignAndPowMaxMin() {
        float[] a = {-7, 7, 5.5f, 7, -7}, b = {3, -3, 2, 3, -3};
        assertArrayEquals(new float[] {2, -2, 1.5f, 1, -1}, floats(BinaryFn.MOD, a, b));
        assertTrue(Float.isNaN(floats(BinaryFn.MOD, new float[] {1}, new float[] {0})[0]));
        assertArrayEquals(new float[] {1024, 3, 0.25f}, floats(BinaryFn.POW, new float[] {2, 9, 2}, new float[] {10, 0.5f, -2}));
        assertArrayEquals(new float[] {3, 7, 5.5f, 7, -3}, floats(BinaryFn.MAX, a, b));
        assertArrayEquals(new float[] {-7, -3, 2, 3, -7}, floats(BinaryFn.MIN, a, b));
        assertTrue(Float.isNaN(floats(BinaryFn.MAX, new float[] {Float.NaN}, new float[] {1})[0]), "max propagates NaN");
    }

    @Test
    void intDivisionFloorsAndModTakesTheDivisorsSign() {
        int[] a = {-7, 7, -7, 7, 6}, b = {2, -2, -2, 2, 3};
        assertArrayEquals(new int[] {-4, -4, 3, 3, 2}, ints(BinaryFn.DIV, a, b));
        assertArrayEquals(new int[] {1, -1, -1, 1, 0}, ints(BinaryFn.MOD, a, b));
        assertArrayEquals(new int[] {81, 1, -8}, ints(BinaryFn.POW, new int[] {3, 5, -2}, new int[] {4, 0, 3}));
        assertArrayEquals(new int[] {Integer.MIN_VALUE}, ints(BinaryFn.ADD, new int[] {Integer.MAX_VALUE}, new int[] {1}), "wraps");
        assertThrows(ArithmeticException.class, () -> ints(BinaryFn.DIV, new int[] {1}, new int[] {0}));
        assertThrows(ArithmeticException.class, () -> ints(BinaryFn.MOD, new int[] {1}, new int[] {0}));
        assertThrows(ArithmeticException.class, () -> ints(BinaryFn.POW, new int[] {2}, new int[] {-1}));
    }

    @Test
    void comparisonsGiveOneOrZeroInTheInputType() {
        float[] a = {1, 2, 3, Float.NaN}, b = {2, 2, 2, Float.NaN};
        assertArrayEquals(new float[] {0, 1, 0, 0}, floats(BinaryFn.EQ, a, b));
        assertArrayEquals(new float[] {1, 0, 1, 1}, floats(BinaryFn.NE, a, b));
        assertArrayEquals(new float[] {1, 0, 0, 0}, floats(BinaryFn.LT, a, b));
        assertArrayEquals(new float[] {1, 1, 0, 0}, floats(BinaryFn.LE, a, b));
        assertArrayEquals(new float[] {0, 0, 1, 0}, floats(BinaryFn.GT, a, b));
        assertArrayEquals(new float[] {0, 1, 1, 0}, floats(BinaryFn.GE, a, b));
        assertArrayEquals(new int[] {0, 1, 1}, ints(BinaryFn.GE, new int[] {1, 2, 3}, new int[] {2, 2, 2}));
    }

    @Test
    void whereBroadcastsAllThree() {
        Tensor cond = Tensor.ofInts(new int[] {1, 0}, 2, 1);
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {-1});
        assertArrayEquals(new float[] {1, 2, 3, -1, -1, -1}, f32(new Op.Where(), shape(2, 3), cond, a, b).toFloatArray());
        Tensor fcond = Tensor.of(new float[] {0, Float.NaN, -0f, 2}, 4);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 4), y = Tensor.of(new float[] {9, 9, 9, 9}, 4);
        assertArrayEquals(new float[] {9, 2, 9, 4}, f32(new Op.Where(), shape(4), fcond, x, y).toFloatArray());
        Tensor ia = Tensor.ofInts(new int[] {5, 6}, 2), ib = Tensor.ofInts(new int[] {7}, 1);
        assertArrayEquals(new int[] {5, 7}, i32(new Op.Where(), shape(2), Tensor.ofInts(new int[] {3, 0}, 2), ia, ib).toIntArray());
    }

    @Test
    void castTruncatesTowardZero() {
        Tensor x = Tensor.of(new float[] {-1.7f, 1.7f, 2.5f, -0.5f, Float.NaN, 3e10f}, 6);
        assertArrayEquals(new int[] {-1, 1, 2, 0, 0, Integer.MAX_VALUE}, i32(new Op.Cast(DType.I32), shape(6), x).toIntArray());
        Tensor i = Tensor.ofInts(new int[] {-3, 16777217}, 2);
        assertArrayEquals(new float[] {-3, 16777216}, f32(new Op.Cast(DType.F32), shape(2), i).toFloatArray());
        assertClose(new float[] {1.5f}, f32(new Op.StopGradient(), shape(1), Tensor.of(new float[] {1.5f}, 1)).toFloatArray(), 0);
    }
}
