package mobyc.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;

/**
 * The supervised objective around a classifier's graph: an input {@code labels} and an output {@code loss} =
 * mean cross-entropy of the logits ({@code out}), then reverse-mode gradients of the loss for every parameter.
 * The model graph must take one image input and return logits [B, classes].
 */
public final class ClassifierProgram {
    public static final String LOSS = "loss", LOGITS = "out", LABELS = "labels";

    private ClassifierProgram() {}

    /** The training graph: forward in training mode, the loss, and the gradients ({@code grad:<path>}). */
    public static Graph training(Graph model) {
        return Verifier.verify(Autodiff.differentiate(withLoss(model), LOSS));
    }

    /** Adds the labels input and the mean cross-entropy loss output to a classifier graph. */
    public static Graph withLoss(Graph model) {
        Node logits = model.outputs().get(LOGITS);
        if (logits == null || logits.shape().rank() != 2)
            throw new IllegalArgumentException(model.name() + " must return logits [B, classes] to be trained as a classifier"
                    + (logits == null ? "" : "; it returns " + logits.dtype() + logits.shape()));
        if (model.inputs().size() != 1)
            throw new IllegalArgumentException(model.name() + " must take exactly one input (the images) to be trained as a classifier");
        GraphBuilder b = new GraphBuilder(model.name() + ".train");
        Map<Node, Node> copy = b.copyAll(model);
        Node y = copy.get(logits);
        Node labels = b.input(LABELS, DType.I32, Shape.of(y.shape().dim(0)));
        Node loss = b.reduce(Op.ReduceFn.MEAN, b.crossEntropy(y, labels), new int[] {0}, false);
        model.outputs().forEach((k, v) -> b.output(k, copy.get(v)));
        model.updates().forEach((k, v) -> b.update(k, copy.get(v)));
        b.output(LOSS, loss);
        return b.build();
    }

    /** The name of the model's image input. */
    public static String imageInput(Graph model) {
        return ((Op.Input) model.inputs().getFirst().op()).inputName();
    }
}
