package mobyc.dsl;

import static mobyc.dsl.Sources.compile;
import static mobyc.dsl.Sources.i;
import static mobyc.dsl.Sources.ints;
import static mobyc.dsl.Sources.sets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Verifier;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/** Shapes stay symbolic in the sizes a signature leaves open; every op's result shape follows from its operands. */
class ShapeInferenceTest {

    static List<String> outputShapes(Graph g) { return g.outputs().values().stream().map(n -> n.shape().toString()).toList(); }

    /** Output shapes of {@code forward(x: <signature>)} returning {@code body}. */
    static List<String> shapes(String params, String body) {
        return outputShapes(compile("module M() {\n    fn forward(" + params + ") {\n        return " + body + ";\n    }\n}\n").graph());
    }

    static String error(String params, String body) {
        return compile("module M() {\n    fn forward(" + params + ") {\n        return " + body + ";\n    }\n}\n").diags().format();
    }

    /** The Swin model library (it moved from examples/swin_block.moby to models/swin.moby). */
    static final Path SWIN = java.nio.file.Files.exists(Path.of("../models/swin.moby"))
            ? Path.of("../models/swin.moby") : Path.of("../examples/swin_block.moby");

    static Graph swin(Map<String, Value> sets) {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(Path.of("../models/swin.moby")), d);
        // as elaborated: the attention pass would replace the score nodes these tests look at
        Frontend.Built b = d.hasErrors() ? null : Frontend.elaborate(c, Frontend.Request.forward("SwinBlock", sets));
        assertFalse(d.hasErrors(), d::format);
        assertNotNull(b);
        assertEquals(List.of(), Verifier.check(b.graph()));
        return b.graph();
    }

    @Test
    void swinBlockKeepsTheBatchSymbolicThroughWindows() {
        Graph g = swin(sets("dim", i(32), "heads", i(2), "window", i(4), "shift", i(2), "resolution", ints(8, 8)));
        assertEquals("[B, 8, 8, 32]", g.inputs().getFirst().shape().toString());
        assertEquals(List.of("[B, 8, 8, 32]"), outputShapes(g));
        String ir = g.toString();
        // 8x8 tokens in 4x4 windows: 4 windows per image, 16 tokens per window
        assertTrue(ir.contains(" = reshape %") && ir.contains(" : f32[4*B, 16, 32]\n"), ir);
        assertTrue(ir.contains(" : f32[4*B, 16, 96]\n"), ir);       // qkv
        assertTrue(ir.contains(" : f32[4*B, 2, 16, 16]\n"), ir);    // attention scores per head
        assertTrue(ir.contains(" : f32[B, 4, 2, 16, 16]\n"), ir);   // scores grouped per image for the shift mask
        assertTrue(ir.contains(" : f32[4, 16, 16]\n"), ir);         // the mask itself does not depend on B
        assertEquals(2, g.nodes().stream().filter(n -> n.op() instanceof Op.Roll).count());
        assertEquals(List.of("B"), g.outputs().get("out").shape().symbols());
    }

    @Test
    void swinBlockWithoutShiftHasNoRollAndNoMask() {
        Graph g = swin(sets("dim", i(32), "heads", i(2), "window", i(4), "resolution", ints(8, 8)));
        assertEquals(List.of("[B, 8, 8, 32]"), outputShapes(g));
        assertEquals(0, g.nodes().stream().filter(n -> n.op() instanceof Op.Roll).count());
        assertFalse(g.toString().contains("[B, 4, 2, 16, 16]"));
    }

    @Test
    void swinBlockPadsToWholeWindowsAndCropsBack() {
        Graph g = swin(sets("dim", i(16), "heads", i(2), "window", i(4), "shift", i(2), "resolution", ints(7, 6)));
        assertEquals(List.of("[B, 7, 6, 16]"), outputShapes(g));
        String ir = g.toString();
        assertTrue(ir.contains(" = pad %"), ir);
        assertTrue(ir.contains(" : f32[B, 8, 8, 16]\n"), ir);
        assertTrue(ir.contains(" : f32[4*B, 16, 16]\n"), ir);
    }

    @Test
    void reshapeWithMinusOneUnderASymbolicBatch() {
        assertEquals(List.of("[4*B, 6]", "[2, 12*B]", "[B, 24]", "[2*B, 12]", "[24*B]", "[B, 2, 2, 6]"),
                shapes("x: [B, 4, 6]", "(reshape(x, [-1, 6]), reshape(x, [2, -1]), reshape(x, [B, -1]), "
                        + "reshape(x, [B * 2, -1]), reshape(x, [-1]), x.view([B, -1, 2, 6]))"));
        assertEquals("""
                t.moby:3:16: error: reshape: only one size may be -1
                        return reshape(x, [-1, -1]);
                               ^
                1 error
                """, error("x: [B, 4, 6]", "reshape(x, [-1, -1])"));
        assertEquals("""
                t.moby:3:16: error: cannot reshape [B, 4, 6] to [B, 5, -1]: 24*B elements do not divide by 5*B
                        return reshape(x, [B, 5, -1]);
                               ^
                1 error
                """, error("x: [B, 4, 6]", "reshape(x, [B, 5, -1])"));
    }

    @Test
    void flatten() {
        assertEquals(List.of("[24*B]", "[B, 24]", "[4*B, 6]", "[B, 4, 6]", "[1]"),
                shapes("x: [B, 4, 6]", "(flatten(x), flatten(x, 1), flatten(x, 0, 1), flatten(x, 2), flatten(sum(x)))"));
    }

    @Test
    void chunkAndUnbind() {
        assertEquals(List.of("[B, 4]", "[B, 4]", "[B, 2]"), shapes("x: [B, 10]", "chunk(x, 3, axis=1)"));
        assertEquals(List.of("[B, 5]", "[B, 5]"), shapes("x: [B, 10]", "x.chunk(2, axis=-1)"));
        assertEquals(List.of("[B, 4]", "[B, 4]", "[B, 4]"), shapes("x: [B, 3, 4]", "unbind(x, 1)"));
        Graph g = compile("""
                module M() {
                    fn forward(qkv: [B, 3, N, 8]) {
                        let (q, k, v) = unbind(qkv, axis=1);
                        return softmax(q @ k.T) @ v;
                    }
                }
                """).graph();
        assertEquals(List.of("[B, N, 8]"), outputShapes(g));
        assertEquals("""
                t.moby:3:16: error: chunk needs a known size on axis 0, which is B
                        return chunk(x, 2);
                               ^
                1 error
                """, error("x: [B, 10]", "chunk(x, 2)"));
    }

    @Test
    void stack() {
        assertEquals(List.of("[2, B, 4]", "[B, 2, 4]", "[B, 4, 3]"),
                shapes("a: [B, 4], b: [B, 4]", "(stack([a, b]), stack([a, b], axis=1), stack([a, b, a], axis=-1))"));
        assertEquals("""
                t.moby:3:16: error: concat along axis 0: shapes [1, B, 4] and [1, B, 5] differ on axis 2
                        return stack([a, b]);
                               ^
                1 error
                """, error("a: [B, 4], b: [B, 5]", "stack([a, b])"));
    }

    @Test
    void squeezeAndUnsqueeze() {
        assertEquals(List.of("[B, 4]", "[B, 4]", "[1, B, 1, 4]", "[B, 1, 4, 1]", "[B, 1, 1, 4]"),
                shapes("x: [B, 1, 4]", "(squeeze(x), squeeze(x, 1), unsqueeze(x, 0), unsqueeze(x, -1), x.unsqueeze(1))"));
        assertEquals("""
                t.moby:3:16: error: squeeze: axis 2 has size 4, not 1
                        return squeeze(x, 2);
                               ^
                1 error
                """, error("x: [B, 1, 4]", "squeeze(x, 2)"));
    }

    @Test
    void broadcastingRules() {
        assertEquals(List.of("[B, 3, 4]", "[B, N, 4]", "[B, N]", "[B, 4]"),
                shapes("x: [B, 1, 4], y: [3, 1], z: [B, N, 4], w: [N, 4]",
                        "(x + y, z * w, sum(z, axis=-1) - 1.0, x[:, 0, :] + y[0, 0])"));
        assertEquals("""
                t.moby:3:18: error: add: shapes [B, 4] and [C, 4] do not broadcast
                        return x + y;
                                 ^
                1 error
                """, error("x: [B, 4], y: [C, 4]", "x + y"));
    }

    @Test
    void inputsShareTheirSymbols() {
        assertEquals(List.of("[B, N]"), shapes("x: [B, N], y: [B, N]", "x + y"));
        assertEquals(List.of("[B, T, T]"), shapes("q: [B, T, D], k: [B, T, D]", "q @ transpose(k, 1, 2)"));
    }

    @Test
    void entryShapesUseHyperParameters() {
        Graph g = compile("""
                module M(dim: int = 3) {
                    fn forward(x: [B, dim * 2]) -> [B, 2 * dim] { return x; }
                }
                """, "M", sets("dim", i(5))).graph();
        assertEquals("[B, 10]", g.inputs().getFirst().shape().toString());
    }

    @Test
    void sizesAreSymbolicValues() {
        assertEquals(List.of("[2*B, 2]", "[B, 1, 4]"), shapes("x: [B, 4]", "(reshape(x, [x.shape[0] * 2, 2]), reshape(x, [B, 1, 4]))"));
        assertEquals("""
                t.moby:3:28: error: cannot divide the size B by 2 exactly
                        let h = x.shape[0] / 2;
                                           ^
                  hint: sizes that depend on the batch must divide evenly
                1 error
                """, compile("""
                module M() {
                    fn forward(x: [B, 4]) {
                        let h = x.shape[0] / 2;
                        return x;
                    }
                }
                """).diags().format());
        assertEquals("""
                t.moby:3:23: error: whether B equals 1 depends on symbolic sizes
                        if x.shape[0] == 1 { return x; }
                                      ^
                1 error
                """, compile("""
                module M() {
                    fn forward(x: [B, 4]) {
                        if x.shape[0] == 1 { return x; }
                        return x;
                    }
                }
                """).diags().format());
    }

    @Test
    void declaredResultShapeIsChecked() {
        assertEquals("""
                t.moby:1:20: error: the result of f has shape [B, 4], expected [B, 5] (axis 1: 4 is not 5)
                fn f(x: [B, 4]) -> [B, 5] { return x; }
                                   ^
                1 error
                """, compile("""
                fn f(x: [B, 4]) -> [B, 5] { return x; }
                module M() {
                    fn forward(x: [B, 4]) { return f(x); }
                }
                """, "M").diags().format());
    }

    @Test
    void patternAgainstALaterScalarParameter() {
        String out = compile("""
                fn f(x: [B, n], n: int) { return x; }
                module M() {
                    fn forward(x: [B, 4]) { return f(x, 5); }
                }
                """, "M").diags().format();
        assertTrue(out.contains("error: "), "expected a shape error, got none");
    }

    @Test
    void chunkIntoMorePiecesThanTheAxisHas() {
        assertEquals(List.of("[B, 1]", "[B, 1]", "[B, 1]", "[B, 1]"), shapes("x: [B, 4]", "chunk(x, 9223372036854775807, axis=1)"));
    }

    @Test
    void permuteAxisBeyondIntIsRefused() {
        assertTrue(error("x: [B, 4]", "permute(x, [4294967296, 1])").contains(": error: "), "no error for axis 4294967296");
    }

    @Test
    void convStrideListBeyondIntIsRefused() {
        String out = compile("""
                module M() {
                    param w: [2, 3, 1, 1] = zeros();
                    fn forward(x: [B, 3, 4, 4]) { return conv2d(x, w, stride=[4294967297, 1]); }
                }
                """).diags().format();
        assertTrue(out.contains(": error: "), "no error for stride 4294967297");
    }

    @Test
    void conv2dShapes() {
        Graph g = compile("""
                module M() {
                    param w: [8, 3, 3, 3] = zeros();
                    param b: [8] = zeros();
                    fn forward(x: [B, 3, 16, 16]) {
                        return (conv2d(x, w, b, stride=2, padding=1), conv2d(x, w, padding=[0, 1]));
                    }
                }
                """).graph();
        assertEquals(List.of("[B, 8, 8, 8]", "[B, 8, 14, 16]"), outputShapes(g));
    }
}
