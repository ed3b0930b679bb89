package mobyc.runtime.optim;

import static mobyc.runtime.optim.OptimizerState.F32;

import java.lang.foreign.MemorySegment;

/**
 * The element loops of the optimisers over one piece [from, to) of a tensor, each with a Vector API form and its
 * scalar twin. The updates do the same f32 operations in the same order (fused multiply-adds included; lanewise FMA,
 * sqrt and division round like their scalar forms), so both forms give identical bits; the sum of squares adds in
 * another order (per lane, then across lanes), still in double. {@link #VECTOR} says which form runs, chosen once:
 * the vector form when the JVM has jdk.incubator.vector ({@code -Dmobyc.optim.scalar=true} forces the twin).
 */
final class OptimKernels {
    static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("mobyc.optim.scalar");

    private OptimKernels() {}

    /** AdamW's update (see {@link AdamW}) of p, m, v from g over [from, to). */
    static void adamw(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long from, long to,
                      float keep, float b1, float oneMinusB1, float b2, float oneMinusB2, float bc2Sqrt, float eps, float negStepSize) {
        long j = VECTOR ? OptimVectors.adamw(p, g, m, v, from, to, keep, b1, oneMinusB1, b2, oneMinusB2, bc2Sqrt, eps, negStepSize) : from;
        for (; j < to; j++) {
            float gj = g.getAtIndex(F32, j);
            float pj = p.getAtIndex(F32, j) * keep;
            float mj = Math.fma(gj, oneMinusB1, m.getAtIndex(F32, j) * b1);
            float vj = Math.fma(oneMinusB2 * gj, gj, v.getAtIndex(F32, j) * b2);
            float denom = (float) Math.sqrt(vj) / bc2Sqrt + eps;
            m.setAtIndex(F32, j, mj);
            v.setAtIndex(F32, j, vj);
            p.setAtIndex(F32, j, pj + negStepSize * mj / denom);
        }
    }

    /** SGD without momentum (see {@link Sgd}) over [from, to). */
    static void sgdPlain(MemorySegment p, MemorySegment g, long from, long to, float wd, float negLr) {
        long j = VECTOR ? OptimVectors.sgdPlain(p, g, from, to, wd, negLr) : from;
        for (; j < to; j++) {
            float pj = p.getAtIndex(F32, j), d = g.getAtIndex(F32, j);
            if (wd != 0) d = Math.fma(pj, wd, d);
            p.setAtIndex(F32, j, Math.fma(d, negLr, pj));
        }
    }

    /** SGD with momentum buffer b (see {@link Sgd}) over [from, to). */
    static void sgdMomentum(MemorySegment p, MemorySegment g, MemorySegment b, long from, long to, float wd,
                            boolean first, float mom, float undamped, boolean nesterov, float negLr) {
        long j = VECTOR ? OptimVectors.sgdMomentum(p, g, b, from, to, wd, first, mom, undamped, nesterov, negLr) : from;
        for (; j < to; j++) {
            float pj = p.getAtIndex(F32, j), d = g.getAtIndex(F32, j);
            if (wd != 0) d = Math.fma(pj, wd, d);
            float bj = first ? d : Math.fma(d, undamped, b.getAtIndex(F32, j) * mom);
            b.setAtIndex(F32, j, bj);
            d = nesterov ? Math.fma(bj, mom, d) : bj;
            p.setAtIndex(F32, j, Math.fma(d, negLr, pj));
        }
    }

    /** The sum of squares of g over [from, to), accumulated in double. */
    static double sumOfSquares(MemorySegment g, long from, long to) {
        double s = 0;
        long j = from;
        if (VECTOR) {
            double[] acc = {0};
            j = OptimVectors.sumOfSquares(g, from, to, acc);
            s = acc[0];
        }
        for (; j < to; j++) {
            double x = g.getAtIndex(F32, j);
            s += x * x;
        }
        return s;
    }

    /** g *= s over [from, to). */
    static void scale(MemorySegment g, long from, long to, float s) {
        long j = VECTOR ? OptimVectors.scale(g, from, to, s) : from;
        for (; j < to; j++) g.setAtIndex(F32, j, g.getAtIndex(F32, j) * s);
    }
}
