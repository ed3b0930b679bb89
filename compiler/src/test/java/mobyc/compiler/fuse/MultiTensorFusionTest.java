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

/** Structure of the graphs the multi-tensor pass makes (numbers: tests' MultiTensorMobyTest and runtime's MultiTensorKernelsTest). */
class MultiTensorFusionTest {
    /** The momentum update the DSL's ema_update builds: t * m + (1 - m) * stop_grad(p), written back to state t. */
    private static Node ema(GraphBuilder b, Node m, String path, Shape s) {
        Node t = b.state("k." + path, DType.F32, s, new Init.Zeros());
        Node p = b.param(path, DType.F32, s, new Init.Zeros());
        Node next = b.stopGradient(b.add(b.mul(m, t), b.mul(b.sub(b.constant(1, DType.F32), m), b.stopGradient(p))));
        b.update("k." + path, next);
        return next;
    }

    private static Graph passes(Graph g) {
        return Verifier.verify(MultiTensorFusion.run(Verifier.verify(ElementwiseFusion.run(g))));
    }

    @Test
    void emaUpdatesOfEveryParameterBecomeOneNode() {
        GraphBuilder b = new GraphBuilder("ema");
        Node m = b.input("m", DType.F32, Shape.SCALAR);
        ema(b, m, "w", Shape.of(2, 3));
        ema(b, m, "b", Shape.of(3));
        Graph g = passes(b.build());
        assertEquals("""
                graph ema {
                  %0 = input m : f32[]
                  %1 = state k.w : f32[2, 3] init zeros()
                  %2 = param w : f32[2, 3] init zeros()
                  %3 = const 1 : f32[]
                  %4 = sub %3, %0 : f32[]
                  %5 = stop_gradient %2 : f32[2, 3]
                  %6 = state k.b : f32[3] init zeros()
                  %7 = param b : f32[3] init zeros()
                  %8 = const 1 : f32[]
                  %9 = sub %8, %0 : f32[]
                  %10 = stop_gradient %7 : f32[3]
                  %11 = multi_tensor %0, %1, %4, %5, %0, %6, %9, %10 {n=2, mul mul add} : f32[9]
                  %12 = slice %11 {axis=0, 0:6} : f32[6]
                  %13 = reshape %12 : f32[2, 3]
                  %14 = slice %11 {axis=0, 6:9} : f32[3]
                  %15 = stop_gradient %13 : f32[2, 3]
                  %16 = stop_gradient %14 : f32[3]
                  update k.w := %15
                  update k.b := %16
                }
                """, g.toString());
    }

    @Test
    void kernelsWithAnotherBodyAreNotGrouped() {
        GraphBuilder b = new GraphBuilder("mixed");
        Node m = b.input("m", DType.F32, Shape.SCALAR);
        ema(b, m, "a", Shape.of(4));
        ema(b, m, "c", Shape.of(5));
        Node t = b.state("k.d", DType.F32, Shape.of(6), new Init.Zeros());
        Node p = b.param("d", DType.F32, Shape.of(6), new Init.Zeros());
        b.update("k.d", b.stopGradient(b.sub(b.mul(m, t), b.stopGradient(p)))); // t * m - p: another body
        Graph g = passes(b.build());
        assertEquals(1, count(g, "multi_tensor"));
        Op.MultiTensor mt = (Op.MultiTensor) g.nodes().stream().filter(n -> n.op() instanceof Op.MultiTensor).findFirst().orElseThrow().op();
        assertEquals(java.util.List.of(Shape.of(4), Shape.of(5)), mt.shapes());
        assertEquals(1, count(g, "fused"), g::toString);
    }

    @Test
    void aMemberThatReadsAnotherIsLeftForTheNextGroup() {
        GraphBuilder b = new GraphBuilder("chain");
        Node m = b.input("m", DType.F32, Shape.SCALAR);
        Node w1 = ema(b, m, "w", Shape.of(4));
        ema(b, m, "v", Shape.of(4));
        // a second update of another state from the first one's result: depends on a member of the first kind
        Node t = b.state("k2.w", DType.F32, Shape.of(4), new Init.Zeros());
        b.update("k2.w", b.stopGradient(b.add(b.mul(m, t), b.mul(b.sub(b.constant(1, DType.F32), m), w1))));
        Graph g = passes(b.build());
        assertEquals(1, count(g, "multi_tensor"), g::toString);
        assertEquals(1, count(g, "fused"), "the dependent update stays on its own: " + g);
        Node mt = g.nodes().stream().filter(n -> n.op() instanceof Op.MultiTensor).findFirst().orElseThrow();
        Node dependent = g.nodes().stream().filter(n -> n.op() instanceof Op.Fused).findFirst().orElseThrow();
        assertEquals(2, ((Op.MultiTensor) mt.op()).shapes().size());
        assertEquals(true, dependent.id() > mt.id(), "the reader comes after the packed node");

        // two such chained pairs: the first updates form one group, the updates that read them the next
        GraphBuilder b2 = new GraphBuilder("chain2");
        Node m2 = b2.input("m", DType.F32, Shape.SCALAR);
        for (String s : new String[] {"a", "c"}) {
            Node first = ema(b2, m2, s, Shape.of(3));
            Node t2 = b2.state("k2." + s, DType.F32, Shape.of(3), new Init.Zeros());
            b2.update("k2." + s, b2.stopGradient(b2.add(b2.mul(m2, t2), b2.mul(b2.sub(b2.constant(1, DType.F32), m2), first))));
        }
        Graph g2 = passes(b2.build());
        assertEquals(2, count(g2, "multi_tensor"), g2::toString);
        assertEquals(0, count(g2, "fused"), g2::toString);
    }

    @Test
    void batchDataOutputsAndBroadcastsAreLeftAlone() {
        GraphBuilder b = new GraphBuilder("other");
        Node x = b.input("x", DType.F32, Shape.of(Dim.of(2), Dim.of(4)));
        Node w = b.param("w", DType.F32, Shape.of(2, 4), new Init.Zeros());
        Node v = b.param("v", DType.F32, Shape.of(2, 4), new Init.Zeros());
        Node bias = b.param("bias", DType.F32, Shape.of(4), new Init.Zeros());
        b.output("y1", b.unary(Op.UnaryFn.GELU, b.mul(x, w)));          // reads per-batch data
        b.output("y2", b.unary(Op.UnaryFn.GELU, b.mul(x, v)));
        b.output("z1", b.unary(Op.UnaryFn.EXP, b.mul(w, v)));           // graph outputs
        b.output("z2", b.unary(Op.UnaryFn.EXP, b.mul(v, w)));
        Node q = b.param("q", DType.F32, Shape.of(2, 4), new Init.Zeros());
        b.output("s", b.add(b.unary(Op.UnaryFn.TANH, b.add(w, bias)), b.unary(Op.UnaryFn.TANH, b.add(q, bias)))); // broadcasts
        Graph fused = Verifier.verify(ElementwiseFusion.run(b.build()));
        assertSame(fused, MultiTensorFusion.run(fused));
    }

    private static long count(Graph g, String op) {
        return g.nodes().stream().filter(n -> n.op().name().equals(op)).count();
    }
}
