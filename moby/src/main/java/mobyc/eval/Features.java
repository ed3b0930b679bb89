package mobyc.eval;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Lower;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.runtime.Backend;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/**
 * Extracts one feature vector per image of an {@link ImageDataset} with a compiled feature graph: an eval-mode
 * graph (built with {@code training=false}, e.g. a module's {@code features} function) that takes the images
 * {@code f32 [B, C, H, W]} and returns {@code [B, D]}. Images go through in data-set order, in batches of
 * {@code batch} and a smaller last one (the graph's batch dimension is symbolic). Compiled once; {@link #extract}
 * may be called any number of times, with any parameters.
 */
public final class Features {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Graph graph;
    private final Executable exe;
    private final String input, output;
    private final int dim;

    /**
     * Compiles {@code featureGraph} for {@code backend}. It must take one input, return one {@code [B, D]} output
     * with a known {@code D}, and update no state (a training-mode graph with BatchNorm would: build it with
     * training=false; one without state updates cannot be told from an eval-mode graph here).
     */
    public Features(Graph featureGraph, Backend backend) {
        this.graph = featureGraph;
        String name = featureGraph.name();
        if (featureGraph.inputs().size() != 1)
            throw new IllegalArgumentException(name + " must take exactly one input (the images) to give features; it takes "
                    + featureGraph.inputs().size());
        if (featureGraph.outputs().size() != 1)
            throw new IllegalArgumentException(name + " must return one tensor [B, D] of features; it returns "
                    + featureGraph.outputs().size() + " (" + String.join(", ", featureGraph.outputs().keySet()) + ")");
        if (!featureGraph.updates().isEmpty())
            throw new IllegalArgumentException(name + " updates state (" + String.join(", ", featureGraph.updates().keySet())
                    + "): features are taken in eval mode, build it with training=false");
        Node in = featureGraph.inputs().getFirst(), out = featureGraph.outputs().firstEntry().getValue();
        if (in.shape().rank() != 4)
            throw new IllegalArgumentException(name + " must take images [B, C, H, W]; its input is " + in.dtype() + in.shape());
        Dim d = out.shape().rank() == 2 ? out.shape().dim(1) : null;
        if (d == null || !d.isConstant() || out.dtype() != DType.F32 || !out.shape().dim(0).equals(in.shape().dim(0)))
            throw new IllegalArgumentException(name + " must return features [B, D] for images [B, ...]; it returns "
                    + out.dtype() + out.shape() + " for " + in.dtype() + in.shape());
        this.input = ((Op.Input) in.op()).inputName();
        this.output = featureGraph.outputs().firstEntry().getKey();
        this.dim = Math.toIntExact(d.constant());
        this.exe = backend.compile(Lower.lower(featureGraph));
    }

    /** The feature dimension {@code D}. */
    public int dim() { return dim; }

    public Graph graph() { return graph; }

    /** The features of every image of {@code ds}, normalised as Fashion-MNIST ({@link Batches#FASHION_MNIST_MEAN}). */
    public FeatureSet extract(ParameterStore store, ImageDataset ds, int batch) {
        return extract(store, ds, new Batches(ds, batch, false, false, 0));
    }

    /** The features of every image of {@code ds}, normalised with per-channel {@code mean} and {@code std}. */
    public FeatureSet extract(ParameterStore store, ImageDataset ds, int batch, float[] mean, float[] std) {
        return extract(store, ds, new Batches(ds, batch, false, false, 0, mean, std));
    }

    private FeatureSet extract(ParameterStore store, ImageDataset ds, Batches batches) {
        float[] data = new float[Math.multiplyExact(ds.size(), dim)];
        int at = 0;
        for (int i = 0; i < batches.batchesPerEpoch(); i++) {
            Batches.Batch b = batches.get(0, i);
            Tensor y = exe.run(Map.of(input, b.images()), store, new RunContext(0, 0)).get(output);
            if (y.rank() != 2 || y.dim(0) != b.size() || y.dim(1) != dim)
                throw new IllegalStateException(graph.name() + " returned " + y + " for " + b.size() + " images");
            MemorySegment.copy(y.segment(), F32, 0, data, at, b.size() * dim);
            at += b.size() * dim;
        }
        return new FeatureSet(ds.size(), dim, data, ds.labels());
    }
}
