package mobyc.runtime.optim;

import java.util.List;
import java.util.Map;
import mobyc.runtime.Tensor;

/**
 * A first-order optimiser that updates every parameter of a model in one call.
 *
 * <p>{@link #step} is a multi-tensor update: one pass over the flat parameter list, in the order of the
 * optimiser's {@link ParamGroups} (which says, per parameter, whether it gets weight decay). Moment buffers
 * are f32 tensors of the parameters' shapes, allocated once, at the first step or by {@link #loadState}; a
 * steady-state step allocates nothing.
 *
 * <p>The optimiser's state is a set of named tensors, for checkpoints: {@value #STEP_KEY} (an i32 tensor of
 * shape [1], the number of steps taken) and one buffer per parameter and buffer kind, keyed
 * {@code <parameter name>.<buffer>} (for instance {@code encoder.norm.weight.exp_avg}). Saving the state
 * after some steps and loading it into a fresh optimiser of the same configuration resumes bit-identically.
 */
public interface Optimizer {
    /** The state key of the step counter. */
    String STEP_KEY = "step";

    /**
     * Updates {@code params} in place from {@code grads} with learning rate {@code lr}. Both lists hold one f32
     * tensor per parameter, in the order and with the shapes of {@link #groups()}.
     */
    void step(List<Tensor> params, List<Tensor> grads, double lr);

    /** The number of steps taken (restored by {@link #loadState}). */
    long steps();

    /** Which parameters this optimiser decays, in step order. */
    ParamGroups groups();

    /**
     * A snapshot (copies) of the state, keyed by {@code paramNames} (one per parameter, in step order): the step
     * counter always, the buffers once they exist (after the first step or a load).
     */
    Map<String, Tensor> state(List<String> paramNames);

    /**
     * Replaces the state by {@code state}, as {@link #state} wrote it for the same {@code paramNames}. Checks
     * everything first (missing and unexpected keys, dtypes, shapes) and throws one
     * {@link IllegalArgumentException} listing every problem; in that case nothing changes. The tensors are
     * copied.
     */
    void loadState(Map<String, Tensor> state, List<String> paramNames);
}
