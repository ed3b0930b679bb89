package mobyc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The printed IR is stable text: one line per node, then outputs and state updates. */
class PrinterTest {
    static final Dim B = Dim.sym("B");

    /** x -> linear -> gelu -> layer_norm, and a step counter kept in state. */
    static Graph tiny() {
        GraphBuilder g = new GraphBuilder("tiny");
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(4)));
        Node w = g.param("fc.weight", DType.F32, Shape.of(8, 4), new Init.TruncNormal(0, 0.02, -2, 2));
        Node b = g.param("fc.bias", DType.F32, Shape.of(8), new Init.Zeros());
        Node nw = g.param("norm.weight", DType.F32, Shape.of(8), new Init.Ones());
        Node nb = g.param("norm.bias", DType.F32, Shape.of(8), new Init.Zeros());
        Node steps = g.state("steps", DType.F32, Shape.of(1), new Init.Constant(0.5));
        Node h = g.add(g.matmul(x, g.permute(w, 1, 0)), b);
        g.unary(Op.UnaryFn.EXP, h); // dead: dropped by build()
        Node y = g.layerNorm(g.unary(Op.UnaryFn.GELU, h), nw, nb, 1e-5);
        g.output("y", y);
        g.update("steps", g.add(steps, g.constant(1, DType.F32)));
        return g.build();
    }

    @Test
    void printsEveryNodeOutputAndUpdate() {
        String expected = """
                graph tiny {
                  %0 = input x : f32[B, 4]
                  %1 = param fc.weight : f32[8, 4] init trunc_normal(std=0.02, a=-2, b=2)
                  %2 = param fc.bias : f32[8] init zeros()
                  %3 = param norm.weight : f32[8] init ones()
                  %4 = param norm.bias : f32[8] init zeros()
                  %5 = state steps : f32[1] init constant(0.5)
                  %6 = permute %1 {[1, 0]} : f32[4, 8]
                  %7 = matmul %0, %6 : f32[B, 8]
                  %8 = add %7, %2 : f32[B, 8]
                  %9 = gelu %8 : f32[B, 8]
                  %10 = layer_norm %9, %3, %4 {eps=1e-5} : f32[B, 8]
                  %11 = const 1 : f32[]
                  %12 = add %5, %11 : f32[1]
                  output y = %10
                  update steps := %12
                }
                """;
        Graph g = tiny();
        assertEquals(expected, Printer.print(g));
        assertEquals(expected, g.toString());
        assertEquals(expected, Printer.print(tiny()), "printing is deterministic");
    }

    @Test
    void singleLines() {
        GraphBuilder g = new GraphBuilder("lines");
        Node x = g.input("x", DType.F32, Shape.of(B, Dim.of(4), Dim.of(6)));
        Node i = g.input("ids", DType.I32, Shape.of(B));
        assertEquals("%0 = input x : f32[B, 4, 6]", Printer.line(x));
        assertEquals("%2 = reduce_sum %0 {axes=[1, 2], keepdims} : f32[B, 1, 1]",
                Printer.line(g.reduce(Op.ReduceFn.SUM, x, new int[] {1, 2}, true)));
        assertEquals("%3 = slice %0 {axis=2, 1:5:2} : f32[B, 4, 2]", Printer.line(g.slice(x, 2, 1, 5, 2)));
        assertEquals("%4 = cast %1 {f32} : f32[B]", Printer.line(g.cast(i, DType.F32)));
        assertEquals("%5 = const -0.25 : f32[]", Printer.line(g.constant(-0.25, DType.F32)));
        assertEquals("%6 = random stream=7 : f32[B, 4, 6]", Printer.line(g.random(x.shape(), 7)));
        assertEquals("%7 = arange : i32[5]", Printer.line(g.arange(5, DType.I32)));
        assertEquals("%8 = reshape %0 : f32[24*B]", Printer.line(g.reshape(x, Shape.of(Dim.of(24).times(B)))));
        assertEquals("%9 = pad %0 {before=[0, 1, 0], after=[0, 0, 2], value=0} : f32[B, 5, 8]",
                Printer.line(g.pad(x, new long[] {0, 1, 0}, new long[] {0, 0, 2}, 0)));
        assertEquals("%10 = roll %0 {shifts=[-1], axes=[2]} : f32[B, 4, 6]", Printer.line(g.roll(x, new int[] {-1}, new int[] {2})));
        assertEquals("%11 = concat %0, %0 {axis=0} : f32[2*B, 4, 6]", Printer.line(g.concat(java.util.List.of(x, x), 0)));
    }
}
