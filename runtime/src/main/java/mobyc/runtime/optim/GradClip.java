package mobyc.runtime.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;

/**
 * Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_(max_norm) with the L2 norm:
 * {@code total = sqrt(sum over all gradients of g^2)}, {@code scale = max_norm / (total + 1e-6)}, and every
 * gradient is multiplied by {@code scale} when {@code scale < 1}. The sum is accumulated in double (torch
 * reduces in f32, so the two totals can differ in the last f32 bit); the scale is rounded to f32 before the
 * multiply, as torch's is.
 *
 * <p>Unlike torch, a non-finite total (an inf or NaN gradient) leaves the gradients untouched; it is returned,
 * so that the caller can skip the step.
 *
 * <p>The norm and the scaling are each one parallel dispatch over all gradients' elements ({@link MultiTensorLoop}).
 * The norm is deterministic: partial sums per fixed-size chunk, added in chunk order, whatever the thread count.
 */
public final class GradClip {
    private GradClip() {}

    /** The L2 norm of all of {@code grads} together (f32 tensors), accumulated in double. */
    public static double globalNorm(List<Tensor> grads) {
        for (Tensor t : grads) checkF32(t);
        MemorySegment[] g = AdamW.segments(grads);
        return Math.sqrt(new MultiTensorLoop(grads).sum((i, from, to) -> OptimKernels.sumOfSquares(g[i], from, to)));
    }

    /** Clips {@code grads} in place to global norm {@code maxNorm}; returns the norm before clipping. */
    public static double clip(List<Tensor> grads, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max norm must be > 0: " + maxNorm);
        double total = globalNorm(grads);
        double scale = maxNorm / (total + 1e-6);
        if (Double.isFinite(total) && scale < 1) {
            float s = (float) scale;
            MemorySegment[] g = AdamW.segments(grads);
            new MultiTensorLoop(grads).forEach((i, from, to) -> OptimKernels.scale(g[i], from, to, s));
        }
        return total;
    }

    private static void checkF32(Tensor t) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("gradients are f32, not " + t);
    }
}
