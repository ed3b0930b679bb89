package mobyc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder checks as it goes, shares sources by name, and freezes only what outputs and updates need. */
class GraphBuilderTest {
    static final Dim B = Dim.sym("B");

    @Test
    void sourcesAreSharedByName() {
        GraphBuilder g = new GraphBuilder("g");
        Node a = g.param("w", DType.F32, Shape.of(2), new Init.Zeros());
        assertSame(a, g.param("w", DType.F32, Shape.of(2), new Init.Ones()));
        var e = assertThrows(ShapeException.class, () -> g.param("w", DType.F32, Shape.of(3), new Init.Zeros()));
        assertEquals("param:w declared twice with different shapes: f32[2] and f32[3]", e.getMessage());
        // an input and a param may share a name: they are different sources
        assertFalse(a == g.input("w", DType.F32, Shape.of(2)));
    }

    @Test
    void identitiesAddNoNode() {
        GraphBuilder g = new GraphBuilder("g");
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        int n = g.size();
        assertSame(x, g.reshape(x, Shape.of(B, Dim.of(4))));
        assertSame(x, g.permute(x, 0, 1));
        assertSame(x, g.expand(x, x.shape()));
        assertSame(x, g.cast(x, DType.F32));
        assertSame(x, g.pad(x, new long[2], new long[2], 0));
        assertEquals(n, g.size());
    }

    @Test
    void dimensionsOutOfRangeAreRefused() {
        GraphBuilder g = new GraphBuilder("g");
        var e = assertThrows(ShapeException.class, () -> g.input("x", DType.F32, Shape.of(-1)));
        assertEquals("dimension -1 is out of range (0..1099511627776)", e.getMessage());
        e = assertThrows(ShapeException.class, () -> g.input("y", DType.F32, Shape.of(Dim.MAX + 1)));
        assertEquals("dimension 1099511627777 is out of range (0..1099511627776)", e.getMessage());
    }

    @Test
    void updatesAreCheckedAndBroadcast() {
        GraphBuilder g = new GraphBuilder("g");
        Node s = g.state("s", DType.F32, Shape.of(4), new Init.Zeros());
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        var e = assertThrows(ShapeException.class, () -> g.update("t", s));
        assertEquals("no state named t", e.getMessage());
        e = assertThrows(ShapeException.class, () -> g.update("s", x));
        assertEquals("state s has shape [4], the new value has [B, 4]", e.getMessage());
        g.update("s", g.constant(1, DType.F32));
        assertTrue(g.hasUpdate("s"));
        Graph built = g.build();
        Node v = built.updates().get("s");
        assertEquals("expand", v.op().name());
        assertEquals(Shape.of(4), v.shape());
        assertTrue(Verifier.check(built).isEmpty(), Verifier.check(built).toString());
    }

    @Test
    void buildDropsDeadNodesKeepsSourcesAndRenumbers() {
        GraphBuilder g = new GraphBuilder("g");
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        g.input("unused", DType.F32, Shape.of(3));
        g.unary(Op.UnaryFn.EXP, x);
        g.unary(Op.UnaryFn.TANH, x);
        g.output("y", g.unary(Op.UnaryFn.RELU, x));
        Graph built = g.build();
        assertEquals(3, built.nodes().size());
        assertEquals(List.of("input", "input", "relu"), built.nodes().stream().map(n -> n.op().name()).toList());
        for (int i = 0; i < built.nodes().size(); i++) assertEquals(i, built.nodes().get(i).id());
        assertSame(built.nodes().get(0), built.outputs().get("y").input(0));
        assertEquals(2, built.inputs().size());
        assertTrue(Verifier.check(built).isEmpty());
    }

    @Test
    void parameterCount() {
        GraphBuilder g = new GraphBuilder("g");
        g.param("a", DType.F32, Shape.of(3, 4), new Init.Zeros());
        g.param("b", DType.F32, Shape.of(4), new Init.Zeros());
        g.state("s", DType.F32, Shape.of(100), new Init.Zeros());
        assertEquals(16L, g.build().parameterCount());
        GraphBuilder h = new GraphBuilder("h");
        h.param("a", DType.F32, Shape.of(B), new Init.Zeros());
        assertNull(h.build().parameterCount());
    }
}
