package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Diff.randn;
import static mobyc.runtime.cpu.Diff.shape;

import java.util.Arrays;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** matmul and conv2d (and its gradients) on every GEMM here (the chosen one, the scalar twin, a triple loop) against interp. */
class CpuContractionsTest {
    private static final Gemm[] GEMMS = {Gemms.best(), Gemms.scalar(), Diff.TRIPLE_LOOP};

    private static void check(String what, Op op, long[] out, long k, Tensor... in) {
        Tensor expected = Diff.interp(op, DType.F32, out, in);
        for (Gemm g : GEMMS)
            Diff.assertClose(what + " on " + g.name(), expected, Diff.cpu(g, op, DType.F32, out, in), Diff.forSum(k), Diff.forSum(k));
    }

    @Test
    void matmulMatchesInterpOverTails() {
        for (int m : new int[] {1, 13, 25, 207})
            for (int k : new int[] {1, 13, 207})
                for (int n : new int[] {1, 25, 207}) {
                    Tensor a = randn(m, m, k), b = randn(n + 7, k, n);
                    check("matmul " + m + "x" + k + "x" + n, new Op.MatMul(), shape(m, n), k, a, b);
                }
        check("matmul wide", new Op.MatMul(), shape(3, 4098), 40, randn(1, 3, 40), randn(2, 40, 4098));
    }

    @Test
    void batchedMatmulBroadcastsBatchAxes() {
        long[][][] cases = { // a, b, out
            {{2, 3, 13, 7}, {7, 25}, {2, 3, 13, 25}},
            {{13, 7}, {4, 7, 25}, {4, 13, 25}},
            {{2, 1, 13, 7}, {1, 3, 7, 25}, {2, 3, 13, 25}},
            {{3, 5, 9}, {3, 9, 4}, {3, 5, 4}},
            {{1, 5, 9}, {3, 9, 4}, {3, 5, 4}},
            {{4, 1, 1, 5, 9}, {2, 1, 9, 4}, {4, 2, 1, 5, 4}},
            {{2, 0, 3}, {3, 4}, {2, 0, 4}},
            {{2, 3, 0}, {0, 4}, {2, 3, 4}},
        };
        for (long[][] c : cases) {
            Tensor a = randn(1, c[0]), b = randn(2, c[1]);
            check("matmul " + Arrays.toString(c[0]) + " @ " + Arrays.toString(c[1]), new Op.MatMul(), c[2], c[0][c[0].length - 1], a, b);
        }
    }

    /**
     * The epilogue addend: a bias row ([n] or [1, n]: added by the GEMM as it stores C), a column or a full matrix
     * (written into C first), on a tall shared-weight product, on per-matrix products, and with k = 0.
     */
    @Test
    void matmulWithAnAddendMatchesInterp() {
        long[][][] cases = { // a, b, addend, out
            {{2, 3, 13, 7}, {7, 25}, {25}, {2, 3, 13, 25}},
            {{2, 3, 13, 7}, {7, 25}, {1, 25}, {2, 3, 13, 25}},
            {{2, 3, 13, 7}, {7, 25}, {13, 1}, {2, 3, 13, 25}},
            {{2, 3, 13, 7}, {7, 25}, {3, 13, 25}, {2, 3, 13, 25}},
            {{3, 5, 9}, {3, 9, 4}, {4}, {3, 5, 4}},
            {{300, 207}, {207, 50}, {50}, {300, 50}},
            {{2, 3, 0}, {0, 4}, {4}, {2, 3, 4}},
        };
        for (long[][] c : cases) {
            Tensor a = randn(1, c[0]), b = randn(2, c[1]), addend = randn(3, c[2]);
            check("matmul " + Arrays.toString(c[0]) + " @ " + Arrays.toString(c[1]) + " + " + Arrays.toString(c[2]),
                    new Op.MatMul(), c[3], c[0][c[0].length - 1] + 1, a, b, addend);
        }
        Tensor a = randn(4, 207, 30), b = randn(5, 40, 30), bias = randn(6, 40);
        check("matmul transB + bias", new Op.MatMul(false, true), shape(207, 40), 31, a, b, bias);
    }

    /** x shape, weight shape, stride, padding. */
    private static final long[][][] CONVS = {
        {{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1}, {0, 0}},
        {{2, 3, 13, 13}, {4, 3, 3, 3}, {1, 1}, {1, 1}},
        {{2, 3, 16, 16}, {8, 3, 4, 4}, {4, 4}, {0, 0}},
        {{1, 2, 25, 13}, {3, 2, 5, 3}, {2, 1}, {2, 0}},
        {{3, 4, 9, 11}, {5, 4, 3, 2}, {2, 3}, {1, 2}},
        {{1, 3, 7, 7}, {2, 3, 7, 7}, {1, 1}, {3, 3}},
        {{1, 1, 5, 5}, {1, 1, 3, 3}, {1, 1}, {4, 4}},
        {{37, 3, 8, 8}, {6, 3, 2, 2}, {2, 2}, {0, 0}}, // a patch embedding: images in parallel, the weight gradient in 16 uneven groups
    };

    private static long out(long in, long k, long stride, long pad) { return (in + 2 * pad - k) / stride + 1; }

    @Test
    void conv2dAndItsGradientsMatchInterp() {
        for (long[][] c : CONVS) {
            long[] xs = c[0], ws = c[1];
            int sh = (int) c[2][0], sw = (int) c[2][1], ph = (int) c[3][0], pw = (int) c[3][1];
            long[] ys = {xs[0], ws[0], out(xs[2], ws[2], sh, ph), out(xs[3], ws[3], sw, pw)};
            Tensor x = randn(1, xs), w = randn(2, ws), gy = randn(3, ys);
            String what = Arrays.toString(xs) + " * " + Arrays.toString(ws) + " stride " + sh + "," + sw + " pad " + ph + "," + pw;
            long patch = ws[1] * ws[2] * ws[3];
            check("conv2d " + what, new Op.Conv2d(sh, sw, ph, pw), ys, patch, x, w);
            check("conv2d_input_grad " + what, new Op.Conv2dInputGrad(sh, sw, ph, pw), xs, ws[0] * ws[2] * ws[3], gy, w);
            check("conv2d_weight_grad " + what, new Op.Conv2dWeightGrad(sh, sw, ph, pw), ws, xs[0] * ys[2] * ys[3], x, gy);
        }
    }
}
