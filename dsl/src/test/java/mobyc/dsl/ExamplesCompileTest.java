package mobyc.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Verifier;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import org.junit.jupiter.api.Test;

/** The shipped examples compile to verified graphs with the expected parameters. */
class ExamplesCompileTest {
    static final Path EXAMPLES = Path.of("../examples");

    static Graph build(String file, String module, Map<String, Value> sets) {
        Path path = file.contains("/") ? Path.of("..").resolve(file) : EXAMPLES.resolve(file);
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(path), d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, Frontend.Request.forward(module, sets));
        assertTrue(!d.hasErrors(), d.format());
        assertNotNull(b);
        assertTrue(Verifier.check(b.graph()).isEmpty());
        return b.graph();
    }

    @Test
    void mlp() {
        Graph g = build("mlp.moby", "TinyMlp", Map.of());
        assertEquals(16 * 32 + 32 + 32 + 32 + 32 * 8 + 8, g.parameterCount());
        assertEquals("[B, 16]", g.inputs().getFirst().shape().toString());
        assertEquals("[B, 8]", g.outputs().get("out").shape().toString());
    }

    @Test
    void swinBlock() {
        Graph g = build("models/swin.moby", "SwinBlock", Map.of("dim", new Value.IntV(32), "heads", new Value.IntV(2),
                "window", new Value.IntV(4), "shift", new Value.IntV(2),
                "resolution", new Value.ListV(List.of(new Value.IntV(8), new Value.IntV(8)))));
        System.out.println(g);
        long expected = 2 * 32 * 2 + (32 * 96 + 96) + (32 * 32 + 32) + 49 * 2 + (32 * 128 + 128) + (128 * 32 + 32);
        assertEquals(expected, g.parameterCount());
        assertEquals("[B, 8, 8, 32]", g.outputs().get("out").shape().toString());
    }
}
