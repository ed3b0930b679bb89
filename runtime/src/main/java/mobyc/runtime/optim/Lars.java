package mobyc.runtime.optim;

import static mobyc.runtime.optim.OptimizerState.F32;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import mobyc.runtime.Tensor;

/**
 * LARS as MoCo v3 defines it (facebookresearch/moco-v3, {@code moco/optimizer.py}, class {@code LARS}; MAE's
 * {@code util/lars.py} is the same), the usual optimiser of large-batch linear probes. For each parameter p
 * with gradient g:
 * <pre>
 *   if p is adapted:
 *     d = g + wd * p
 *     q = eta * ||p|| / ||d||   when ||p|| > 0 and ||d|| > 0, else 1      (trust ratio; L2 norms)
 *     d = d * q
 *   else d = g
 *   mu = momentum * mu + d
 *   p  = p - lr * mu
 * </pre>
 * MoCo v3 adapts (and decays) the parameters with more than one dimension; here the parameters that
 * {@link ParamGroups} marks "decay" are adapted, which is the same set whenever the groups' only
 * "no decay" reason is 1-D (a linear head's weight and bias). Note the trust ratio divides by the norm of the
 * decayed gradient ||g + wd p||, not by ||g|| + wd ||p|| as in the LARS paper (You et al., 2017).
 * Norms are accumulated in double and rounded to f32; the rest is f32 like torch.
 * State: {@code mu} per parameter.
 */
public final class Lars implements Optimizer {
    private final ParamGroups groups;
    private final double momentum, weightDecay, trustCoefficient;
    private final OptimizerState state;

    public Lars(ParamGroups groups, double momentum, double weightDecay, double trustCoefficient) {
        if (!(momentum >= 0) || !(weightDecay >= 0) || !(trustCoefficient > 0))
            throw new IllegalArgumentException("LARS needs momentum >= 0, weight decay >= 0 and trust coefficient > 0: "
                    + momentum + ", " + weightDecay + ", " + trustCoefficient);
        this.groups = groups;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.trustCoefficient = trustCoefficient;
        this.state = new OptimizerState(groups, "mu");
    }

    /** MoCo v3's defaults: momentum 0.9, trust coefficient 0.001. */
    public Lars(ParamGroups groups, double weightDecay) { this(groups, 0.9, weightDecay, 0.001); }

    @Override
    public void step(List<Tensor> params, List<Tensor> grads, double lr) {
        state.prepare(params, grads);
        state.advance();
        float negLr = (float) -lr, mom = (float) momentum, wd = (float) weightDecay, eta = (float) trustCoefficient;
        for (int i = 0; i < params.size(); i++) {
            MemorySegment p = params.get(i).segment(), g = grads.get(i).segment();
            long n = params.get(i).numel();
            boolean adapt = groups.decays(i);
            float q = adapt ? trustRatio(p, g, n, wd, eta) : 1f;
            MemorySegment mu = state.buffer(0, i);
            for (long j = 0; j < n; j++) {
                float pj = p.getAtIndex(F32, j), d = g.getAtIndex(F32, j);
                if (adapt) d = Math.fma(pj, wd, d) * q;
                float m = mu.getAtIndex(F32, j) * mom + d;
                mu.setAtIndex(F32, j, m);
                p.setAtIndex(F32, j, Math.fma(m, negLr, pj));
            }
        }
    }

    private static float trustRatio(MemorySegment p, MemorySegment g, long n, float wd, float eta) {
        double pp = 0, dd = 0;
        for (long j = 0; j < n; j++) {
            float pj = p.getAtIndex(F32, j), d = Math.fma(pj, wd, g.getAtIndex(F32, j));
            pp += (double) pj * pj;
            dd += (double) d * d;
        }
        float paramNorm = (float) Math.sqrt(pp), updateNorm = (float) Math.sqrt(dd);
        return paramNorm > 0 && updateNorm > 0 ? eta * paramNorm / updateNorm : 1f;
    }

    @Override public long steps() { return state.steps(); }

    @Override public ParamGroups groups() { return groups; }

    @Override public Map<String, Tensor> state(List<String> paramNames) { return state.snapshot(paramNames); }

    @Override public void loadState(Map<String, Tensor> s, List<String> paramNames) { state.load(s, paramNames); }
}
