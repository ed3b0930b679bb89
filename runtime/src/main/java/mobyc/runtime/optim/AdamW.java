package mobyc.runtime.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import mobyc.runtime.Tensor;

/**
 * torch.optim.AdamW (PyTorch 1.13, single-tensor path, amsgrad off), in f32 like torch. Per step t (from 1),
 * for each parameter p with gradient g and weight decay wd (0 for the "no decay" group):
 * <pre>
 *   p  = p * (1 - lr * wd)                           decoupled weight decay, before the Adam update
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p  = p - (lr / (1 - beta1^t)) * m / denom
 * </pre>
 * Scalars are computed in double and rounded to float, as torch passes Python floats to its f32 kernels;
 * the element operations follow torch's CPU kernels operation by operation, including their fused
 * multiply-adds ({@code add_(x, alpha)} is {@code fma(x, alpha, self)}, {@code addcmul_} is
 * {@code fma(value * t1, t2, self)}), so traces agree with torch's bit for bit on AVX2 machines.
 * State: {@code exp_avg} (m) and {@code exp_avg_sq} (v) per parameter.
 *
 * <p>A step is one multi-tensor kernel: one parallel dispatch over all parameters' elements end to end
 * ({@link MultiTensorLoop}), each piece updated by {@link OptimKernels#adamw} (Vector API, same bits as the scalar form).
 */
public final class AdamW implements Optimizer {
    private static final int EXP_AVG = 0, EXP_AVG_SQ = 1;

    private final ParamGroups groups;
    private final double beta1, beta2, eps, weightDecay;
    private final OptimizerState state;
    private final MultiTensorLoop loop;

    public AdamW(ParamGroups groups, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new IllegalArgumentException("betas must lie in [0, 1): " + beta1 + ", " + beta2);
        if (!(eps >= 0) || !(weightDecay >= 0))
            throw new IllegalArgumentException("eps and weight decay must be >= 0: " + eps + ", " + weightDecay);
        this.groups = groups;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.state = new OptimizerState(groups, "exp_avg", "exp_avg_sq");
        this.loop = MultiTensorLoop.of(groups);
    }

    /** MoBY's pre-training settings: betas (0.9, 0.999), eps 1e-8, weight decay 0.05. */
    public static AdamW moby(ParamGroups groups) { return new AdamW(groups, 0.9, 0.999, 1e-8, 0.05); }

    @Override
    public void step(List<Tensor> params, List<Tensor> grads, double lr) {
        state.prepare(params, grads);
        long t = state.advance();
        double biasCorrection1 = 1 - StrictMath.pow(beta1, t);
        double biasCorrection2 = 1 - StrictMath.pow(beta2, t);
        float negStepSize = (float) -(lr / biasCorrection1);
        float bc2Sqrt = (float) Math.sqrt(biasCorrection2);
        float b1 = (float) beta1, oneMinusB1 = (float) (1 - beta1);
        float b2 = (float) beta2, oneMinusB2 = (float) (1 - beta2);
        float epsF = (float) eps;
        float[] keep = new float[params.size()];
        for (int i = 0; i < keep.length; i++) keep[i] = (float) (1 - lr * (groups.decays(i) ? weightDecay : 0.0));
        MemorySegment[] p = segments(params), g = segments(grads), m = state.buffers(EXP_AVG), v = state.buffers(EXP_AVG_SQ);
        loop.forEach((i, from, to) -> OptimKernels.adamw(p[i], g[i], m[i], v[i], from, to,
                keep[i], b1, oneMinusB1, b2, oneMinusB2, bc2Sqrt, epsF, negStepSize));
    }

    static MemorySegment[] segments(List<Tensor> ts) {
        MemorySegment[] s = new MemorySegment[ts.size()];
        for (int i = 0; i < s.length; i++) s[i] = ts.get(i).segment();
        return s;
    }

    @Override public long steps() { return state.steps(); }

    @Override public ParamGroups groups() { return groups; }

    @Override public Map<String, Tensor> state(List<String> paramNames) { return state.snapshot(paramNames); }

    @Override public void loadState(Map<String, Tensor> s, List<String> paramNames) { state.load(s, paramNames); }
}
