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

/** Structure of the identities pass (its numbers: runtime's IdentitiesSemanticsTest). */
class IdentitiesTest {
    static final Dim B = Dim.sym("B");

    /** Swin's pad-to-the-window / crop-back around a window op, at a size that needs no padding, plus real movement. */
    static Graph windowed() {
        GraphBuilder b = new GraphBuilder("windowed");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(8), Dim.of(8), Dim.of(4)));
        Node padded = b.pad(x, new long[] {0, 0, 0, 0}, new long[] {0, 0, 0, 0}, 0);
        Node shifted = b.roll(padded, new int[] {-8, 16}, new int[] {1, 2}); // whole turns
        Node y = b.unary(Op.UnaryFn.GELU, shifted);
        Node cropped = b.slice(b.slice(y, 1, 0, 8, 1), 2, 0, Long.MAX_VALUE, 1);
        Node same = b.permute(cropped, 0, 1, 2, 3);
        Node real = b.add(b.slice(same, 1, 0, 4, 1), b.roll(b.slice(same, 1, 4, 8, 1), new int[] {2}, new int[] {2}));
        b.output("y", real);
        b.output("kept", b.slice(x, 3, 0, 4, 1)); // an output itself: stays
        return b.build();
    }

    @Test
    void movementThatMovesNothingIsRemovedAndTheRestStays() {
        Graph g = Verifier.verify(Identities.run(windowed()));
        assertEquals("""
                graph windowed {
                  %0 = input x : f32[B, 8, 8, 4]
                  %1 = gelu %0 : f32[B, 8, 8, 4]
                  %2 = slice %1 {axis=1, 0:4} : f32[B, 4, 8, 4]
                  %3 = slice %1 {axis=1, 4:8} : f32[B, 4, 8, 4]
                  %4 = roll %3 {shifts=[2], axes=[2]} : f32[B, 4, 8, 4]
                  %5 = add %2, %4 : f32[B, 4, 8, 4]
                  %6 = slice %0 {axis=3, 0:4} : f32[B, 8, 8, 4]
                  output y = %5
                  output kept = %6
                }
                """, g.toString());
    }

    @Test
    void aPermuteOfUnitAxesBecomesAReshape() {
        GraphBuilder b = new GraphBuilder("g");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(1), Dim.of(4), Dim.of(1), Dim.of(4), Dim.of(3)));
        b.output("y", b.unary(Op.UnaryFn.NEG, b.permute(x, 0, 1, 3, 2, 4, 5)));
        b.output("z", b.unary(Op.UnaryFn.NEG, b.permute(x, 0, 4, 3, 2, 1, 5))); // moves the 4s: a real permute
        assertEquals("""
                graph g {
                  %0 = input x : f32[B, 1, 4, 1, 4, 3]
                  %1 = reshape %0 : f32[B, 1, 1, 4, 4, 3]
                  %2 = neg %1 : f32[B, 1, 1, 4, 4, 3]
                  %3 = permute %0 {[0, 4, 3, 2, 1, 5]} : f32[B, 4, 1, 4, 1, 3]
                  %4 = neg %3 : f32[B, 4, 1, 4, 1, 3]
                  output y = %2
                  output z = %4
                }
                """, Verifier.verify(Identities.run(b.build())).toString());
    }

    /**
     * After autodiff a stop_gradient is the identity: the EMA's read of a parameter through one reads the parameter
     * (no copy a step); one that is itself an output stays.
     */
    @Test
    void aStopGradientReadsItsOperand() {
        GraphBuilder b = new GraphBuilder("ema");
        Node p = b.param("p", DType.F32, Shape.of(4), new mobyc.compiler.ir.Init.Normal(0, 1));
        Node k = b.state("k", DType.F32, Shape.of(4), new mobyc.compiler.ir.Init.Copy("p"));
        b.update("k", b.add(b.mul(k, b.constant(0.99, DType.F32)), b.mul(b.stopGradient(p), b.constant(0.01, DType.F32))));
        b.output("detached", b.stopGradient(k));
        assertEquals("""
                graph ema {
                  %0 = param p : f32[4] init normal(mean=0, std=1)
                  %1 = state k : f32[4] init copy(p)
                  %2 = const 0.99 : f32[]
                  %3 = mul %1, %2 : f32[4]
                  %4 = const 0.01 : f32[]
                  %5 = mul %0, %4 : f32[4]
                  %6 = add %3, %5 : f32[4]
                  %7 = stop_gradient %1 : f32[4]
                  output detached = %7
                  update k := %6
                }
                """, Verifier.verify(Identities.run(b.build())).toString());
    }

    @Test
    void aGraphWithNothingToRemoveIsReturnedAsItIs() {
        GraphBuilder b = new GraphBuilder("g");
        Node x = b.input("x", DType.F32, Shape.of(B, Dim.of(8)));
        b.output("y", b.pad(b.slice(x, 1, 1, 8, 1), new long[] {0, 1}, new long[] {0, 0}, 0));
        Graph g = b.build();
        assertSame(g, Identities.run(g));
    }

    @Test
    void aRollByPartOfATurnOrAStridedSliceIsNotAnIdentity() {
        GraphBuilder b = new GraphBuilder("g");
        Node x = b.input("x", DType.F32, Shape.of(Dim.of(4), Dim.of(1)));
        Node r = b.roll(x, new int[] {3}, new int[] {0});
        Node s = b.slice(x, 1, 0, 1, 2); // step 2 over one element: same shape, still a slice op
        assertEquals(false, Identities.isIdentity(r));
        assertEquals(true, Identities.isIdentity(b.roll(x, new int[] {5}, new int[] {1})), "a roll over an axis of 1");
        assertEquals(false, Identities.isIdentity(s));
    }
}
