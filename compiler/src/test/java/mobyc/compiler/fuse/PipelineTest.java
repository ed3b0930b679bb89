package mobyc.compiler.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Op;
import org.junit.jupiter.api.Test;

class PipelineTest {
    private static long permutes(Graph g) { return g.nodes().stream().filter(n -> n.op() instanceof Op.Permute).count(); }

    @Test
    void withSkippedTurnsTheNamedPassesOffForItsBodyOnly() {
        String key = Pipeline.PROPERTY + ".skip";
        assertNull(System.getProperty(key));
        Graph linear = GemmPassesTest.linear(false);
        assertEquals(1, permutes(linear));
        assertEquals(0, permutes(Pipeline.backend(linear)), "fold-transposes folds the transpose into the GEMM");
        assertEquals(1, permutes(Pipeline.withSkipped(List.of("fold-transposes"), () -> Pipeline.backend(linear))));
        assertNull(System.getProperty(key), "restored after the body");
        assertThrows(IllegalStateException.class, () -> Pipeline.withSkipped(List.of("epilogues"), () -> {
            throw new IllegalStateException("body failed");
        }));
        assertNull(System.getProperty(key), "restored after a failing body");
        System.setProperty(key, "multi-tensor");
        try {
            assertEquals("multi-tensor,epilogues", Pipeline.withSkipped(List.of("epilogues"), () -> System.getProperty(key)));
            assertEquals("multi-tensor", System.getProperty(key));
        } finally {
            System.clearProperty(key);
        }
    }

    @Test
    void passNamesListFrontEndThenBackendPassesInOrder() {
        assertEquals(List.of("patchify", "attention", "windows", "cse", "identities", "fold-transposes", "epilogues", "activations", "gelu-pairs",
                "fuse-elementwise", "multi-tensor", "norm-grad-order", "bias-grad-order"), Pipeline.passNames());
    }
}
