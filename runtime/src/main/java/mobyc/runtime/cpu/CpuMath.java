package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.D;
import static mobyc.runtime.cpu.Simd.DL;
import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.H;
import static mobyc.runtime.cpu.Simd.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * exp, log, tanh, sigmoid, erf and the exact GELU as loops over memory, built only from IEEE operations (add,
 * multiply, fma, divide, compare, bit moves), never from the Vector API's EXP, LOG or TANH, so they give the same
 * bits compiled or interpreted (see {@link Simd}). Each loop handles whole vectors from {@code from} and returns
 * where it stopped; {@link Simd#elementwise} finishes the rest on a padded copy.
 * <ul>
 *   <li>float exp: Cephes' expf, 2^k e^r with |r| &le; ln2/2 and a degree-6 polynomial, about 1 ulp; 2^k applied as
 *       two normal factors so that denormal results are rounded once;</li>
 *   <li>double exp: the same reduction with the degree-9 Taylor polynomial, below 1e-11 relative (its results
 *       are rounded to float);</li>
 *   <li>log: log m + e ln 2 for x = m 2^e, m in [sqrt(1/2), sqrt 2), log m = 2 atanh(s), s = (m-1)/(m+1), by its
 *       series, in double;</li>
 *   <li>tanh: (1 - e^-2|x|) / (1 + e^-2|x|) in double, its Maclaurin series below 1e-3;</li>
 *   <li>erf and GELU in double: for |x| &lt; 1 the Maclaurin series of erf, twelve terms (the first omitted one is
 *       below 1e-10); beyond, erfc(|x|) = t exp(-x^2 + P(t)), t = 1/(1 + |x|/2), the Chebyshev fit of Numerical
 *       Recipes ({@code erfcc}, fractional error below 1.2e-7), and erf = 1 - erfc. GELU needs only erfc:
 *       1 + erf(u) is erfc(|u|) for u &lt; 0 (so its negative tail keeps its relative accuracy) and 2 - erfc(u)
 *       beyond.</li>
 * </ul>
 * Float results are within about 2e-7 relative of interp's correctly rounded ones. The double-precision functions
 * that need an exponential run in blocks of three passes (arguments, exponential, result): one loop doing all of
 * it would be too big for the JIT to compile into vector code.
 */
public final class CpuMath {
    private CpuMath() {}

    // ---- exp ------------------------------------------------------------------------------------------------

    private static final float MAGIC_F = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final int MAGIC_F_BITS = Float.floatToRawIntBits(MAGIC_F);
    private static final float LOG2E_F = 1.44269504088896341f, LN2_HI_F = 0.693359375f, LN2_LO_F = -2.12194440e-4f;

    /** out[i] = exp(x[i]) for whole vectors of FL from {@code from}; returns where it stopped. */
    public static long exp(MemorySegment xs, MemorySegment out, long from, long to) { return expShifted(xs, out, from, to, 0f); }

    /** out[i] = exp(x[i] - shift), x[i] - shift rounded to float, for whole vectors of FL. */
    static long expShifted(MemorySegment xs, MemorySegment out, long from, long to, float shift) {
        FloatVector c5 = FloatVector.broadcast(F, 1.9875691500e-4f), c4 = FloatVector.broadcast(F, 1.3981999507e-3f);
        FloatVector c3 = FloatVector.broadcast(F, 8.3334519073e-3f), c2 = FloatVector.broadcast(F, 4.1665795894e-2f);
        FloatVector c1 = FloatVector.broadcast(F, 1.6666665459e-1f), c0 = FloatVector.broadcast(F, 5.0000001201e-1f);
        long i = from;
        for (; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE).sub(shift).max(-104f).min(89f); // beyond: 0, infinity
            FloatVector t = x.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
            FloatVector r = x.sub(k.mul(LN2_HI_F)).sub(k.mul(LN2_LO_F)); // k * LN2_HI_F is exact
            FloatVector p = r.fma(c5, c4).fma(r, c3).fma(r, c2).fma(r, c1).fma(r, c0);
            FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            y.mul(s1).mul(s2).intoMemorySegment(out, i << 2, LE);
        }
        return i;
    }

    private static final double MAGIC_D = 6755399441055744.0; // 1.5 * 2^52
    private static final long MAGIC_D_BITS = Double.doubleToRawLongBits(MAGIC_D);
    private static final double LOG2E = 1.4426950408889634, LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;

    /** buf[k] = exp(buf[k]) for k in [from, from + n), n a multiple of DL. */
    private static void expInPlace(double[] buf, int from, int n) {
        DoubleVector c9 = DoubleVector.broadcast(D, 1.0 / 362880), c8 = DoubleVector.broadcast(D, 1.0 / 40320);
        DoubleVector c7 = DoubleVector.broadcast(D, 1.0 / 5040), c6 = DoubleVector.broadcast(D, 1.0 / 720);
        DoubleVector c5 = DoubleVector.broadcast(D, 1.0 / 120), c4 = DoubleVector.broadcast(D, 1.0 / 24);
        DoubleVector c3 = DoubleVector.broadcast(D, 1.0 / 6), c2 = DoubleVector.broadcast(D, 0.5), one = DoubleVector.broadcast(D, 1.0);
        for (int k = from; k < from + n; k += DL) {
            DoubleVector x = DoubleVector.fromArray(D, buf, k).max(-708.0).min(709.0);
            DoubleVector t = x.fma(LOG2E, MAGIC_D), e = t.sub(MAGIC_D);
            DoubleVector r = x.sub(e.mul(LN2_HI)).sub(e.mul(LN2_LO)); // e * LN2_HI is exact
            DoubleVector p = r.fma(c9, c8).fma(r, c7).fma(r, c6).fma(r, c5).fma(r, c4).fma(r, c3)
                    .fma(r, c2).fma(r, one).fma(r, one);
            LongVector scale = ((LongVector) t.reinterpretAsLongs()).sub(MAGIC_D_BITS).add(1023).lanewise(VectorOperators.LSHL, 52);
            p.mul(scale.reinterpretAsDoubles()).intoArray(buf, k);
        }
    }

    // ---- log ------------------------------------------------------------------------------------------------

    private static final double SQRT2 = Math.sqrt(2), LN2 = Math.log(2);

    /** out[i] = log(x[i]) for whole vectors of DL; 0 gives -infinity, negatives and NaN give NaN. */
    public static long log(MemorySegment xs, MemorySegment out, long from, long to) {
        DoubleVector c9 = DoubleVector.broadcast(D, 1.0 / 19), c8 = DoubleVector.broadcast(D, 1.0 / 17);
        DoubleVector c7 = DoubleVector.broadcast(D, 1.0 / 15), c6 = DoubleVector.broadcast(D, 1.0 / 13);
        DoubleVector c5 = DoubleVector.broadcast(D, 1.0 / 11), c4 = DoubleVector.broadcast(D, 1.0 / 9);
        DoubleVector c3 = DoubleVector.broadcast(D, 1.0 / 7), c2 = DoubleVector.broadcast(D, 1.0 / 5), c1 = DoubleVector.broadcast(D, 1.0 / 3);
        long i = from;
        for (; i + DL <= to; i += DL) {
            DoubleVector x = (DoubleVector) FloatVector.fromMemorySegment(H, xs, i << 2, LE).convertShape(VectorOperators.F2D, D, 0);
            LongVector bits = (LongVector) x.reinterpretAsLongs(); // floats are normal doubles
            DoubleVector e = (DoubleVector) bits.lanewise(VectorOperators.LSHR, 52).sub(1023).convert(VectorOperators.L2D, 0);
            DoubleVector m = bits.and(0x000FFFFFFFFFFFFFL).or(0x3FF0000000000000L).reinterpretAsDoubles(); // [1, 2)
            VectorMask<Double> high = m.compare(VectorOperators.GT, SQRT2);
            m = m.blend(m.mul(0.5), high);
            e = e.blend(e.add(1.0), high);
            DoubleVector f = m.sub(1.0), s = f.div(f.add(2.0)), z = s.mul(s), twoS = s.add(s);
            DoubleVector series = z.fma(c9, c8).fma(z, c7).fma(z, c6).fma(z, c5).fma(z, c4).fma(z, c3).fma(z, c2).fma(z, c1);
            DoubleVector r = twoS.fma(z.mul(series), twoS).add(e.mul(LN2)); // 2 atanh(s) + e ln 2
            r = r.blend(Double.NEGATIVE_INFINITY, x.eq(0.0));
            r = r.blend(Double.POSITIVE_INFINITY, x.eq(Double.POSITIVE_INFINITY));
            r = r.blend(Double.NaN, x.lt(0.0).or(x.test(VectorOperators.IS_NAN)));
            r.convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(out, i << 2, LE);
        }
        return i;
    }

    // ---- sigmoid --------------------------------------------------------------------------------------------

    /** out[i] = 1 / (1 + exp(-x[i])) over [from, to): e = exp(-|x|) never overflows; e/(1+e) for negative x. */
    public static void sigmoid(MemorySegment xs, MemorySegment out, long from, long to) {
        long i = from;
        for (; i + FL <= to; i += FL) FloatVector.fromMemorySegment(F, xs, i << 2, LE).abs().neg().intoMemorySegment(out, i << 2, LE);
        for (; i < to; i++) Simd.set(out, i, -Math.abs(Simd.get(xs, i)));
        Simd.elementwise(CpuMath::exp, out, out, from, to);
        FloatVector one = FloatVector.broadcast(F, 1f);
        i = from;
        for (; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE), e = FloatVector.fromMemorySegment(F, out, i << 2, LE);
            FloatVector s = one.div(e.add(1f));
            s.blend(e.mul(s), x.lt(0f)).intoMemorySegment(out, i << 2, LE);
        }
        for (; i < to; i++) {
            float e = Simd.get(out, i), s = 1f / (e + 1f);
            Simd.set(out, i, Simd.get(xs, i) < 0f ? e * s : s);
        }
    }

    // ---- tanh, erf and gelu: blocks of three passes -----------------------------------------------------------

    /** Elements per block: the scratch stays in L1. */
    private static final int BLOCK = 256;
    private static final ThreadLocal<double[]> SCRATCH = ThreadLocal.withInitial(() -> new double[2 * BLOCK]);
    private static final double SQRT1_2 = Math.sqrt(0.5);

    private enum Fn { TANH, ERF, GELU }

    public static long tanh(MemorySegment xs, MemorySegment out, long from, long to) { return blocks(Fn.TANH, xs, out, from, to); }

    public static long erf(MemorySegment xs, MemorySegment out, long from, long to) { return blocks(Fn.ERF, xs, out, from, to); }

    /** gelu(x) = x/2 (1 + erf(x / sqrt 2)). */
    public static long gelu(MemorySegment xs, MemorySegment out, long from, long to) { return blocks(Fn.GELU, xs, out, from, to); }

    private static long blocks(Fn fn, MemorySegment xs, MemorySegment out, long from, long to) {
        double[] buf = SCRATCH.get();
        long i = from;
        while (to - i >= DL) {
            int n = (int) Math.min(BLOCK, (to - i) / DL * DL);
            if (fn == Fn.TANH) tanhArguments(xs, i, n, buf);
            else erfcArguments(xs, i, n, fn == Fn.GELU ? SQRT1_2 : 1.0, buf);
            expInPlace(buf, 0, n);
            switch (fn) {
                case TANH -> tanhResults(xs, out, i, n, buf);
                case ERF -> erfResults(xs, out, i, n, buf);
                case GELU -> geluResults(xs, out, i, n, buf);
            }
            i += n;
        }
        return i;
    }

    private static void tanhArguments(MemorySegment xs, long at, int n, double[] buf) {
        for (int k = 0; k < n; k += DL)
            ((DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + k) << 2, LE).convertShape(VectorOperators.F2D, D, 0))
                    .abs().mul(-2.0).intoArray(buf, k);
    }

    /** With e = exp(-2|x|) in buf: (1 - e)/(1 + e) with x's sign; x (1 - x^2/3 + 2x^4/15) below 1e-3. */
    private static void tanhResults(MemorySegment xs, MemorySegment out, long at, int n, double[] buf) {
        for (int k = 0; k < n; k += DL) {
            DoubleVector x = (DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + k) << 2, LE).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector e = DoubleVector.fromArray(D, buf, k);
            DoubleVector big = e.neg().add(1.0).div(e.add(1.0));
            big = big.blend(big.neg(), x.lt(0.0));
            DoubleVector z = x.mul(x), small = x.fma(z.mul(z.fma(2.0 / 15, -1.0 / 3)), x);
            big.blend(small, x.abs().lt(1e-3)).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(out, (at + k) << 2, LE);
        }
    }

    /** For a = |x scale| and t = 1/(1 + a/2): buf[k] = P(t) - a^2 and buf[BLOCK + k] = t (then erfc = t exp(buf[k])). */
    private static void erfcArguments(MemorySegment xs, long at, int n, double scale, double[] buf) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        DoubleVector p9 = DoubleVector.broadcast(D, 0.17087277), p8 = DoubleVector.broadcast(D, -0.82215223);
        DoubleVector p7 = DoubleVector.broadcast(D, 1.48851587), p6 = DoubleVector.broadcast(D, -1.13520398);
        DoubleVector p5 = DoubleVector.broadcast(D, 0.27886807), p4 = DoubleVector.broadcast(D, -0.18628806);
        DoubleVector p3 = DoubleVector.broadcast(D, 0.09678418), p2 = DoubleVector.broadcast(D, 0.37409196);
        DoubleVector p1 = DoubleVector.broadcast(D, 1.00002368), p0 = DoubleVector.broadcast(D, -1.26551223);
        for (int k = 0; k < n; k += DL) {
            DoubleVector a = ((DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + k) << 2, LE)
                    .convertShape(VectorOperators.F2D, D, 0)).mul(scale).abs();
            DoubleVector t = one.div(a.fma(0.5, 1.0));
            DoubleVector p = t.fma(p9, p8).fma(t, p7).fma(t, p6).fma(t, p5).fma(t, p4).fma(t, p3).fma(t, p2).fma(t, p1).fma(t, p0);
            p.sub(a.mul(a)).intoArray(buf, k);
            t.intoArray(buf, BLOCK + k);
        }
    }

    private static final double S0 = erfTerm(0), S1 = erfTerm(1), S2 = erfTerm(2), S3 = erfTerm(3), S4 = erfTerm(4),
            S5 = erfTerm(5), S6 = erfTerm(6), S7 = erfTerm(7), S8 = erfTerm(8), S9 = erfTerm(9), S10 = erfTerm(10), S11 = erfTerm(11);

    /** c_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)): erf(x) = x sum c_n x^(2n). */
    private static double erfTerm(int n) {
        double factorial = 1;
        for (int i = 2; i <= n; i++) factorial *= i;
        return 2 / Math.sqrt(Math.PI) * (n % 2 == 0 ? 1 : -1) / (factorial * (2 * n + 1));
    }

    /** With exp(P(t) - a^2) in buf[k] and t in buf[BLOCK + k]: the series below |x| = 1, 1 - erfc beyond. */
    private static void erfResults(MemorySegment xs, MemorySegment out, long at, int n, double[] buf) {
        for (int k = 0; k < n; k += DL) {
            DoubleVector x = (DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + k) << 2, LE).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector z = x.mul(x);
            DoubleVector series = z.fma(S11, S10).fma(z, DoubleVector.broadcast(D, S9)).fma(z, DoubleVector.broadcast(D, S8))
                    .fma(z, DoubleVector.broadcast(D, S7)).fma(z, DoubleVector.broadcast(D, S6)).fma(z, DoubleVector.broadcast(D, S5))
                    .fma(z, DoubleVector.broadcast(D, S4)).fma(z, DoubleVector.broadcast(D, S3)).fma(z, DoubleVector.broadcast(D, S2))
                    .fma(z, DoubleVector.broadcast(D, S1)).fma(z, DoubleVector.broadcast(D, S0));
            DoubleVector erfc = DoubleVector.fromArray(D, buf, k).mul(DoubleVector.fromArray(D, buf, BLOCK + k));
            DoubleVector outer = erfc.neg().add(1.0);
            outer = outer.blend(outer.neg(), x.lt(0.0));
            outer.blend(x.mul(series), x.abs().lt(1.0)).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(out, (at + k) << 2, LE);
        }
    }

    /** With erfc(|u|) = buf[k] buf[BLOCK + k] for u = x / sqrt 2: x/2 (1 + erf(u)), 1 + erf(u) = erfc(|u|) for u &lt; 0, 2 - erfc(u) beyond. */
    private static void geluResults(MemorySegment xs, MemorySegment out, long at, int n, double[] buf) {
        for (int k = 0; k < n; k += DL) {
            DoubleVector x = (DoubleVector) FloatVector.fromMemorySegment(H, xs, (at + k) << 2, LE).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector erfc = DoubleVector.fromArray(D, buf, k).mul(DoubleVector.fromArray(D, buf, BLOCK + k));
            x.mul(0.5).mul(erfc.neg().add(2.0).blend(erfc, x.lt(0.0))).convertShape(VectorOperators.D2F, H, 0).intoMemorySegment(out, (at + k) << 2, LE);
        }
    }
}
