package mobyc.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * The graph of linear evaluation: a feature graph (eval mode, images to [B, D]) whose parameters are frozen (made
 * state, so autodiff gives them no gradient and the optimiser never sees them) followed by a linear head
 * {@code head.weight [classes, D]} (normal, std 0.01, as DINO's linear classifier), {@code head.bias} (zeros),
 * returning the logits as {@code out}.
 */
public final class LinearProbe {
    public static final String HEAD = "head";

    private LinearProbe() {}

    public static Graph graph(Graph features, int classes) {
        if (features.outputs().size() != 1 || features.inputs().size() != 1)
            throw new IllegalArgumentException(features.name() + " must map one image input to one feature output [B, D]");
        Node f = features.outputs().values().iterator().next();
        if (f.shape().rank() != 2) throw new IllegalArgumentException(features.name() + " returns " + f.shape() + ", not features [B, D]");
        if (!features.updates().isEmpty())
            throw new IllegalArgumentException(features.name() + " updates state: features are taken in eval mode");
        GraphBuilder b = new GraphBuilder(features.name() + ".linear");
        Map<Node, Node> copy = new HashMap<>();
        for (Node n : features.nodes()) {
            if (n.op() instanceof Op.Param p) {
                if (p.path().startsWith(HEAD + ".")) throw new IllegalArgumentException(features.name() + " already has a parameter " + p.path());
                copy.put(n, b.state(p.path(), n.dtype(), n.shape(), p.init()));
            } else {
                List<Node> ins = new ArrayList<>(n.inputs().size());
                for (Node i : n.inputs()) ins.add(copy.get(i));
                copy.put(n, b.copy(n, ins));
            }
        }
        long dim = f.shape().dim(1).constant();
        Node w = b.param(HEAD + ".weight", DType.F32, Shape.of(classes, dim), new Init.Normal(0, 0.01));
        Node bias = b.param(HEAD + ".bias", DType.F32, Shape.of(classes), new Init.Zeros());
        Node feats = b.stopGradient(copy.get(f));
        b.output("out", b.add(b.matmul(feats, b.permute(w, new int[] {1, 0})), bias));
        return b.build();
    }
}
