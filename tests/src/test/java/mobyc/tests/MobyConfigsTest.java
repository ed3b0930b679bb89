package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shipped MoBY configurations build as training programs: trained parameters (online encoder, projector,
 * predictor) as computed from the backbones' counts, the target branch and queues as state, gradients for exactly
 * the trained parameters; the BN-before-MLP Swin variant plugs in.
 */
class MobyConfigsTest {
    @ParameterizedTest
    @CsvSource({
            // Swin-T without its head (28,288,354 - 769,000) + projector 768-4096-256 + predictor 256-4096-256
            "examples/moby_swin_tiny.moby, MoBYSwinTiny, 33835898",
            // DeiT-S without its head (22,050,664 - 385,000) + projector 384-4096-256 + predictor
            "examples/moby_deit_small.moby, MoBYDeitSmall, 26409344",
            "examples/moby_fmnist.moby, MoBYFashion, 800530"})
    void referenceConfigurationsBuild(String file, String module, long params) {
        Graph g = Programs.build(Golden.repo(file), module, Map.of(), true);
        long trained = 0, target = 0;
        for (Node n : g.nodes()) {
            if (n.op() instanceof Op.Param) trained += n.shape().numel().constant();
            if (n.op() instanceof Op.State s && (s.path().startsWith("encoder_k.") || s.path().startsWith("projector_k.")) && !s.path().contains("running_")) target += n.shape().numel().constant();
        }
        assertEquals(params, trained, module + " trained parameters");
        assertEquals(params - predictorParams(module), target, "the target copies the encoder and projector, not the predictor");
        assertTrue(g.updates().containsKey("queue1") && g.updates().containsKey("queue2") && g.updates().containsKey("encoder_k.norm.weight"));
        if (!module.equals("MoBYSwinTiny")) {
            Graph d = Autodiff.differentiate(g, "out");
            assertEquals(g.nodes().stream().filter(n -> n.op() instanceof Op.Param).count(), Autodiff.gradientOutputs(d).size());
        }
    }

    private static long predictorParams(String module) {
        return module.equals("MoBYFashion") ? 128 * 1024 + 1024 + 2 * 1024 + 1024 * 128 + 128 : 256 * 4096 + 4096 + 2 * 4096 + 4096 * 256 + 256;
    }

    @ParameterizedTest
    @CsvSource({"ln", "bn"})
    void bnBeforeMlpVariantPlugsIn(String norm) {
        String src = """
                import "swin.moby";
                import "moby.moby";
                module M = MoBY(encoder=SwinTransformer(img_size=16, patch=4, in_chans=3, classes=0, embed_dim=8, depths=[2, 2],
                                heads=[1, 2], window=2, norm_before_mlp="%s"), proj_hidden=16, dim=8, pred_hidden=16, queue_size=8, batch=4);
                """.formatted(norm);
        Graph g = Programs.buildSource("variant.moby", src, "M", true);
        boolean bn = g.nodes().stream().anyMatch(n -> n.op() instanceof Op.State s && s.path().equals("encoder.layers.0.blocks.0.norm2.running_mean"));
        assertEquals(norm.equals("bn"), bn, "norm2 is a BatchNorm exactly in the bn variant");
        assertTrue(g.updates().containsKey("encoder_k.layers.0.blocks.1.mlp.fc1.weight"));
    }
}
