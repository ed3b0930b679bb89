package mobyc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** FLOPs per op (fvcore's convention: a multiply-add is 2), symbolic in the batch. */
class FlopsTest {
    static final Dim B = Dim.sym("B"), M = Dim.sym("M"), K = Dim.sym("K"), N = Dim.sym("N");

    @Test
    void matmulIsTwoMNK() {
        GraphBuilder g = new GraphBuilder("g");
        Node a = g.input("a", DType.F32, Shape.of(B, M, K));
        Node b = g.input("b", DType.F32, Shape.of(K, N));
        assertEquals("2*B*K*M*N", Flops.of(g.matmul(a, b)).toString());

        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(3), Dim.of(4)));
        Node w = g.input("w", DType.F32, Shape.of(4, 5));
        Dim f = Flops.of(g.matmul(x, w));
        assertEquals("120*B", f.toString());
        assertEquals(2L * 7 * 3 * 5 * 4, f.evaluate(Map.of("B", 7L)));
    }

    @Test
    void batchedMatmulCountsTheBroadcastBatch() {
        GraphBuilder g = new GraphBuilder("g");
        Node q = g.input("q", DType.F32, Shape.of(B, Dim.of(2), Dim.of(16), Dim.of(8)));
        Node k = g.input("k", DType.F32, Shape.of(8, 16));
        assertEquals("8192*B", Flops.of(g.matmul(q, k)).toString()); // 2 * (B*2*16*16) * 8
    }

    @Test
    void otherOps() {
        GraphBuilder g = new GraphBuilder("g");
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(10)));
        Node y = g.unary(Op.UnaryFn.GELU, x);
        assertEquals("10*B", Flops.of(y).toString());
        assertEquals("10*B", Flops.of(g.add(x, y)).toString());
        assertEquals("30*B", Flops.of(g.softmax(x, -1)).toString());
        assertEquals("10*B", Flops.of(g.reduce(Op.ReduceFn.SUM, x, new int[] {1}, false)).toString());
        Node w = g.param("w", DType.F32, Shape.of(10), new Init.Ones());
        assertEquals("50*B", Flops.of(g.layerNorm(x, w, w, 1e-5)).toString());
        assertEquals("0", Flops.of(g.permute(x, 1, 0)).toString());
        assertEquals("0", Flops.of(g.reshape(x, Shape.of(Dim.of(10).times(B)))).toString());
        assertEquals("0", Flops.of(x).toString());
        Node img = g.input("img", DType.F32, Shape.of(B, Dim.of(3), Dim.of(8), Dim.of(8)));
        Node k = g.param("k", DType.F32, Shape.of(4, 3, 3, 3), new Init.Zeros());
        // out [B, 4, 8, 8] = 256*B elements, each 3*3*3 multiply-adds
        assertEquals("13824*B", Flops.of(g.conv2d(img, k, 1, 1, 1, 1)).toString());
    }

    @Test
    void graphTotalIsTheSum() {
        // tiny: matmul [B,4]@[4,8] = 64*B, add 8*B, gelu 8*B, layer_norm 40*B, step counter add 1
        assertEquals("120*B+1", PrinterTest.tiny().flops().toString());
    }
}
