package mobyc.compiler.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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

/** Structure of fold-transposes and epilogues (their numbers: runtime's GemmPassesSemanticsTest). */
class GemmPassesTest {
    static final Dim B = Dim.sym("B");

    /** x @ transpose(w) + b: a Linear as the front end writes it. */
    static Graph linear(boolean transposeReadTwice) {
        GraphBuilder b = new GraphBuilder("linear");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(5), Dim.of(8)));
        Node w = b.param("w", DType.F32, Shape.of(6, 8), new Init.Zeros());
        Node c = b.param("c", DType.F32, Shape.of(6), new Init.Zeros());
        Node wt = b.permute(w, 1, 0);
        b.output("y", b.add(b.matmul(x, wt), c));
        if (transposeReadTwice) b.output("wt", wt);
        return b.build();
    }

    private static List<Node> of(Graph g, Class<? extends Op> kind) {
        return g.nodes().stream().filter(n -> kind.isInstance(n.op())).toList();
    }

    @Test
    void transposeFoldsIntoTheGemmAndTheBiasIntoItsEpilogue() {
        Graph g = Verifier.verify(Epilogues.run(MatMulFolding.run(linear(false))));
        assertEquals("""
                graph linear {
                  %0 = input x : f32[B, 5, 8]
                  %1 = param w : f32[6, 8] init zeros()
                  %2 = param c : f32[6] init zeros()
                  %3 = matmul %0, %1, %2 {transB} : f32[B, 5, 6]
                  output y = %3
                }
                """, g.toString());
    }

    @Test
    void aTransposeReadElsewhereStaysButTheGemmStillReadsTheStoredMatrix() {
        Graph g = Verifier.verify(MatMulFolding.run(linear(true)));
        assertEquals(1, of(g, Op.Permute.class).size(), "the output still needs the transposed copy");
        Node mm = of(g, Op.MatMul.class).getFirst();
        assertTrue(((Op.MatMul) mm.op()).transB());
        assertTrue(mm.input(1).op() instanceof Op.Param);
    }

    /** transpose(x^T @ dy): a weight's gradient as autodiff writes it; {@code alsoOutput} makes the product read twice. */
    static Graph transposedProduct(boolean alsoOutput) {
        GraphBuilder b = new GraphBuilder("wgrad");
        Node x = b.input("x", DType.F32, Shape.of(10, 8));
        Node dy = b.input("dy", DType.F32, Shape.of(10, 6));
        Node p = b.matmul(b.permute(x, 1, 0), dy);
        b.output("dw", b.permute(p, 1, 0));
        if (alsoOutput) b.output("p", p);
        return b.build();
    }

    @Test
    void aTransposedProductIsTheProductOfTheTransposesSwapped() {
        Graph g = Verifier.verify(MatMulFolding.run(transposedProduct(false)));
        assertEquals("""
                graph wgrad {
                  %0 = input x : f32[10, 8]
                  %1 = input dy : f32[10, 6]
                  %2 = matmul %1, %0 {transA} : f32[6, 8]
                  output dw = %2
                }
                """, g.toString());
    }

    @Test
    void aTransposeOfAProductReadElsewhereStays() {
        Graph g = Verifier.verify(MatMulFolding.run(transposedProduct(true)));
        assertEquals(1, of(g, Op.Permute.class).size(), "the product is an output too: its transpose is a copy");
        assertEquals(1, of(g, Op.MatMul.class).size());
    }

    @Test
    void aSkipGradientFoldsIntoTheLayerNormGradientOfItsExactShapeOnly() {
        GraphBuilder b = new GraphBuilder("skip");
        Node x = b.input("x", DType.F32, Shape.of(4, 8)), g = b.input("g", DType.F32, Shape.of(4, 8));
        Node w = b.param("w", DType.F32, Shape.of(8), new Init.Zeros());
        Node row = b.input("row", DType.F32, Shape.of(8));
        b.output("dx", b.add(g, b.add(new Op.LayerNormGrad(1e-5), List.of(x, w, g), null, null)));
        b.output("widened", b.add(b.add(new Op.LayerNormGrad(1e-5), List.of(x, w, g), null, null), row));
        Graph folded = Verifier.verify(Epilogues.run(b.build()));
        assertEquals("""
                graph skip {
                  %0 = input x : f32[4, 8]
                  %1 = input g : f32[4, 8]
                  %2 = param w : f32[8] init zeros()
                  %3 = input row : f32[8]
                  %4 = layer_norm_grad %0, %2, %1, %1 {eps=1e-5} : f32[4, 8]
                  %5 = layer_norm_grad %0, %2, %1 {eps=1e-5} : f32[4, 8]
                  %6 = add %5, %3 : f32[4, 8]
                  output dx = %4
                  output widened = %6
                }
                """, folded.toString());
    }

    @Test
    void aProductReadTwiceKeepsItsAdd() {
        GraphBuilder b = new GraphBuilder("twice");
        Node x = b.input("x", DType.F32, Shape.of(4, 8));
        Node w = b.param("w", DType.F32, Shape.of(8, 3), new Init.Zeros());
        Node c = b.param("c", DType.F32, Shape.of(3), new Init.Zeros());
        Node p = b.matmul(x, w);
        b.output("y", b.add(p, c));
        b.output("p", p);
        Graph g = b.build();
        assertSame(g, Epilogues.run(g), "the product is an output: nothing to fold");
    }

    @Test
    void anAddThatWidensTheProductIsLeftAlone() {
        GraphBuilder b = new GraphBuilder("widen");
        Node x = b.input("x", DType.F32, Shape.of(1, 8));
        Node w = b.param("w", DType.F32, Shape.of(8, 3), new Init.Zeros());
        Node c = b.input("c", DType.F32, Shape.of(4, 3));
        b.output("y", b.add(b.matmul(x, w), c)); // [1, 3] + [4, 3] -> [4, 3]
        Graph g = b.build();
        assertSame(g, Epilogues.run(g));
    }

    @Test
    void deadCodeDropsUnreadNodesButKeepsSources() {
        GraphBuilder b = new GraphBuilder("dead");
        Node x = b.input("x", DType.F32, Shape.of(3));
        Node unused = b.param("u", DType.F32, Shape.of(3), new Init.Zeros());
        b.unary(Op.UnaryFn.EXP, x); // read by nobody
        b.output("y", b.unary(Op.UnaryFn.NEG, x));
        Graph g = DeadCode.run(b.build());
        assertEquals(3, g.nodes().size());
        assertTrue(g.params().stream().anyMatch(n -> n.op() instanceof Op.Param p && p.path().equals("u")), unused.toString());
    }

    /** gelu(x @ w^T + c), the pre-activation also an output when {@code preAlsoOutput}. */
    static Graph mlpHead(boolean preAlsoOutput) {
        GraphBuilder b = new GraphBuilder("fc1");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(8)));
        Node w = b.param("w", DType.F32, Shape.of(6, 8), new Init.Zeros());
        Node c = b.param("c", DType.F32, Shape.of(6), new Init.Zeros());
        Node pre = b.add(b.matmul(x, b.permute(w, 1, 0)), c);
        b.output("y", b.unary(Op.UnaryFn.GELU, pre));
        if (preAlsoOutput) b.output("pre", pre);
        return b.build();
    }

    @Test
    void aGeluFoldsIntoTheGemmWhoseProductNothingElseReads() {
        Graph g = Verifier.verify(Activations.run(Epilogues.run(MatMulFolding.run(mlpHead(false)))));
        assertEquals("""
                graph fc1 {
                  %0 = input x : f32[B, 8]
                  %1 = param w : f32[6, 8] init zeros()
                  %2 = param c : f32[6] init zeros()
                  %3 = matmul %0, %1, %2 {transB, gelu} : f32[B, 6]
                  output y = %3
                }
                """, g.toString());
    }

    @Test
    void aProductReadElsewhereKeepsItsGelu() {
        Graph g = Verifier.verify(Activations.run(Epilogues.run(MatMulFolding.run(mlpHead(true)))));
        assertEquals(1, of(g, Op.Unary.class).size(), "the pre-activation is an output: the gelu stays");
        assertTrue(of(g, Op.MatMul.class).stream().allMatch(n -> ((Op.MatMul) n.op()).activation() == Op.Activation.NONE));
        Graph plain = Verifier.verify(Epilogues.run(MatMulFolding.run(mlpHead(true))));
        assertSame(plain, Activations.run(plain), "nothing to fold: the same graph back");
    }

    @Test
    void aProductWithAnActivationHasNoGradientRule() {
        Graph g = Activations.run(Epilogues.run(MatMulFolding.run(mlpHead(false))));
        GraphBuilder b = new GraphBuilder("loss");
        java.util.Map<Node, Node> map = new java.util.HashMap<>();
        for (Node n : g.nodes()) map.put(n, b.copy(n, n.inputs().stream().map(map::get).toList()));
        b.output("loss", b.reduce(Op.ReduceFn.SUM, map.get(g.outputs().get("y")), new int[] {0, 1}, false));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> mobyc.compiler.autodiff.Autodiff.differentiate(b.build(), "loss"));
        assertTrue(e.getMessage().contains("GELU"), e.getMessage());
    }

    /** dgelu(h) * (g @ w): the gradient through a GELU, the dgelu read elsewhere too when {@code dgeluAlsoOutput}. */
    static Graph geluGradient(boolean dgeluAlsoOutput) {
        GraphBuilder b = new GraphBuilder("dgelu");
        Node g = b.input("g", DType.F32, Shape.of(B, Dim.of(8)));
        Node h = b.input("h", DType.F32, Shape.of(B, Dim.of(6)));
        Node w = b.param("w", DType.F32, Shape.of(8, 6), new Init.Zeros());
        Node d = b.unary(Op.UnaryFn.DGELU, h);
        b.output("gh", b.mul(b.matmul(g, w), d));
        if (dgeluAlsoOutput) b.output("d", d);
        return b.build();
    }

    @Test
    void theGradientThroughAGeluFoldsIntoTheGemmAsAGate() {
        Graph g = Verifier.verify(Activations.run(geluGradient(false)));
        assertEquals("""
                graph dgelu {
                  %0 = input g : f32[B, 8]
                  %1 = input h : f32[B, 6]
                  %2 = param w : f32[8, 6] init zeros()
                  %3 = matmul %0, %2, %1 {dgelu_gate} : f32[B, 6]
                  output gh = %3
                }
                """, g.toString());
        Graph kept = Verifier.verify(Activations.run(geluGradient(true)));
        assertEquals(1, of(kept, Op.Binary.class).size(), "the dgelu is an output: the mul stays");
    }

    @Test
    void aGateOfAnotherShapeIsRejected() {
        GraphBuilder b = new GraphBuilder("bad");
        Node x = b.input("x", DType.F32, Shape.of(4, 8));
        Node w = b.input("w", DType.F32, Shape.of(8, 6));
        Node gate = b.input("gate", DType.F32, Shape.of(1, 6));
        mobyc.compiler.ir.ShapeException e = org.junit.jupiter.api.Assertions.assertThrows(mobyc.compiler.ir.ShapeException.class,
                () -> b.add(new Op.MatMul(false, false, Op.Activation.DGELU_GATE), List.of(x, w, gate), null, null));
        assertTrue(e.getMessage().contains("gate"), e.getMessage());
    }

    /**
     * r + (x @ w^T + c), or r + s * (x @ w^T + c) with s [B, 1] when {@code scaled} (stochastic depth): a residual
     * block's skip connection; {@code scaleShape} overrides s's shape.
     */
    static Graph residual(boolean scaled, Shape scaleShape) {
        GraphBuilder b = new GraphBuilder("block");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(8)));
        Node r = b.input("r", DType.F32, Shape.of(B, Dim.of(6)));
        Node w = b.param("w", DType.F32, Shape.of(6, 8), new Init.Zeros());
        Node c = b.param("c", DType.F32, Shape.of(6), new Init.Zeros());
        Node y = b.add(b.matmul(x, b.permute(w, 1, 0)), c);
        if (scaled) y = b.mul(b.input("s", DType.F32, scaleShape), y);
        b.output("y", b.add(r, y));
        return b.build();
    }

    @Test
    void aSkipConnectionFoldsIntoTheGemmAfterItsBias() {
        Graph g = Verifier.verify(Activations.run(Epilogues.run(MatMulFolding.run(residual(false, null)))));
        assertEquals("""
                graph block {
                  %0 = input x : f32[B, 8]
                  %1 = input r : f32[B, 6]
                  %2 = param w : f32[6, 8] init zeros()
                  %3 = param c : f32[6] init zeros()
                  %4 = matmul %0, %2, %3, %1 {transB, residual} : f32[B, 6]
                  output y = %4
                }
                """, g.toString());
    }

    @Test
    void aSkipConnectionThroughStochasticDepthFoldsWithItsScale() {
        Graph g = Verifier.verify(Activations.run(Epilogues.run(MatMulFolding.run(residual(true, Shape.of(B, Dim.of(1)))))));
        assertEquals("""
                graph block {
                  %0 = input x : f32[B, 8]
                  %1 = input r : f32[B, 6]
                  %2 = param w : f32[6, 8] init zeros()
                  %3 = param c : f32[6] init zeros()
                  %4 = input s : f32[B, 1]
                  %5 = matmul %0, %2, %3, %4, %1 {transB, scaled_residual} : f32[B, 6]
                  output y = %5
                }
                """, g.toString());
        // a scale that varies along the features is not a sample's: the mul and add stay
        Graph perFeature = Verifier.verify(Activations.run(Epilogues.run(MatMulFolding.run(residual(true, Shape.of(B, Dim.of(6)))))));
        assertEquals(2, of(perFeature, Op.Binary.class).size(), perFeature.toString());
        assertTrue(of(perFeature, Op.MatMul.class).stream().allMatch(n -> ((Op.MatMul) n.op()).activation() == Op.Activation.NONE));
    }

    @Test
    void aScaleOrResidualOfAnotherShapeIsRejected() {
        GraphBuilder b = new GraphBuilder("bad");
        Node x = b.input("x", DType.F32, Shape.of(4, 8));
        Node w = b.input("w", DType.F32, Shape.of(8, 6));
        Node r = b.input("r", DType.F32, Shape.of(4, 6)), row = b.input("row", DType.F32, Shape.of(1, 6));
        Node s = b.input("s", DType.F32, Shape.of(4, 1)), wide = b.input("wide", DType.F32, Shape.of(4, 6));
        b.add(new Op.MatMul(false, false, Op.Activation.SCALED_RESIDUAL), List.of(x, w, s, r), null, null); // fine
        mobyc.compiler.ir.ShapeException e = org.junit.jupiter.api.Assertions.assertThrows(mobyc.compiler.ir.ShapeException.class,
                () -> b.add(new Op.MatMul(false, false, Op.Activation.RESIDUAL), List.of(x, w, row), null, null));
        assertTrue(e.getMessage().contains("residual"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(mobyc.compiler.ir.ShapeException.class,
                () -> b.add(new Op.MatMul(false, false, Op.Activation.SCALED_RESIDUAL), List.of(x, w, wide, r), null, null));
        assertTrue(e.getMessage().contains("scale"), e.getMessage());
    }

    /**
     * A parameter gradient emitted before the input gradient of the same norm (as in a residual block, whose input
     * gradient waits for the skip's): norm-grad-order emits it, and its readers, after its partner.
     */
    @Test
    void aNormsParameterGradientIsOrderedAfterItsInputGradient() {
        GraphBuilder b = new GraphBuilder("ln");
        Node x = b.input("x", DType.F32, Shape.of(4, 6));
        Node g = b.input("g", DType.F32, Shape.of(4, 6));
        Node w = b.param("w", DType.F32, Shape.of(6), new Init.Zeros());
        Node p = b.add(new Op.LayerNormParamGrad(1e-5), List.of(x, g), null, null);
        b.output("dw", b.slice(p, 0, 0, 1, 1));
        Node skip = b.unary(Op.UnaryFn.NEG, g);
        b.output("dx", b.add(new Op.LayerNormGrad(1e-5), List.of(x, w, g, skip), null, null));
        Graph before = Verifier.verify(b.build());
        Graph after = Verifier.verify(NormGradOrder.run(before));
        assertEquals("""
                graph ln {
                  %0 = input x : f32[4, 6]
                  %1 = input g : f32[4, 6]
                  %2 = param w : f32[6] init zeros()
                  %3 = neg %1 : f32[4, 6]
                  %4 = layer_norm_grad %0, %2, %1, %3 {eps=1e-5} : f32[4, 6]
                  %5 = layer_norm_param_grad %0, %1 {eps=1e-5} : f32[2, 6]
                  %6 = slice %5 {axis=0, 0:1} : f32[1, 6]
                  output dw = %6
                  output dx = %4
                }
                """, after.toString());
        assertSame(after, NormGradOrder.run(after), "already in order: the same graph back");
    }
}
