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

    /**
     * Hands back outputs of an earlier {@link #run} that the caller no longer reads, so that a later run may write
     * its outputs into them instead of allocating and clearing new memory (as PyTorch keeps a parameter's
     * {@code .grad} from step to step). The tensors must not be used after this call; tensors this executable did
     * not return, or returned as views of other memory, are ignored. A no-op where unsupported.
     */
    default void recycle(Map<String, Tensor> outputs) {}

    /** Starts (or, with null, stops) recording kernel times into {@code profile}; a no-op where unsupported. */
    default void profile(KernelProfile profile) {}
}
