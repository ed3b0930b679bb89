package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Init;
import org.junit.jupiter.api.Test;

class InitializersTest {
    private static float[] fill(Init init, long seed, String path, int n) {
        Tensor t = Tensor.zeros(DType.F32, n);
        Initializers.fill(t, init, seed, path);
        return t.toFloatArray();
    }

    @Test
    void constantInits() {
        assertArrayEquals(new float[] {0, 0, 0}, fill(new Init.Zeros(), 1, "a", 3));
        assertArrayEquals(new float[] {1, 1, 1}, fill(new Init.Ones(), 1, "a", 3));
        assertArrayEquals(new float[] {2.5f, 2.5f}, fill(new Init.Constant(2.5), 1, "a", 2));
        Tensor i = Tensor.zeros(DType.I32, 2);
        Initializers.fill(i, new Init.Constant(7), 1, "n");
        assertArrayEquals(new int[] {7, 7}, i.toIntArray());
    }

    @Test
    void sameSeedAndPathGiveTheSameValues() {
        Init init = new Init.Normal(0, 1);
        assertArrayEquals(fill(init, 5, "blocks.0.fc1.weight", 64), fill(init, 5, "blocks.0.fc1.weight", 64));
        assertFalse(Arrays.equals(fill(init, 5, "blocks.0.fc1.weight", 64), fill(init, 5, "blocks.0.fc2.weight", 64)));
        assertFalse(Arrays.equals(fill(init, 5, "w", 64), fill(init, 6, "w", 64)));
        // element i does not depend on the tensor's size
        assertEquals(fill(init, 5, "w", 10)[3], fill(init, 5, "w", 1000)[3]);
    }

    @Test
    void streamIsFnv1aOfTheUtf8Path() {
        assertEquals(0xcbf29ce484222325L, Initializers.streamOf(""));
        assertEquals(0xaf63dc4c8601ec8cL, Initializers.streamOf("a"));
        assertEquals(0x85944171f73967e8L, Initializers.streamOf("foobar"));
    }

    @Test
    void uniformStaysInRange() {
        float[] v = fill(new Init.Uniform(-0.5, 2), 3, "u", 10_000);
        double sum = 0;
        for (float x : v) {
            assertTrue(x >= -0.5f && x <= 2f);
            sum += x;
        }
        assertEquals(0.75, sum / v.length, 0.03);
    }

    @Test
    void normalHasTheRequestedMoments() {
        float[] v = fill(new Init.Normal(1.0, 0.5), 3, "n", 20_000);
        assertEquals(1.0, mean(v), 0.015);
        assertEquals(0.5, std(v), 0.015);
    }

    @Test
    void truncNormalStaysInsideItsBoundsWithTheTruncatedMoments() {
        float[] v = fill(new Init.TruncNormal(0, 1, -2, 2), 11, "t", 40_000);
        for (float x : v) assertTrue(x >= -2f && x <= 2f, "value " + x);
        // standard normal truncated to [-2, 2]: mean 0, variance 1 - 4 phi(2) / (Phi(2) - Phi(-2)) = 0.773741
        assertEquals(0.0, mean(v), 0.015);
        assertEquals(Math.sqrt(0.7737413), std(v), 0.01);
        float[] skewed = fill(new Init.TruncNormal(0.5, 1, 0, 3), 11, "t", 40_000);
        for (float x : skewed) assertTrue(x >= 0f && x <= 3f, "value " + x);
    }

    @Test
    void truncNormalWithTheSwinDefaultsIsAnAlmostPlainNormal() {
        float[] v = fill(new Init.TruncNormal(0, 0.02, -2, 2), 1, "head.weight", 20_000);
        assertEquals(0.0, mean(v), 0.001);
        assertEquals(0.02, std(v), 0.0005);
        for (float x : v) assertTrue(Math.abs(x) < 0.2f);
    }

    @Test
    void largeTensorsAreFilledInParallelWithTheBitsOfOneLoop() {
        int n = 7 * (Initializers.CHUNK / 2 + 3); // several chunks and a ragged last one
        for (Init init : new Init[] {new Init.TruncNormal(0, 0.02, -2, 2), new Init.Normal(1, 0.5), new Init.Uniform(-1, 1),
                new Init.UnitNormal(0)}) {
            long[] shape = init instanceof Init.UnitNormal ? new long[] {n / 7, 7} : new long[] {n};
            Tensor shared = Tensor.zeros(DType.F32, shape);
            Initializers.fill(shared, init, 5, "p");
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) { // confined: filled on this thread alone
                Tensor serial = Tensor.over(arena.allocate(4L * n, 64), DType.F32, shape);
                Initializers.fill(serial, init, 5, "p");
                for (long i = 0; i < n; i++)
                    assertEquals(Float.floatToRawIntBits(serial.getFloat(i)), Float.floatToRawIntBits(shared.getFloat(i)), init + " element " + i);
            }
        }
    }

    @Test
    void randomInitsNeedFloats() {
        assertThrows(IllegalArgumentException.class, () -> Initializers.fill(Tensor.zeros(DType.I32, 2), new Init.Normal(0, 1), 1, "x"));
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return s / v.length;
    }

    private static double std(float[] v) {
        double m = mean(v), s = 0;
        for (float x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / v.length);
    }
}
