package mobyc.compiler.lower;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import org.junit.jupiter.api.Test;

/** Lowering binds sources to buffers and turns every other node into one kernel writing its own buffer. */
class LowerTest {
    static final Dim B = Dim.sym("B");

    static Graph small() {
        GraphBuilder g = new GraphBuilder("small");
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        Node w = g.param("w", DType.F32, Shape.of(4, 2), new Init.Zeros());
        Node s = g.state("count", DType.F32, Shape.of(1), new Init.Zeros());
        Node y = g.unary(Op.UnaryFn.RELU, g.matmul(x, w));
        g.output("y", y);
        g.update("count", g.add(s, g.constant(1, DType.F32)));
        return g.build();
    }

    @Test
    void buffersAndKernels() {
        Graph graph = small();
        Program p = Lower.lower(graph);
        assertSame(graph, p.graph());
        assertEquals(List.of(
                new Program.Buffer(0, Program.Kind.INPUT, "x", DType.F32, Shape.of(B, Dim.of(4))),
                new Program.Buffer(1, Program.Kind.PARAM, "w", DType.F32, Shape.of(4, 2)),
                new Program.Buffer(2, Program.Kind.STATE, "count", DType.F32, Shape.of(1)),
                new Program.Buffer(3, Program.Kind.TEMP, null, DType.F32, Shape.of(B, Dim.of(2))),
                new Program.Buffer(4, Program.Kind.TEMP, null, DType.F32, Shape.of(B, Dim.of(2))),
                new Program.Buffer(5, Program.Kind.TEMP, null, DType.F32, Shape.SCALAR),
                new Program.Buffer(6, Program.Kind.TEMP, null, DType.F32, Shape.of(1))), p.buffers());
        assertEquals(List.of(
                new Program.Kernel(new Op.MatMul(), List.of(0, 1), 3, 3),
                new Program.Kernel(new Op.Unary(Op.UnaryFn.RELU), List.of(3), 4, 4),
                new Program.Kernel(new Op.Constant(1), List.of(), 5, 5),
                new Program.Kernel(new Op.Binary(Op.BinaryFn.ADD), List.of(2, 5), 6, 6)), p.kernels());
        assertEquals(Map.of("y", 4), p.outputs());
        assertEquals(Map.of("count", 6), p.updates());
        assertEquals(Map.of("w", 1), p.bound(Program.Kind.PARAM));
        assertEquals(Map.of("x", 0), p.bound(Program.Kind.INPUT));
        assertEquals(Map.of("count", 2), p.bound(Program.Kind.STATE));
        assertNull(p.buffer(4).name());
    }

    @Test
    void kernelsReadOnlyEarlierBuffers() {
        Program p = Lower.lower(small());
        for (Program.Kernel k : p.kernels()) {
            for (int in : k.inputs()) assertEquals(true, in < k.output(), "kernel " + k + " reads a later buffer");
            assertEquals(Program.Kind.TEMP, p.buffer(k.output()).kind());
        }
    }

    @Test
    void sourcesOnlyGraphHasNoKernels() {
        GraphBuilder g = new GraphBuilder("id");
        Node x = g.input("x", DType.F32, Shape.of(3));
        g.output("y", x);
        Program p = Lower.lower(g.build());
        assertEquals(List.of(), p.kernels());
        assertEquals(1, p.buffers().size());
        assertEquals(Map.of("y", 0), p.outputs());
    }
}
