package mobyc.tests;

import static mobyc.tests.AttentionFusionTest.assertRewriteKeepsTheNumbers;
import static mobyc.tests.AttentionFusionTest.count;
import static mobyc.tests.AttentionFusionTest.train;
import static mobyc.tests.AttentionFusionTest.unfused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import mobyc.compiler.fuse.Patchify;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Printer;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The front end's patchify pass (compiler/fuse/Patchify): a patch embedding's conv (stride = kernel, no padding)
 * moved channels-last becomes one product over the image's patches; near misses stay convolutions; the product
 * computes what the conv does, forward and backward, on interp and cpu.
 */
class PatchifyTest {
    private static final String SWIN = """
            import "swin.moby";
            module M = SwinTransformer(img_size=%d, patch=%d, in_chans=3, classes=5, embed_dim=16, depths=[2], heads=[2], window=4,
                                       drop_path_rate=0.0);
            """;

    private static final String DEIT = """
            import "deit.moby";
            module M = VisionTransformer(img_size=16, patch=%d, classes=5, embed_dim=24, depth=1, heads=3, drop_path_rate=0.0);
            """;

    private static Graph swin(int size, int patch) { return Programs.buildSource("swin.moby", SWIN.formatted(size, patch), "M", true); }

    private static Graph deit(int patch) { return Programs.buildSource("deit.moby", DEIT.formatted(patch), "M", true); }

    @Test
    void aViTPatchEmbeddingFlattenedAndTransposedBecomesTheSameProduct() {
        Graph g = deit(4);
        String ir = Printer.print(g);
        assertEquals(0, count(g, "conv2d"), ir);
        assertTrue(ir.lines().anyMatch(l -> l.contains(" = matmul ") && l.endsWith(": f32[B, 4, 4, 24]")), ir);
    }

    @Test
    void aSwinPatchEmbeddingBecomesOneProductOverPatches() {
        Graph g = swin(16, 2);
        String ir = Printer.print(g);
        assertEquals(0, count(g, "conv2d"), ir);
        assertTrue(ir.contains("permute") && ir.contains("{[0, 2, 4, 1, 3, 5]} : f32[B, 8, 8, 3, 2, 2]"), ir);
        assertTrue(ir.lines().anyMatch(l -> l.contains(" = matmul ") && l.endsWith(": f32[B, 8, 8, 16]")), ir);
        Graph plain = unfused(() -> swin(16, 2));
        assertEquals(1, count(plain, "conv2d"));
        Graph once = Patchify.run(plain);
        assertSame(once, Patchify.run(once), "nothing left to rewrite: the same graph back");
    }

    /** permute(conv2d(x, w) + b, [0, 2, 3, 1]) with the given stride and padding; the conv also an output when {@code convOut}. */
    private static Graph embedding(int stride, int pad, boolean convOut) {
        GraphBuilder b = new GraphBuilder("embed");
        Node x = b.input("x", DType.F32, Shape.of(Dim.sym("B"), Dim.of(3), Dim.of(8), Dim.of(8)));
        Node w = b.param("w", DType.F32, Shape.of(4, 3, 2, 2), new Init.Normal(0, 0.3));
        Node bias = b.param("b", DType.F32, Shape.of(4), new Init.Normal(0, 0.3));
        Node conv = b.conv2d(x, w, stride, stride, pad, pad);
        b.output("out", b.permute(b.add(conv, b.reshape(bias, Shape.of(4, 1, 1))), 0, 2, 3, 1));
        if (convOut) b.output("conv", conv);
        return Verifier.verify(b.build());
    }

    @Test
    void onlyANonOverlappingUnpaddedConvReadByItsChainIsRewritten() {
        Graph folded = Verifier.verify(Patchify.run(embedding(2, 0, false)));
        assertEquals(0, count(folded, "conv2d"), Printer.print(folded));
        for (Graph g : new Graph[] {embedding(1, 0, false), embedding(2, 1, false), embedding(2, 0, true)})
            assertSame(g, Patchify.run(g), "stride 1, padding 1, or the conv read elsewhere: unchanged");
    }

    /**
     * A Swin (or ViT) with the product against the same model with every pass off: outputs and the gradients of every parameter
     * (the patch embedding's weight and bias among them) on interp within 1e-5, and on cpu (each graph through the cpu
     * backend's own passes) within 1e-4 of each other.
     */
    @ParameterizedTest
    @ValueSource(strings = {"swin 2", "swin 4", "deit 4"})
    void theProductComputesWhatTheConvDoesForwardAndBackward(String config) {
        String[] c = config.split(" ");
        int patch = Integer.parseInt(c[1]);
        java.util.function.Supplier<Graph> build = c[0].equals("swin") ? () -> swin(16, patch) : () -> deit(patch);
        Graph plain = train(unfused(build)), folded = train(build.get());
        assertEquals(0, count(folded, "conv2d_weight_grad"), Printer.print(folded));
        Map<String, Tensor> expected = assertRewriteKeepsTheNumbers(plain, folded, config);
        assertTrue(expected.keySet().stream().anyMatch(k -> k.contains("patch_embed.proj.weight")), expected.keySet().toString());
    }
}
