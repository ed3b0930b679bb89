package mobyc.compiler.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import org.junit.jupiter.api.Test;

/** Structure of the gelu-pairs pass (its numbers: runtime's GemmPassesSemanticsTest). */
class GeluPairsTest {
    static final Dim B = Dim.sym("B");

    /**
     * A trained MLP's GELU as autodiff leaves it: h = x @ w^T + c, y = gelu(h) @ v^T, and the gradient through the GELU,
     * (dy @ v) * dgelu(h); with h also an output when {@code hOutput}, and read by a reduction too when {@code hReadElsewhere}.
     */
    static Graph trained(boolean hOutput, boolean hReadElsewhere) {
        GraphBuilder b = new GraphBuilder("mlp");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(8)));
        Node dy = b.input("dy", DType.F32, Shape.of(B, Dim.of(4)));
        Node w = b.param("w", DType.F32, Shape.of(6, 8), new Init.Zeros());
        Node c = b.param("c", DType.F32, Shape.of(6), new Init.Zeros());
        Node v = b.param("v", DType.F32, Shape.of(4, 6), new Init.Zeros());
        Node h = b.add(b.matmul(x, b.permute(w, 1, 0)), c);
        b.output("y", b.matmul(b.unary(Op.UnaryFn.GELU, h), b.permute(v, 1, 0)));
        b.output("dh", b.mul(b.matmul(dy, v), b.unary(Op.UnaryFn.DGELU, h)));
        if (hOutput) b.output("h", h);
        if (hReadElsewhere) b.output("sum", b.reduce(Op.ReduceFn.SUM, h, new int[] {0, 1}, false));
        return b.build();
    }

    private static Graph upToActivations(Graph g) { return Verifier.verify(Activations.run(Epilogues.run(MatMulFolding.run(g)))); }

    @Test
    void theGeluProductGetsItsDerivativeBesideItAndTheBackwardAGate() {
        Graph g = Verifier.verify(GeluPairs.run(upToActivations(trained(false, false))));
        assertEquals("""
                graph mlp {
                  %0 = input x : f32[B, 8]
                  %1 = input dy : f32[B, 4]
                  %2 = param w : f32[6, 8] init zeros()
                  %3 = param c : f32[6] init zeros()
                  %4 = param v : f32[4, 6] init zeros()
                  %5 = matmul %0, %2, %3 {transB, gelu} : f32[B, 6]
                  %6 = matmul %0, %2, %3 {transB, dgelu} : f32[B, 6]
                  %7 = matmul %5, %4 {transB} : f32[B, 4]
                  %8 = matmul %1, %4, %6 {gate} : f32[B, 6]
                  output y = %7
                  output dh = %8
                }
                """, g.toString());
    }

    @Test
    void aPreActivationSomethingElseNeedsKeepsItsGeluAndItsDerivative() {
        for (boolean[] c : new boolean[][] {{true, false}, {false, true}}) {
            Graph before = upToActivations(trained(c[0], c[1]));
            assertSame(before, GeluPairs.run(before), "h output " + c[0] + ", read elsewhere " + c[1] + ": nothing to pair");
        }
    }

    @Test
    void aForwardOnlyGeluIsLeftToTheActivationsPass() {
        GraphBuilder b = new GraphBuilder("target");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(8)));
        Node w = b.param("w", DType.F32, Shape.of(8, 6), new Init.Zeros());
        b.output("y", b.unary(Op.UnaryFn.GELU, b.matmul(x, w)));
        Graph before = b.build();
        assertSame(before, GeluPairs.run(before), "no gradient reads the pre-activation: no derivative to compute");
    }
}
