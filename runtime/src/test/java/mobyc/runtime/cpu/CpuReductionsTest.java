package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Diff.check;
import static mobyc.runtime.cpu.Diff.randn;
import static mobyc.runtime.cpu.Diff.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class CpuReductionsTest {
    /** Input shape and reduced axes: the last, the first, the middle, several, all; tails and a parallel split. */
    private static final Object[][] CASES = {
        {shape(1), new int[] {0}},
        {shape(13), new int[] {0}},
        {shape(4098), new int[] {-1}},
        {shape(300_001), new int[] {0}},
        {shape(25, 207), new int[] {1}},
        {shape(207, 25), new int[] {0}},
        {shape(4098, 13), new int[] {0}},
        {shape(13, 4098), new int[] {0}},
        {shape(13, 4098), new int[] {1}},
        {shape(3, 25, 13), new int[] {1}},
        {shape(3, 25, 13), new int[] {0, 2}},
        {shape(2, 13, 5, 7), new int[] {0, 2, 3}},
        {shape(2, 13, 5, 7), new int[] {1, 3}},
        {shape(2, 1, 207), new int[] {1}},
        {shape(2, 3, 4), new int[] {0, 1, 2}},
        {shape(64, 70, 33), new int[] {0, 1}},
        {shape(128, 1030), new int[] {1}},
        // many rows into one: chunks of rows (bias gradients), whole and partial chunks, columns past the vectors
        {shape(2, 1100, 48), new int[] {0, 1}},
        {shape(3000, 5), new int[] {0}},
        {shape(1500, 2, 37), new int[] {0}},
    };

    @ParameterizedTest
    @EnumSource(Op.ReduceFn.class)
    void matchesInterpOverAxesAndTails(Op.ReduceFn fn) {
        for (int c = 0; c < CASES.length; c++) {
            long[] s = (long[]) CASES[c][0];
            int[] axes = (int[]) CASES[c][1];
            long count = 1;
            for (int a : axes) count *= s[a < 0 ? a + s.length : a];
            for (boolean keep : new boolean[] {false, true}) {
                long[] out = outShape(s, axes, keep);
                Tensor x = randn(c, 2, s);
                x.setFloat(0, x.getFloat(0) + 100); // a large element, so the sum cancels somewhat
                double tol = fn == Op.ReduceFn.MAX ? 0 : Diff.forSum(count);
                check(fn + " " + Arrays.toString(s) + " axes " + Arrays.toString(axes) + (keep ? " keep" : ""),
                        new Op.Reduce(fn, axes, keep), DType.F32, out, tol, tol, x);
            }
        }
    }

    private static long[] outShape(long[] s, int[] axes, boolean keep) {
        boolean[] r = new boolean[s.length];
        for (int a : axes) r[a < 0 ? a + s.length : a] = true;
        return java.util.stream.IntStream.range(0, s.length).filter(i -> keep || !r[i]).mapToLong(i -> r[i] ? 1 : s[i]).toArray();
    }

    @Test
    void maxPropagatesNaNAndEmptyAxesBehaveAsInterp() {
        Tensor x = randn(3, 4, 40);
        x.setFloat(45, Float.NaN);
        x.setFloat(150, Float.NaN);
        for (int[] axes : new int[][] {{1}, {0}, {0, 1}}) {
            long[] out = outShape(shape(4, 40), axes, false);
            check("max NaN " + Arrays.toString(axes), new Op.Reduce(Op.ReduceFn.MAX, axes, false), DType.F32, out, 0, 0, x);
            check("sum NaN " + Arrays.toString(axes), new Op.Reduce(Op.ReduceFn.SUM, axes, false), DType.F32, out, 1e-6, 1e-6, x);
        }
        Tensor empty = Tensor.zeros(DType.F32, 3, 0);
        check("sum over empty", new Op.Reduce(Op.ReduceFn.SUM, new int[] {1}, false), DType.F32, shape(3), 0, 0, empty);
        check("mean over empty", new Op.Reduce(Op.ReduceFn.MEAN, new int[] {1}, false), DType.F32, shape(3), 0, 0, empty);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Diff.cpu(new Op.Reduce(Op.ReduceFn.MAX, new int[] {1}, false), DType.F32, shape(3), empty));
        assertEquals("reduce_max over an empty axis of a tensor of shape [3, 0]", e.getMessage());
    }

    @Test
    void resultsDoNotDependOnTheNumberOfThreads() {
        Tensor x = randn(5, 1_000_003);
        Tensor a = Diff.cpu(new Op.Reduce(Op.ReduceFn.SUM, new int[] {0}, false), DType.F32, shape(), x);
        Tensor b = Diff.cpu(new Op.Reduce(Op.ReduceFn.SUM, new int[] {0}, false), DType.F32, shape(), x);
        assertEquals(Float.floatToRawIntBits(a.getFloat(0)), Float.floatToRawIntBits(b.getFloat(0)));
    }
}
