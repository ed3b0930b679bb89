package mobyc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-made graphs with one defect each: the verifier names it. */
class VerifierTest {
    static final Dim B = Dim.sym("B");
    static final Op EXP = new Op.Unary(Op.UnaryFn.EXP);

    static Node input(int id, String name, Shape s) { return new Node(id, new Op.Input(name), List.of(), DType.F32, s, null); }

    static Graph graph(List<Node> nodes, Node out) {
        LinkedHashMap<String, Node> outs = new LinkedHashMap<>();
        if (out != null) outs.put("y", out);
        return new Graph("g", nodes, outs, new LinkedHashMap<>());
    }

    @Test
    void wellFormedGraphPasses() {
        Graph g = PrinterTest.tiny();
        assertEquals(List.of(), Verifier.check(g));
        assertSame(g, Verifier.verify(g));
    }

    @Test
    void wrongRecordedShape() {
        Node x = input(0, "x", Shape.of(2, 3));
        Node y = new Node(1, EXP, List.of(x), DType.F32, Shape.of(3, 2), null);
        assertEquals(List.of("%1: recorded f32[3, 2] but the rule gives f32[2, 3]"), Verifier.check(graph(List.of(x, y), y)));
    }

    @Test
    void wrongRecordedType() {
        Node x = input(0, "x", Shape.of(B));
        Node y = new Node(1, EXP, List.of(x), DType.I32, Shape.of(B), null);
        assertEquals(List.of("%1: recorded i32[B] but the rule gives f32[B]"), Verifier.check(graph(List.of(x, y), y)));
    }

    @Test
    void operandUsedBeforeDefinition() {
        Node x = input(0, "x", Shape.of(2));
        Node later = new Node(2, EXP, List.of(x), DType.F32, Shape.of(2), null);
        Node early = new Node(1, new Op.Unary(Op.UnaryFn.NEG), List.of(later), DType.F32, Shape.of(2), null);
        assertEquals(List.of("%1: operand %2 is not defined before use"), Verifier.check(graph(List.of(x, early, later), early)));
    }

    @Test
    void operandFromAnotherGraph() {
        Node x = input(0, "x", Shape.of(2));
        Node stranger = input(0, "x", Shape.of(2));
        Node y = new Node(1, EXP, List.of(stranger), DType.F32, Shape.of(2), null);
        assertEquals(List.of("%1: operand %0 is not defined before use"), Verifier.check(graph(List.of(x, y), y)));
    }

    @Test
    void updateOfUnknownState() {
        Node s = new Node(0, new Op.State("count", new Init.Zeros()), List.of(), DType.F32, Shape.of(1), null);
        Node v = new Node(1, EXP, List.of(s), DType.F32, Shape.of(1), null);
        LinkedHashMap<String, Node> ups = new LinkedHashMap<>();
        ups.put("cuont", v);
        Graph g = new Graph("g", List.of(s, v), new LinkedHashMap<>(), ups);
        assertEquals(List.of("update of unknown state cuont"), Verifier.check(g));
    }

    @Test
    void updateWithTheWrongShape() {
        Node s = new Node(0, new Op.State("ema", new Init.Zeros()), List.of(), DType.F32, Shape.of(4), null);
        Node x = input(1, "x", Shape.of(2));
        LinkedHashMap<String, Node> ups = new LinkedHashMap<>();
        ups.put("ema", x);
        Graph g = new Graph("g", List.of(s, x), new LinkedHashMap<>(), ups);
        assertEquals(List.of("update ema: f32[2] does not match the state's f32[4]"), Verifier.check(g));
    }

    @Test
    void outputsAndUpdatesMustBeNodesOfTheGraph() {
        Node x = input(0, "x", Shape.of(2));
        Node stranger = input(0, "z", Shape.of(2));
        assertEquals(List.of("output y is not a node of the graph"), Verifier.check(graph(List.of(x), stranger)));
    }

    @Test
    void idsSourcesAndShapeRules() {
        Node x = input(0, "x", Shape.of(2, 3));
        Node x2 = input(5, "x", Shape.of(2, 3));
        Node w = new Node(2, new Op.Param("w", new Init.Zeros()), List.of(), DType.F32, Shape.of(4, 5), null);
        Node mm = new Node(3, new Op.MatMul(), List.of(x, w), DType.F32, Shape.of(2, 5), null);
        assertEquals(List.of(
                "%5: id 5 at position 1",
                "%5: input x defined twice",
                "%3: matmul: inner dimensions differ: [2, 3] @ [4, 5]"), Verifier.check(graph(List.of(x, x2, w, mm), mm)));
    }

    @Test
    void verifyThrowsWithEveryProblem() {
        Node x = input(0, "x", Shape.of(2, 3));
        Node y = new Node(1, EXP, List.of(x), DType.F32, Shape.of(3, 2), null);
        var e = assertThrows(IllegalStateException.class, () -> Verifier.verify(graph(List.of(x, y), y)));
        assertEquals("invalid graph g:\n  %1: recorded f32[3, 2] but the rule gives f32[2, 3]", e.getMessage());
    }
}
