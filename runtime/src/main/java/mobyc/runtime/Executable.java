package mobyc.runtime;

import java.util.Map;

/** A program prepared by a {@link Backend}, ready to run any number of times. */
public interface Executable {
    /**
     * Runs the program once.
     *
     * <p>Symbolic dimensions are bound from the inputs' actual shapes (see {@link InputBinding}); inputs that are
     * missing, unexpected, of the wrong dtype or shape throw IllegalArgumentException before anything runs.
     * Returns the outputs by name as fresh tensors, then writes every state update into {@code store}.
     */
    Map<String, Tensor> run(Map<String, Tensor> inputs, ParameterStore store, RunContext ctx);

    /** Starts (or, with null, stops) recording kernel times into {@code profile}; a no-op where unsupported. */
    default void profile(KernelProfile profile) {}
}
