package mobyc.runtime.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import mobyc.runtime.Tensor;

/**
 * torch.optim.SGD (PyTorch 1.13, single-tensor path), in f32 like torch. For each parameter p with gradient g
 * and weight decay wd (0 for the "no decay" group):
 * <pre>
 *   d = g + wd * p                                   L2 weight decay, added to the gradient (when wd != 0)
 *   b = d                                            at the first step
 *   b = momentum * b + (1 - dampening) * d           afterwards
 *   d = nesterov ? d + momentum * b : b              (when momentum != 0)
 *   p = p - lr * d
 * </pre>
 * Each {@code x + alpha * y} is one fused multiply-add, as torch's CPU {@code add} kernel computes it.
 * State: {@code momentum_buffer} (b) per parameter when momentum != 0.
 *
 * <p>A step is one multi-tensor kernel: one parallel dispatch over all parameters' elements end to end
 * ({@link MultiTensorLoop}), each piece updated by {@link OptimKernels} (Vector API, same bits as the scalar form).
 */
public final class Sgd implements Optimizer {
    private final ParamGroups groups;
    private final double momentum, dampening, weightDecay;
    private final boolean nesterov;
    private final OptimizerState state;
    private final MultiTensorLoop loop;

    public Sgd(ParamGroups groups, double momentum, double dampening, double weightDecay, boolean nesterov) {
        if (!(momentum >= 0) || !(dampening >= 0) || !(weightDecay >= 0))
            throw new IllegalArgumentException("momentum, dampening and weight decay must be >= 0: "
                    + momentum + ", " + dampening + ", " + weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
        this.groups = groups;
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        this.state = momentum != 0 ? new OptimizerState(groups, "momentum_buffer") : new OptimizerState(groups);
        this.loop = MultiTensorLoop.of(groups);
    }

    /** MoBY's linear evaluation: momentum 0.9, Nesterov, no weight decay. */
    public static Sgd linearEval(ParamGroups groups) { return new Sgd(groups, 0.9, 0, 0, true); }

    @Override
    public void step(List<Tensor> params, List<Tensor> grads, double lr) {
        state.prepare(params, grads);
        boolean first = state.advance() == 1;
        float negLr = (float) -lr, mom = (float) momentum, undamped = (float) (1 - dampening);
        float[] wd = new float[params.size()];
        for (int i = 0; i < wd.length; i++) wd[i] = groups.decays(i) ? (float) weightDecay : 0f;
        MemorySegment[] p = AdamW.segments(params), g = AdamW.segments(grads);
        if (momentum == 0) {
            loop.forEach((i, from, to) -> OptimKernels.sgdPlain(p[i], g[i], from, to, wd[i], negLr));
        } else {
            MemorySegment[] b = state.buffers(0);
            loop.forEach((i, from, to) -> OptimKernels.sgdMomentum(p[i], g[i], b[i], from, to, wd[i], first, mom, undamped, nesterov, negLr));
        }
    }

    @Override public long steps() { return state.steps(); }

    @Override public ParamGroups groups() { return groups; }

    @Override public Map<String, Tensor> state(List<String> paramNames) { return state.snapshot(paramNames); }

    @Override public void loadState(Map<String, Tensor> s, List<String> paramNames) { state.load(s, paramNames); }
}
