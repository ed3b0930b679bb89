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
import org.junit.jupiter.api.Test;

class CpuNormalizationsTest {
    /** Shapes and the axis normalised: last (tails, parallel rows), middle (strided), first. */
    private static final Object[][] AXES = {
        {shape(1, 1), -1}, {shape(3, 13), -1}, {shape(5, 25), 1}, {shape(4, 207), -1}, {shape(2, 4098), -1},
        {shape(300, 1030), -1}, {shape(64, 4097), 1}, {shape(2, 13, 25), 1}, {shape(3, 7, 4098), 1}, {shape(207, 3), 0}, {shape(2, 5, 3, 17), 1},
    };

    @Test
    void softmaxAndLogSoftmaxMatchInterp() {
        for (int c = 0; c < AXES.length; c++) {
            long[] s = (long[]) AXES[c][0];
            int axis = (int) AXES[c][1];
            Tensor x = randn(c, 5, s);
            long n = s[axis < 0 ? axis + s.length : axis];
            check("softmax " + Arrays.toString(s) + " axis " + axis, new Op.Softmax(axis), DType.F32, s, 1e-6, 1e-9, x);
            check("log_softmax " + Arrays.toString(s) + " axis " + axis, new Op.LogSoftmax(axis), DType.F32, s, 1e-6, Diff.forSum(n) * 1e-1, x);
        }
        Tensor special = Tensor.of(new float[] {1, Float.NEGATIVE_INFINITY, 2, 3, Float.NaN, 1, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 1000, -1000, 0}, 4, 3);
        check("softmax special", new Op.Softmax(-1), DType.F32, shape(4, 3), 1e-6, 1e-9, special);
        check("log_softmax special", new Op.LogSoftmax(-1), DType.F32, shape(4, 3), 1e-6, 1e-6, special);
    }

    @Test
    void layerNormMatchesInterp() {
        for (long[] s : new long[][] {shape(1, 1), shape(3, 13), shape(5, 25), shape(2, 3, 207), shape(3, 4098), shape(600, 384), shape(601, 48)}) {
            long c = s[s.length - 1];
            Tensor x = randn(c, 3, s), w = randn(c + 1, c), b = randn(c + 2, c);
            for (long i = 0; i < x.numel(); i += 2) x.setFloat(i, x.getFloat(i) + 50); // a mean far from 0
            check("layer_norm " + Arrays.toString(s), new Op.LayerNorm(1e-5), DType.F32, s, 2e-7, 1e-6, x, w, b);
        }
    }

    @Test
    void layerNormGradMatchesInterp() {
        for (long[] s : new long[][] {shape(1, 1), shape(3, 13), shape(2, 3, 207), shape(600, 48), shape(7, 384)}) {
            long c = s[s.length - 1];
            Tensor x = randn(c, 3, s), w = randn(c + 1, c), g = randn(c + 2, s);
            for (long i = 0; i < x.numel(); i += 2) x.setFloat(i, x.getFloat(i) + 50); // a mean far from 0
            check("layer_norm_grad " + Arrays.toString(s), new Op.LayerNormGrad(1e-5), DType.F32, s, 1e-6, 1e-6, x, w, g);
        }
    }

    /**
     * Rows summed {@link LayerNormRows#ROWS} at a time (rows of whole vectors, 512-bit vectors) give the bits each
     * row gets alone (one row is summed on its own): layer_norm and layer_norm_grad, row by row.
     */
    @Test
    void blockedRowsHaveTheBitsOfSingleRows() {
        for (int c : new int[] {48, 96, 16}) {
            long rows = 2 * LayerNormRows.ROWS + 3, n = c;
            Tensor x = randn(n, 3.0, rows, n), w = randn(n + 1, 1.0, n), b = randn(n + 2, 1.0, n), g = randn(n + 3, 1.0, rows, n);
            for (long i = 0; i < x.numel(); i += 2) x.setFloat(i, x.getFloat(i) + 50);
            Tensor y = Diff.cpu(new Op.LayerNorm(1e-5), DType.F32, shape(rows, c), x, w, b);
            Tensor dx = Diff.cpu(new Op.LayerNormGrad(1e-5), DType.F32, shape(rows, c), x, w, g);
            for (int r = 0; r < (int) rows; r++) {
                Tensor xr = row(x, r, c), gr = row(g, r, c);
                float[] alone = Diff.cpu(new Op.LayerNorm(1e-5), DType.F32, shape(1, c), xr, w, b).toFloatArray();
                float[] gradAlone = Diff.cpu(new Op.LayerNormGrad(1e-5), DType.F32, shape(1, c), xr, w, gr).toFloatArray();
                org.junit.jupiter.api.Assertions.assertArrayEquals(alone, row(y, r, c).toFloatArray(), "layer_norm c=" + c + " row " + r);
                org.junit.jupiter.api.Assertions.assertArrayEquals(gradAlone, row(dx, r, c).toFloatArray(), "layer_norm_grad c=" + c + " row " + r);
            }
        }
    }

    private static Tensor row(Tensor t, int r, int c) {
        float[] v = new float[c];
        for (int j = 0; j < c; j++) v[j] = t.getFloat((long) r * c + j);
        return Tensor.of(v, 1, c);
    }

    @Test
    void layerNormParamGradMatchesInterp() {
        // rows: fewer than one block, whole blocks of 64 and a partial last block; C with and without a vector tail
        for (long[] s : new long[][] {shape(1, 1), shape(3, 13), shape(2, 3, 207), shape(600, 48), shape(64, 2, 384), shape(130, 16)}) {
            long c = s[s.length - 1], rows = Arrays.stream(s).reduce(1, (p, q) -> p * q) / c;
            Tensor x = randn(c, 3, s), g = randn(c + 2, s);
            for (long i = 0; i < x.numel(); i += 2) x.setFloat(i, x.getFloat(i) + 50); // a mean far from 0
            check("layer_norm_param_grad " + Arrays.toString(s), new Op.LayerNormParamGrad(1e-5), DType.F32, shape(2, c),
                    Diff.forSum(rows), Diff.forSum(rows), x, g);
        }
    }

    @Test
    void batchNormMatchesInterpWithChannelsFirstAndLast() {
        Object[][] cases = {{shape(4, 13), 1}, {shape(25, 207), -1}, {shape(2, 13, 5, 7), 1}, {shape(3, 4, 4098), 1}, {shape(1, 1), 1}};
        for (Object[] c : cases) {
            long[] s = (long[]) c[0];
            int axis = (int) c[1];
            long ch = s[axis < 0 ? axis + s.length : axis];
            Tensor x = randn(ch, 2, s), mean = randn(ch + 1, ch), var = Diff.randint(ch, 10, ch), w = randn(ch + 3, ch), b = randn(ch + 4, ch);
            Tensor v = Tensor.zeros(DType.F32, ch);
            for (long i = 0; i < ch; i++) v.setFloat(i, var.getInt(i) * 0.3f + 0.01f);
            check("batch_norm " + Arrays.toString(s), new Op.BatchNorm(axis, 1e-5), DType.F32, s, 2e-7, 1e-7, x, mean, v, w, b);
        }
    }

    @Test
    void l2NormalizeMatchesInterp() {
        for (int c = 0; c < AXES.length; c++) {
            long[] s = (long[]) AXES[c][0];
            int axis = (int) AXES[c][1];
            Tensor x = randn(c, 2, s);
            check("l2_normalize " + Arrays.toString(s) + " axis " + axis, new Op.L2Normalize(axis, 1e-12), DType.F32, s, 2e-7, 1e-9, x);
        }
        check("l2_normalize zeros", new Op.L2Normalize(-1, 1e-6), DType.F32, shape(3, 20), 0, 0, Tensor.zeros(DType.F32, 3, 20));
    }

    @Test
    void crossEntropyMatchesInterpAndRefusesBadLabels() {
        for (long[] s : new long[][] {shape(1, 1), shape(13, 25), shape(25, 13), shape(4, 4098), shape(64, 4097), shape(512, 1000)}) {
            Tensor logits = randn(s[1], 4, s), labels = Diff.randint(s[0], (int) s[1], s[0]);
            check("cross_entropy " + Arrays.toString(s), new Op.CrossEntropy(), DType.F32, shape(s[0]), 1e-6, 1e-6, logits, labels);
        }
        Tensor bad = Tensor.ofInts(new int[] {0, 3}, 2);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Diff.cpu(new Op.CrossEntropy(), DType.F32, shape(2), randn(1, 2, 3), bad));
        assertEquals("cross_entropy: label 3 of example 1 is out of range [0, 3)", e.getMessage());
    }
}
