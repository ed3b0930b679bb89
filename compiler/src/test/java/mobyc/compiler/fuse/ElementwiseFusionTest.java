package mobyc.compiler.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import mobyc.compiler.kernel.FusedKernel;
import mobyc.compiler.kernel.KernelInput;
import org.junit.jupiter.api.Test;

/** Structure of the graphs the elementwise fusion makes (their numbers are checked in runtime's FusedSemanticsTest). */
class ElementwiseFusionTest {
    static final Dim B = Dim.sym("B");

    private static List<Node> fused(Graph g) {
        return g.nodes().stream().filter(n -> n.op() instanceof Op.Fused).toList();
    }

    @Test
    void biasAndGeluChainBecomesOneKernel() {
        GraphBuilder b = new GraphBuilder("mlp");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(4), Dim.of(8)));
        Node w = b.param("w", DType.F32, Shape.of(8), new Init.Zeros());
        Node c = b.param("c", DType.F32, Shape.of(8), new Init.Zeros());
        b.output("y", b.unary(Op.UnaryFn.GELU, b.add(b.mul(x, w), c)));
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        assertEquals("""
                graph mlp {
                  %0 = input x : f32[B, 4, 8]
                  %1 = param w : f32[8] init zeros()
                  %2 = param c : f32[8] init zeros()
                  %3 = fused %0, %1, %2 {mul add gelu} : f32[B, 4, 8]
                  output y = %3
                }
                """, g.toString());
        FusedKernel k = ((Op.Fused) g.nodes().get(3).op()).kernel();
        assertEquals("""
                kernel f32[B, 4, 8] (in0: f32[B, 4, 8], in1: f32[8], in2: f32[8]) {
                  for i0 < B, i1 < 4, i2 < 8:
                    t0 = load in0[i0*32 + i1*8 + i2] : f32
                    t1 = load in1[i2] : f32
                    t2 = mul t0, t1 : f32
                    t3 = load in2[i2] : f32
                    t4 = add t2, t3 : f32
                    t5 = gelu t4 : f32
                    out[i0, i1, i2] = t5
                }
                """, k.toString());
        assertEquals(KernelInput.Access.SAME, k.inputs().get(0).access(k.shape()));
        assertEquals(KernelInput.Access.BROADCAST, k.inputs().get(1).access(k.shape()));
        assertEquals(1, k.inputs().get(1).innerStride());
    }

    @Test
    void aValueReadOutsideEndsTheGroupAsItsResult() {
        GraphBuilder b = new GraphBuilder("shared");
        Node x = b.input("x", DType.F32, Shape.of(6, 5));
        Node y = b.input("y", DType.F32, Shape.of(6, 5));
        Node s = b.add(b.mul(x, y), x);                       // read twice below: the result of its own kernel
        Node r = b.reduce(Op.ReduceFn.SUM, s, new int[] {1}, true);
        b.output("z", b.unary(Op.UnaryFn.EXP, b.sub(s, r)));
        b.output("s", s);
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        List<Node> f = fused(g);
        assertEquals(2, f.size(), g::toString);
        assertEquals("mul add", f.get(0).op().attrs());
        assertEquals("sub exp", f.get(1).op().attrs());
        assertSame(f.get(0), g.outputs().get("s"));
        assertSame(f.get(1), g.outputs().get("z"));
        assertEquals(List.of(f.get(0), g.nodes().get(f.get(1).id() - 1)), f.get(1).inputs()); // s and the reduction
        assertInstanceOf(Op.Reduce.class, f.get(1).input(1).op());
    }

    @Test
    void outputsAndUpdatesAreNeverFusedAway() {
        GraphBuilder b = new GraphBuilder("outs");
        Node x = b.input("x", DType.F32, Shape.of(3));
        Node st = b.state("m", DType.F32, Shape.of(3), new Init.Zeros());
        Node half = b.constant(0.5, DType.F32);
        Node a = b.unary(Op.UnaryFn.NEG, x);
        Node m = b.add(b.mul(st, half), b.mul(a, half));      // EMA-like: an update
        b.output("a", a);
        b.output("y", b.unary(Op.UnaryFn.TANH, a));
        b.update("m", m);
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        assertInstanceOf(Op.Unary.class, g.outputs().get("a").op(), g::toString); // a single op stays as it is
        assertInstanceOf(Op.Unary.class, g.outputs().get("y").op(), g::toString);
        Node u = g.updates().get("m");
        assertEquals("mul mul add", u.op().attrs(), g::toString);
        assertSame(g.outputs().get("a"), u.input(1));
        FusedKernel k = ((Op.Fused) u.op()).kernel();
        assertEquals(2, k.inputs().size());
        assertTrue(k.toString().contains("const 0.5"), k::toString);
        assertTrue(g.nodes().stream().noneMatch(n -> n.op() instanceof Op.Constant), g::toString); // folded in
    }

    @Test
    void expandReadOnlyByTheGroupBecomesABroadcastRead() {
        GraphBuilder b = new GraphBuilder("expand");
        Node x = b.input("x", DType.F32, Shape.of(4, 1));
        Node y = b.input("y", DType.F32, Shape.of(4, 7));
        Node e = b.expand(x, Shape.of(4, 7));
        Node keep = b.expand(x, Shape.of(4, 7));
        b.output("z", b.mul(b.add(e, y), y));
        b.output("e", keep);
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        Node z = g.outputs().get("z");
        assertEquals("add mul", z.op().attrs(), g::toString);
        assertSame(g.inputs().get(0), z.input(0)); // x itself, read with stride 0 along the rows
        FusedKernel k = ((Op.Fused) z.op()).kernel();
        assertEquals("i0", k.inputs().get(0).indexText());
        assertEquals(0, k.inputs().get(0).innerStride());
        assertInstanceOf(Op.Expand.class, g.outputs().get("e").op());
    }

    @Test
    void castsAndWhereAcrossDtypesFuseAndDifferentShapesDoNot() {
        GraphBuilder b = new GraphBuilder("mixed");
        Node i = b.input("i", DType.I32, Shape.of(5, 3));
        Node f = b.input("f", DType.F32, Shape.of(5, 3));
        Node cond = b.binary(Op.BinaryFn.LT, i, b.constant(2, DType.I32));
        Node w = b.where(cond, b.cast(i, DType.F32), f);
        Node row = b.reduce(Op.ReduceFn.MAX, w, new int[] {0}, false);   // [3]: another shape
        b.output("out", b.add(b.unary(Op.UnaryFn.ABS, row), b.constant(1, DType.F32)));
        b.output("w2", b.cast(b.mul(w, w), DType.I32));
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        assertEquals("abs add", g.outputs().get("out").op().attrs(), g::toString);
        assertEquals("lt cast where", g.nodes().stream().filter(n -> n.op() instanceof Op.Fused).findFirst().orElseThrow().op().attrs(), g::toString);
        assertEquals("mul cast", g.outputs().get("w2").op().attrs(), g::toString);
        assertEquals(DType.I32, g.outputs().get("w2").dtype());
    }

    @Test
    void nothingToFuseGivesTheSameGraph() {
        GraphBuilder b = new GraphBuilder("one");
        Node x = b.input("x", DType.F32, Shape.of(3));
        b.output("y", b.unary(Op.UnaryFn.EXP, x));
        Graph g = b.build();
        assertSame(g, ElementwiseFusion.run(g));
    }
}
