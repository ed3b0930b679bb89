package mobyc.compiler.autodiff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * The rule of the fused attention: d qkv from {@link Op.AttentionGrad}, d bias from {@link Op.AttentionBiasGrad}
 * (both recompute the probabilities window by window; the bias op is dropped with the rest of the dead code when
 * the bias takes no gradient), no gradient for the mask (the attention pass fuses only masks computed from
 * constants).
 */
final class AttentionRules {
    private AttentionRules() {}

    static List<Node> attention(GraphBuilder b, Node y, Node g) {
        Op.Attention a = (Op.Attention) y.op();
        List<Node> operands = new ArrayList<>(y.inputs());
        operands.add(g);
        Node qkv = y.input(0);
        Node dQkv = b.add(new Op.AttentionGrad(a.heads(), a.scale(), a.hasBias(), a.hasMask(), a.windows()), operands, qkv.dtype(), qkv.shape());
        Node dBias = a.hasBias()
                ? b.add(new Op.AttentionBiasGrad(a.heads(), a.scale(), a.hasMask(), a.windows()), operands, qkv.dtype(), y.input(1).shape())
                : null;
        List<Node> grads = new ArrayList<>(Arrays.asList(dQkv));
        if (a.hasBias()) grads.add(dBias);
        if (a.hasMask()) grads.add(null);
        return grads;
    }
}
