package mobyc.compiler.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import org.junit.jupiter.api.Test;

/** Structure of the cse pass (its numbers: runtime's CommonSubexpressionsSemanticsTest). */
class CommonSubexpressionsTest {
    static final Dim B = Dim.sym("B");

    /**
     * A batch variance written as BatchNorm's module writes it (the mean three times, (x - mean)^2 twice), and ops that
     * differ only in an attribute: axes arrays with equal contents are one op, other axes, another stream or keepdims
     * are not.
     */
    static Graph statistics() {
        GraphBuilder b = new GraphBuilder("stats");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(6)));
        Node mean = b.reduce(Op.ReduceFn.MEAN, x, new int[] {0}, false);
        Node d1 = b.sub(x, b.reduce(Op.ReduceFn.MEAN, x, new int[] {0}, true));
        Node var = b.reduce(Op.ReduceFn.MEAN, b.mul(d1, d1), new int[] {0}, false);
        Node d2 = b.sub(x, b.reduce(Op.ReduceFn.MEAN, x, new int[] {0}, true));
        Node unbiased = b.mul(b.reduce(Op.ReduceFn.MEAN, b.mul(d2, d2), new int[] {0}, false), b.constant(1.25, DType.F32));
        b.output("mean", mean);
        b.output("var", var);
        b.output("unbiased", unbiased);
        b.output("sum", b.reduce(Op.ReduceFn.SUM, x, new int[] {0}, false)); // another fn
        b.output("noise", b.add(b.random(Shape.of(Dim.of(6)), 1), b.random(Shape.of(Dim.of(6)), 2))); // two streams
        b.output("same", b.mul(b.random(Shape.of(Dim.of(6)), 1), b.constant(1.25, DType.F32))); // stream 1 again: the same numbers
        return b.build();
    }

    @Test
    void repeatsBecomeTheFirstAndDifferentAttributesStay() {
        Graph g = Verifier.verify(CommonSubexpressions.run(statistics()));
        assertEquals("""
                graph stats {
                  %0 = input x : f32[B, 6]
                  %1 = reduce_mean %0 {axes=[0]} : f32[6]
                  %2 = reduce_mean %0 {axes=[0], keepdims} : f32[1, 6]
                  %3 = sub %0, %2 : f32[B, 6]
                  %4 = mul %3, %3 : f32[B, 6]
                  %5 = reduce_mean %4 {axes=[0]} : f32[6]
                  %6 = const 1.25 : f32[]
                  %7 = mul %5, %6 : f32[6]
                  %8 = reduce_sum %0 {axes=[0]} : f32[6]
                  %9 = random stream=1 : f32[6]
                  %10 = random stream=2 : f32[6]
                  %11 = add %9, %10 : f32[6]
                  %12 = mul %9, %6 : f32[6]
                  output mean = %1
                  output var = %5
                  output unbiased = %7
                  output sum = %8
                  output noise = %11
                  output same = %12
                }
                """, g.toString());
    }

    /** Two outputs of the same expression stay two nodes (distinct buffers); an inner repeat of an output reads it. */
    @Test
    void outputsStayDistinct() {
        GraphBuilder b = new GraphBuilder("g");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        b.output("a", b.unary(Op.UnaryFn.NEG, x));
        b.output("b", b.unary(Op.UnaryFn.NEG, x));
        b.output("c", b.unary(Op.UnaryFn.EXP, b.unary(Op.UnaryFn.NEG, x)));
        assertEquals("""
                graph g {
                  %0 = input x : f32[B, 4]
                  %1 = neg %0 : f32[B, 4]
                  %2 = neg %0 : f32[B, 4]
                  %3 = exp %1 : f32[B, 4]
                  output a = %1
                  output b = %2
                  output c = %3
                }
                """, Verifier.verify(CommonSubexpressions.run(b.build())).toString());
    }

    @Test
    void aGraphWithoutRepeatsIsReturnedAsItIs() {
        GraphBuilder b = new GraphBuilder("g");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        b.output("y", b.unary(Op.UnaryFn.NEG, b.reduce(Op.ReduceFn.MEAN, x, new int[] {1}, true)));
        b.output("z", b.reduce(Op.ReduceFn.MEAN, x, new int[] {1}, false)); // keepdims differs
        Graph g = b.build();
        assertSame(g, CommonSubexpressions.run(g));
    }
}
