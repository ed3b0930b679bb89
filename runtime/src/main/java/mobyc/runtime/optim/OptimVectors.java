package mobyc.runtime.optim;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API forms of {@link OptimKernels}' loops: each handles whole vectors from {@code from} and returns where
 * it stopped; the caller's scalar twin does the tail. Loaded only when the JVM has jdk.incubator.vector.
 */
final class OptimVectors {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int FL = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private OptimVectors() {}

    private static FloatVector load(MemorySegment s, long j) { return FloatVector.fromMemorySegment(F, s, j << 2, LE); }

    static long adamw(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long from, long to,
                      float keep, float b1, float oneMinusB1, float b2, float oneMinusB2, float bc2Sqrt, float eps, float negStepSize) {
        FloatVector vKeep = FloatVector.broadcast(F, keep), vB1 = FloatVector.broadcast(F, b1), vOmB1 = FloatVector.broadcast(F, oneMinusB1);
        FloatVector vB2 = FloatVector.broadcast(F, b2), vOmB2 = FloatVector.broadcast(F, oneMinusB2), vBc2 = FloatVector.broadcast(F, bc2Sqrt);
        FloatVector vEps = FloatVector.broadcast(F, eps), vNeg = FloatVector.broadcast(F, negStepSize);
        long j = from;
        for (; j + FL <= to; j += FL) {
            FloatVector gj = load(g, j);
            FloatVector pj = load(p, j).mul(vKeep);
            FloatVector mj = gj.fma(vOmB1, load(m, j).mul(vB1));
            FloatVector vj = vOmB2.mul(gj).fma(gj, load(v, j).mul(vB2));
            FloatVector denom = vj.sqrt().div(vBc2).add(vEps);
            mj.intoMemorySegment(m, j << 2, LE);
            vj.intoMemorySegment(v, j << 2, LE);
            pj.add(vNeg.mul(mj).div(denom)).intoMemorySegment(p, j << 2, LE);
        }
        return j;
    }

    static long sgdPlain(MemorySegment p, MemorySegment g, long from, long to, float wd, float negLr) {
        FloatVector vWd = FloatVector.broadcast(F, wd), vLr = FloatVector.broadcast(F, negLr);
        long j = from;
        for (; j + FL <= to; j += FL) {
            FloatVector pj = load(p, j), d = load(g, j);
            if (wd != 0) d = pj.fma(vWd, d);
            d.fma(vLr, pj).intoMemorySegment(p, j << 2, LE);
        }
        return j;
    }

    static long sgdMomentum(MemorySegment p, MemorySegment g, MemorySegment b, long from, long to, float wd,
                            boolean first, float mom, float undamped, boolean nesterov, float negLr) {
        FloatVector vWd = FloatVector.broadcast(F, wd), vLr = FloatVector.broadcast(F, negLr);
        FloatVector vMom = FloatVector.broadcast(F, mom), vUn = FloatVector.broadcast(F, undamped);
        long j = from;
        for (; j + FL <= to; j += FL) {
            FloatVector pj = load(p, j), d = load(g, j);
            if (wd != 0) d = pj.fma(vWd, d);
            FloatVector bj = first ? d : d.fma(vUn, load(b, j).mul(vMom));
            bj.intoMemorySegment(b, j << 2, LE);
            d = nesterov ? bj.fma(vMom, d) : bj;
            d.fma(vLr, pj).intoMemorySegment(p, j << 2, LE);
        }
        return j;
    }

    /** Adds the squares of whole vectors from {@code from} (in double) to {@code acc[0]}; returns where it stopped. */
    static long sumOfSquares(MemorySegment g, long from, long to, double[] acc) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = DoubleVector.zero(D);
        int parts = FL / D.length(); // float lanes per double vector: 2 on every shape
        long j = from;
        for (; j + FL <= to; j += FL) {
            FloatVector x = load(g, j);
            DoubleVector d0 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            a0 = a0.add(d0.mul(d0));
            if (parts > 1) {
                DoubleVector d1 = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
                a1 = a1.add(d1.mul(d1));
            }
        }
        acc[0] += a0.add(a1).reduceLanes(VectorOperators.ADD);
        return j;
    }

    static long scale(MemorySegment g, long from, long to, float s) {
        FloatVector vs = FloatVector.broadcast(F, s);
        long j = from;
        for (; j + FL <= to; j += FL) load(g, j).mul(vs).intoMemorySegment(g, j << 2, LE);
        return j;
    }
}
