package mobyc.runtime.interp;

import static mobyc.runtime.interp.Run.f32;
import static mobyc.runtime.interp.Run.i32;
import static mobyc.runtime.interp.Run.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class ContractionsTest {
    private static float[] iota(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i + 1) * scale;
        return v;
    }

    @Test
    void matmulByHand() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {7, 8, 9, 10, 11, 12}, 3, 2);
        assertArrayEquals(new float[] {58, 64, 139, 154}, f32(new Op.MatMul(), shape(2, 2), a, b).toFloatArray());
        Tensor ia = Tensor.ofInts(new int[] {1, 2, 3, 4, 5, 6}, 2, 3), ib = Tensor.ofInts(new int[] {7, 8, 9, 10, 11, 12}, 3, 2);
        assertArrayEquals(new int[] {58, 64, 139, 154}, i32(new Op.MatMul(), shape(2, 2), ia, ib).toIntArray());
    }

    @Test
    void matmulBroadcastsBatchAxes() {
        // a [2, 1, 2, 3] @ b [3, 3, 2] -> [2, 3, 2, 2]: a's batch (i, 0) pairs with b's batch j
        float[] av = iota(12, 0.5f), bv = iota(18, -0.25f);
        Tensor out = f32(new Op.MatMul(), shape(2, 3, 2, 2), Tensor.of(av, 2, 1, 2, 3), Tensor.of(bv, 3, 3, 2));
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int m = 0; m < 2; m++)
                    for (int n = 0; n < 2; n++) {
                        double s = 0;
                        for (int k = 0; k < 3; k++) s += av[i * 6 + m * 3 + k] * bv[j * 6 + k * 2 + n];
                        assertEquals((float) s, out.getFloat(((i * 3 + j) * 2 + m) * 2 + n));
                    }
        // a rank-2 weight shared by every batch entry
        Tensor x = Tensor.of(iota(8, 1), 2, 2, 2), w = Tensor.of(new float[] {1, 0, 0, 2}, 2, 2);
        assertArrayEquals(new float[] {1, 4, 3, 8, 5, 12, 7, 16}, f32(new Op.MatMul(), shape(2, 2, 2), x, w).toFloatArray());
    }

    @Test
    void matmulAccumulatesInDouble() {
        int k = 4098;
        float[] a = new float[k], b = new float[k];
        for (int i = 0; i < k; i++) {
            a[i] = i == 0 ? 1e8f : 1f;
            b[i] = 1f;
        }
        assertEquals((float) (1e8 + k - 1), f32(new Op.MatMul(), shape(1, 1), Tensor.of(a, 1, k), Tensor.of(b, k, 1)).getFloat(0));
    }

    @Test
    void conv2dWithStrideAndPadding() {
        Tensor x = Tensor.of(iota(9, 1), 1, 1, 3, 3);
        Tensor ones = Tensor.of(new float[] {1, 1, 1, 1}, 1, 1, 2, 2);
        assertArrayEquals(new float[] {12, 16, 24, 28}, f32(new Op.Conv2d(1, 1, 0, 0), shape(1, 1, 2, 2), x, ones).toFloatArray());
        assertArrayEquals(new float[] {1, 5, 11, 28}, f32(new Op.Conv2d(2, 2, 1, 1), shape(1, 1, 2, 2), x, ones).toFloatArray());
    }

    @Test
    void conv2dSumsOverInputChannelsPerOutputChannel() {
        // x [N=2, C=2, 2, 2]; weight [O=2, C=2, 1, 1]: output o = sum_c w[o, c] * x[n, c]
        float[] xv = iota(16, 1);
        Tensor w = Tensor.of(new float[] {1, 10, -1, 0.5f}, 2, 2, 1, 1);
        float[] out = f32(new Op.Conv2d(1, 1, 0, 0), shape(2, 2, 2, 2), Tensor.of(xv, 2, 2, 2, 2), w).toFloatArray();
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 4; p++) {
                float c0 = xv[n * 8 + p], c1 = xv[n * 8 + 4 + p];
                assertEquals(c0 + 10 * c1, out[n * 8 + p]);
                assertEquals(-c0 + 0.5f * c1, out[n * 8 + 4 + p]);
            }
    }
}
