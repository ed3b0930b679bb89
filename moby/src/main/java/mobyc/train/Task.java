package mobyc.train;

import java.util.Map;
import mobyc.compiler.ir.Graph;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;

/**
 * What a {@link Trainer} trains: the differentiated program, the data that feeds its inputs, and the evaluation at
 * the end of each epoch. A supervised classifier ({@link ClassifierTask}) and a self-supervised objective written
 * in .moby ({@link ObjectiveTask}, e.g. MoBY) are tasks; the loop, the optimiser, checkpoints and resume are shared.
 */
public interface Task extends AutoCloseable {
    /** The training graph: a scalar loss output {@link #lossOutput()} and {@code grad:<path>} for every parameter. */
    Graph program();

    String lossOutput();

    /** Micro-batches in one epoch (drop-last). */
    long microBatchesPerEpoch();

    /** Images in one micro-batch. */
    int microBatch();

    /** Where the training data comes from, for the log. */
    String describe();

    /** Sets starting values after the store is initialised and before any checkpoint is resumed (pretrained weights). */
    default void initialise(ParameterStore store) {}

    /** Starts the data pipeline at global micro-batch {@code first} for {@code count} micro-batches. */
    void open(long first, long count);

    /**
     * Fills the inputs of the next micro-batch ({@code micro} = step * accumulate + k) of optimiser step
     * {@code step} of {@code total}; adds per-step values worth logging (e.g. the momentum) to {@code metrics}.
     */
    void next(long micro, long step, long total, Map<String, Tensor> inputs, Map<String, Object> metrics);

    /** The end-of-epoch evaluation: metric name -> value (logged) and a one-line summary; empty when there is none. */
    Map<String, Object> evaluate(ParameterStore store, long epoch);

    /** A summary of {@link #evaluate}'s result for the log, e.g. "test top-1 84.21%, top-5 99.72%". */
    String summary(Map<String, Object> evaluation);

    @Override void close();
}
