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
 *   <li>erf and GELU in float, one pass over the preferred float vector: the Maclaurin series of erf for |u| &lt; 1
 *       (eleven terms; GELU: seven terms for |u| &lt; 1/2, u = x / sqrt 2); beyond, erfc(|u|) = exp(-u^2) (1 + P(s)) /
 *       (1 + 2|u|) with a fitted P (below), its quotient and its exponent's argument carried in two floats, and
 *       erf = 1 - erfc. GELU = x/2 (1 + erf(u)) needs only erfc there: 1 + erf(u) is erfc(|u|) for u &lt; 0 (so
 *       its negative tail keeps its relative accuracy until it underflows near x = -14) and 2 - erfc(u) beyond.
 *       Measured against double-precision references over [-12, 12]: erf within 8e-8 relative (1.1 ulp), GELU
 *       within 1.5e-7 relative (1.7 ulp; its negative tail within 1.25e-7).</li>
 * </ul>
 * Float results are within about 2e-7 relative of interp's correctly rounded ones. tanh, which computes in double,
 * runs in blocks of three passes (arguments, exponential, result): one loop doing all of it would be too big for
 * the JIT to compile into vector code. Float clamps are a compare and a blend, not max and min: the Vector API's
 * max and min follow Java's rules for NaN and signed zeros, which cost several instructions a vector on AVX-512
 * (GELU clamps four times); a NaN lane compares false and stays NaN either way.
 */
public final class CpuMath {
    private CpuMath() {}

    // ---- exp ------------------------------------------------------------------------------------------------

    private static final float MAGIC_F = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final int MAGIC_F_BITS = Float.floatToRawIntBits(MAGIC_F);
    private static final float LOG2E_F = 1.44269504088896341f, LN2_HI_F = 0.693359375f, LN2_LO_F = -2.12194440e-4f;
    /** Cephes expf: e^r = 1 + r + r^2 (C0 + C1 r + ... + C5 r^5) for |r| &lt;= ln2/2. */
    private static final float EXP_C0 = 5.0000001201e-1f, EXP_C1 = 1.6666665459e-1f, EXP_C2 = 4.1665795894e-2f,
            EXP_C3 = 8.3334519073e-3f, EXP_C4 = 1.3981999507e-3f, EXP_C5 = 1.9875691500e-4f;

    /** out[i] = exp(x[i]) for whole vectors of FL from {@code from}; returns where it stopped. */
    public static long exp(MemorySegment xs, MemorySegment out, long from, long to) { return expShifted(xs, out, from, to, 0f); }

    /** out[i] = exp(x[i] - shift), x[i] - shift rounded to float, for whole vectors of FL. */
    static long expShifted(MemorySegment xs, MemorySegment out, long from, long to, float shift) {
        FloatVector c5 = FloatVector.broadcast(F, EXP_C5), c4 = FloatVector.broadcast(F, EXP_C4);
        FloatVector c3 = FloatVector.broadcast(F, EXP_C3), c2 = FloatVector.broadcast(F, EXP_C2);
        FloatVector c1 = FloatVector.broadcast(F, EXP_C1), c0 = FloatVector.broadcast(F, EXP_C0);
        long i = from;
        for (; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE).sub(shift);
            x = x.blend(-104f, x.lt(-104f)).blend(89f, x.compare(VectorOperators.GT, 89f)); // beyond: 0, infinity
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

    // ---- tanh: blocks of three passes, in double ---------------------------------------------------------------

    /** Elements per block: the scratch stays in L1. */
    private static final int BLOCK = 256;
    private static final ThreadLocal<double[]> SCRATCH = ThreadLocal.withInitial(() -> new double[BLOCK]);
    public static long tanh(MemorySegment xs, MemorySegment out, long from, long to) {
        double[] buf = SCRATCH.get();
        long i = from;
        while (to - i >= DL) {
            int n = (int) Math.min(BLOCK, (to - i) / DL * DL);
            tanhArguments(xs, i, n, buf);
            expInPlace(buf, 0, n);
            tanhResults(xs, out, i, n, buf);
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

    // ---- erf and gelu: one pass in float ----------------------------------------------------------------------
    //
    // erfc(a) for a in [1/2, 21/2] is exp(-a^2) (1 + P(s)) / (1 + 2a), s = (a - 4)/(a + 4) in [-0.78, 0.45], P a
    // degree-9 least-squares fit (at Chebyshev nodes) of (1 + 2a) exp(a^2) erfc(a) - 1, which lies in [0.17, 0.29]:
    // error below 7e-9 with its coefficients rounded to float, and little sensitivity to the rounding of s. The
    // quotient (1 + P)/(1 + 2a) is kept as q + corr (corr from q's residual), and -a^2 enters the exponential's
    // reduction as an exact sum of two floats (a^2 rounded would cost up to 1e-7 a^2 relative), so erfc keeps its
    // relative accuracy to 10.5, beyond which it underflows (erfc(10.5) = 7e-50). Nothing here is a vector method
    // call: the erfc and exponential code is written out in each loop, erf, gelu and dgelu (see Simd on why: a
    // helper taking and returning vectors is past C2's inlining budget here, and then every vector is boxed).

    private static final float P0 = 0.23299512267112732f, P1 = -0.1396210789680481f, P2 = 0.015379799529910088f,
            P3 = 0.06809505820274353f, P4 = -0.10104352980852127f, P5 = 0.09376303851604462f, P6 = -0.06627238541841507f,
            P7 = 0.03700191527605057f, P8 = -0.016539789736270905f, P9 = 0.005293933674693108f;
    /** erf(x) = x sum T_n x^(2n), T_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)), rounded to float; T0M1 = T_0 - 1. */
    private static final float T0M1 = 0.12837916612625122f, T1 = -0.37612637877464294f, T2 = 0.11283791810274124f,
            T3 = -0.02686617150902748f, T4 = 0.005223977845162153f, T5 = -0.0008548327023163438f,
            T6 = 0.00012055332626914605f, T7 = -1.4925650248187594e-05f, T8 = 1.6462114444948384e-06f,
            T9 = -1.6365844146548625e-07f, T10 = 1.4807192805221803e-08f;
    /** The fit's range: |u| is clamped into it (NaN stays NaN), its results used only inside. */
    private static final float ERFC_MAX = 10.5f, ERFC_MIN = 0.5f;
    /** sqrt 2 as a sum of two floats. */
    private static final float SQRT2_HI = 1.4142135381698608f, SQRT2_LO = 2.420323420895794e-08f;
    private static final float SQRT1_2_F = 0.7071067690849304f;

    /**
     * out[i] = erf(x[i]) for whole vectors of FL: x + x (T(x^2) - 1) below |x| = 1 (eleven terms, the first
     * omitted below 1.3e-9), beyond it 1 - erfc(|x|) with x's sign.
     */
    public static long erf(MemorySegment xs, MemorySegment out, long from, long to) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), t5 = FloatVector.broadcast(F, T5);
        FloatVector t6 = FloatVector.broadcast(F, T6), t7 = FloatVector.broadcast(F, T7), t8 = FloatVector.broadcast(F, T8);
        FloatVector p0 = FloatVector.broadcast(F, P0), p1 = FloatVector.broadcast(F, P1), p2 = FloatVector.broadcast(F, P2);
        FloatVector p3 = FloatVector.broadcast(F, P3), p4 = FloatVector.broadcast(F, P4), p5 = FloatVector.broadcast(F, P5);
        FloatVector p6 = FloatVector.broadcast(F, P6), p7 = FloatVector.broadcast(F, P7);
        FloatVector c0 = FloatVector.broadcast(F, EXP_C0), c1 = FloatVector.broadcast(F, EXP_C1), c2 = FloatVector.broadcast(F, EXP_C2);
        FloatVector c3 = FloatVector.broadcast(F, EXP_C3);
        long i = from;
        for (; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE), z = x.mul(x);
            FloatVector series = x.fma(z.fma(T10, T9).fma(z, t8).fma(z, t7).fma(z, t6).fma(z, t5).fma(z, t4).fma(z, t3)
                    .fma(z, t2).fma(z, t1).fma(z, t0m1), x); // x + x (T(x^2) - 1): T0 - 1 is closer in float than T0
            // erfc(a), a = |x| clamped to the fit's range (NaN stays NaN): R = (1 + P) / (1 + 2a), then R exp(-a^2)
            FloatVector ax = x.abs(), a = ax.blend(1f, ax.lt(1f)).blend(ERFC_MAX, ax.compare(VectorOperators.GT, ERFC_MAX));
            FloatVector twoA = a.add(a), d = twoA.add(1f), dLo = twoA.sub(d).add(1f); // 1 + 2a = d + dLo exactly (2a >= 1 > 0)
            FloatVector a4 = a.add(4f), w1 = one.div(a4.mul(d)), s = a.sub(4f).mul(d.mul(w1)), v = a4.mul(w1); // one division
            FloatVector p = s.fma(P9, P8).fma(s, p7).fma(s, p6).fma(s, p5).fma(s, p4).fma(s, p3).fma(s, p2).fma(s, p1).fma(s, p0);
            FloatVector n = p.add(1f), q = n.mul(v);
            FloatVector corr = q.neg().fma(d, n).sub(q.mul(dLo)).mul(v); // n / (d + dLo) = q + corr
            FloatVector sq = a.mul(a), sqLo = a.fma(a, sq.neg()); // a^2 = sq + sqLo
            FloatVector zh = sq.neg(), t = zh.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
            FloatVector e = zh.sub(k.mul(LN2_HI_F)).sub(k.mul(LN2_LO_F)).sub(sqLo);
            FloatVector w = e.fma(EXP_C5, EXP_C4).fma(e, c3).fma(e, c2).fma(e, c1).fma(e, c0).mul(e.mul(e)).add(e);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector erfc = q.fma(w, corr.fma(w, corr)).add(q).mul(s1).mul(s2); // (q + corr)(1 + w) 2^k, 2^k as two normal factors
            FloatVector big = one.sub(erfc);
            big = big.blend(big.neg(), x.lt(0f));
            big.blend(series, ax.lt(1f)).intoMemorySegment(out, i << 2, LE);
        }
        return i;
    }

    /**
     * out[i] = gelu(x[i]) = x/2 (1 + erf(u)), u = x / sqrt 2, for whole vectors of FL. For |u| &lt; 1/2: x/2 +
     * (x/2) erf(u) with erf's series, seven terms (the first omitted below 1e-9; |erf(u) / (1 + erf(u))| is at
     * most 1.09 there, so erf's error is not magnified). Beyond, with G = |x|/2 erfc(|u|): -G for negative x (the tail keeps its relative accuracy down to
     * where it underflows), x - G for positive. 1 + 2|u| carries the rounding of x / sqrt 2 as a low part, and
     * |u|^2 = x^2 / 2 is exact as two floats. gelu(-0) = -0 and gelu(-inf) = NaN, as interp. A group of vectors all
     * in the series' range skips the erfc branch ({@link #GROUP}): activations drawn around 0, as in a freshly initialised
     * network (98% of GELU's vectors in a small32 step, 92% over the demo's 390 steps), take it.
     */
    public static long gelu(MemorySegment xs, MemorySegment out, long from, long to) {
        long end = from + (to - from) / FL * FL, i = from;
        boolean in = i < end && inner(xs, i, end);
        while (i < end) { // runs of groups of vectors all in the series' range, and of the others
            long j = Math.min(end, i + GROUP * FL);
            boolean next = in; // the group that ends a run is tested once, and starts the next
            while (j < end && (next = inner(xs, j, end)) == in) j = Math.min(end, j + GROUP * FL);
            if (in) geluInner(xs, out, i, j);
            else geluAll(xs, out, i, j);
            i = j;
            in = next;
        }
        return i;
    }

    /**
     * Vectors {@link #gelu} tests together: a group whose every |x| is below 1/sqrt 2 (|u| &lt; 1/2, where GELU is
     * erf's series alone) skips the erfc branch, three quarters of the work, with the same bits (the all-lanes loop
     * computes both branches and blends). Runs of groups go to one loop or the other: a test inside the all-lanes
     * loop pushed it past C2's budget in some compilations of the MoBY step, leaving vector blends boxed; chunks of
     * 2048 floats were seldom all in range (7% at a small32 step's start, though 98% of its vectors are). One JVM
     * alternating with the all-lanes loop alone, normal inputs of deviation 0.14 / 0.3 / 0.5 / 1: groups of 1 vector
     * 0.25 / 0.69 / 1.15 / 1.06 the time, of 2 0.28 / 0.76 / 1.04 / 1.05, of 4 0.30 / 0.95 / 1.02 / 1.02.
     */
    private static final int GROUP = 4;

    /** Whether every |x| of the group from float index {@code i} (whole vectors, up to {@code end}) is below 1/sqrt 2; NaN is not. */
    private static boolean inner(MemorySegment xs, long i, long end) {
        for (long k = i, stop = Math.min(end, i + GROUP * FL); k < stop; k += FL)
            if (!FloatVector.fromMemorySegment(F, xs, k << 2, LE).abs().lt(ERFC_MIN * SQRT2_HI).allTrue()) return false;
        return true;
    }

    /** {@link #gelu} where every |x| &lt; 1/sqrt 2: x/2 + (x/2) erf(u) from the series, -0 kept: geluAll's bits. */
    private static void geluInner(MemorySegment xs, MemorySegment out, long from, long to) {
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4);
        for (long i = from; i < to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE), hx = x.mul(0.5f);
            FloatVector z = x.mul(x).mul(0.5f);
            FloatVector u = x.mul(SQRT1_2_F), erfU = u.fma(z.fma(T6, T5).fma(z, t4).fma(z, t3).fma(z, t2).fma(z, t1).fma(z, t0m1), u);
            hx.fma(erfU, hx).blend(x, x.eq(0f)).intoMemorySegment(out, i << 2, LE);
        }
    }

    /** {@link #gelu} over whole vectors, every lane through both branches, blended. */
    private static long geluAll(MemorySegment xs, MemorySegment out, long from, long to) {
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), one = FloatVector.broadcast(F, 1f);
        FloatVector p0 = FloatVector.broadcast(F, P0), p1 = FloatVector.broadcast(F, P1), p2 = FloatVector.broadcast(F, P2);
        FloatVector p3 = FloatVector.broadcast(F, P3), p4 = FloatVector.broadcast(F, P4), p5 = FloatVector.broadcast(F, P5);
        FloatVector p6 = FloatVector.broadcast(F, P6), p7 = FloatVector.broadcast(F, P7), c0 = FloatVector.broadcast(F, EXP_C0), c1 = FloatVector.broadcast(F, EXP_C1);
        FloatVector c2 = FloatVector.broadcast(F, EXP_C2), c3 = FloatVector.broadcast(F, EXP_C3), sqrt2Hi = FloatVector.broadcast(F, SQRT2_HI);
        long i = from;
        for (; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE), hx = x.mul(0.5f);
            FloatVector z = x.mul(x).mul(0.5f);
            FloatVector u = x.mul(SQRT1_2_F), erfU = u.fma(z.fma(T6, T5).fma(z, t4).fma(z, t3).fma(z, t2).fma(z, t1).fma(z, t0m1), u);
            FloatVector small = hx.fma(erfU, hx);
            // G: xa = |x| clamped to the fit's range (NaN stays NaN), 2a = xa sqrt 2 = twoA + twoALo
            FloatVector ax = x.abs();
            FloatVector xa = ax.blend(ERFC_MIN * SQRT2_HI, ax.lt(ERFC_MIN * SQRT2_HI)).blend(ERFC_MAX * SQRT2_HI, ax.compare(VectorOperators.GT, ERFC_MAX * SQRT2_HI));
            FloatVector twoA = xa.mul(SQRT2_HI), twoALo = xa.fma(sqrt2Hi, twoA.neg()).add(xa.mul(SQRT2_LO));
            FloatVector big = twoA.blend(1f, twoA.lt(1f)), little = twoA.blend(1f, twoA.compare(VectorOperators.GT, 1f)); // max, min with 1
            FloatVector a = twoA.mul(0.5f), d = twoA.add(1f), dLo = big.sub(d).add(little).add(twoALo); // 1 + 2a = d + dLo
            FloatVector a4 = a.add(4f), w1 = one.div(a4.mul(d)), s = a.sub(4f).mul(d.mul(w1)), v = a4.mul(w1); // one division
            FloatVector p = s.fma(P9, P8).fma(s, p7).fma(s, p6).fma(s, p5).fma(s, p4).fma(s, p3).fma(s, p2).fma(s, p1).fma(s, p0);
            // n + nLo = m (1 + p) exactly, m = xa/2 (Fast2Sum: m > pm)
            FloatVector m = xa.mul(0.5f), pm = p.mul(m), n = m.add(pm), nLo = m.sub(n).add(pm).add(p.fma(m, pm.neg()));
            FloatVector q = n.mul(v);
            FloatVector corr = q.neg().fma(d, n).add(nLo).sub(q.mul(dLo)).mul(v); // (n + nLo)/(d + dLo) = q + corr
            // exp(-a^2), a^2 = (sq + sqLo) / 2
            FloatVector sq = xa.mul(xa), sqLo = xa.fma(xa, sq.neg());
            FloatVector zh = sq.mul(-0.5f), t = zh.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
            FloatVector e = zh.sub(k.mul(LN2_HI_F)).sub(k.mul(LN2_LO_F)).sub(sqLo.mul(0.5f));
            FloatVector w = e.fma(EXP_C5, EXP_C4).fma(e, c3).fma(e, c2).fma(e, c1).fma(e, c0).mul(e.mul(e)).add(e);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector g = q.fma(w, corr.fma(w, corr)).add(q).mul(s1).mul(s2); // (q + corr)(1 + w) 2^k
            FloatVector y = x.sub(g).blend(g.neg(), x.lt(0f));
            y = y.blend(small, ax.lt(ERFC_MIN * SQRT2_HI));
            y = y.blend(x, x.eq(0f)); // -0 stays -0
            y.blend(Float.NaN, x.eq(Float.NEGATIVE_INFINITY)) // -inf (1 + erf(-inf)) = -inf * 0, as interp
                    .intoMemorySegment(out, i << 2, LE);
        }
        return i;
    }

    /**
     * out[i] = gelu'(x[i]) = Phi(x) + x phi(x), Phi(x) = (1 + erf(u))/2, phi(x) = exp(-x^2/2) / sqrt(2 pi), u = x / sqrt 2,
     * for whole vectors of FL, with one exponential: E = exp(-x^2/2) (x^2/2 exact as two floats) gives phi, and for
     * |u| &gt;= 1/2 also erfc(|u|) = E (1 + P(s)) / (1 + 2|u|) as in {@link #gelu}, so Phi = erfc/2 for negative x and
     * 1 - erfc/2 for positive; below, Phi = 1/2 + erf(u)/2 from erf's series (seven terms) and E from its own series
     * ({@link #E7}: cheaper than the exponential, so the pair's and the gate's short paths use it too). NaN stays NaN. No short
     * path inside, as in {@link #gelu}: in the loop (0.63x the time at input deviation 0.14 alone) it left a vector op
     * boxed in the MoBY step (C2's budget for this method is used up), and by runs of groups, as gelu, it cost 1.19x at
     * deviation 0.3. GEMM epilogues take one outside it instead ({@link #dgeluChunk}).
     */
    public static long dgelu(MemorySegment xs, MemorySegment out, long from, long to) {
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), one = FloatVector.broadcast(F, 1f);
        FloatVector p0 = FloatVector.broadcast(F, P0), p1 = FloatVector.broadcast(F, P1), p2 = FloatVector.broadcast(F, P2);
        FloatVector p3 = FloatVector.broadcast(F, P3), p4 = FloatVector.broadcast(F, P4), p5 = FloatVector.broadcast(F, P5);
        FloatVector p6 = FloatVector.broadcast(F, P6), p7 = FloatVector.broadcast(F, P7), c0 = FloatVector.broadcast(F, EXP_C0), c1 = FloatVector.broadcast(F, EXP_C1);
        FloatVector c2 = FloatVector.broadcast(F, EXP_C2), c3 = FloatVector.broadcast(F, EXP_C3);
        FloatVector e5 = FloatVector.broadcast(F, E5), e4 = FloatVector.broadcast(F, E4), e3 = FloatVector.broadcast(F, E3);
        FloatVector e2 = FloatVector.broadcast(F, E2), e1 = FloatVector.broadcast(F, E1);
        long i = from;
        for (; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE);
            FloatVector z = x.mul(x).mul(0.5f);
            FloatVector u = x.mul(SQRT1_2_F), erfU = u.fma(z.fma(T6, T5).fma(z, t4).fma(z, t3).fma(z, t2).fma(z, t1).fma(z, t0m1), u);
            FloatVector smallPhi = erfU.fma(0.5f, 0.5f);
            // E = exp(-x^2/2) for |x| up to the fit's end (beyond, E underflows to 0 either way)
            FloatVector ax = x.abs(), xe = ax.blend(ERFC_MAX * SQRT2_HI, ax.compare(VectorOperators.GT, ERFC_MAX * SQRT2_HI));
            FloatVector sq = xe.mul(xe), sqLo = xe.fma(xe, sq.neg());
            FloatVector zh = sq.mul(-0.5f), t = zh.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
            FloatVector e = zh.sub(k.mul(LN2_HI_F)).sub(k.mul(LN2_LO_F)).sub(sqLo.mul(0.5f));
            FloatVector w = e.fma(EXP_C5, EXP_C4).fma(e, c3).fma(e, c2).fma(e, c1).fma(e, c0).mul(e.mul(e)).add(e);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector bigE = w.add(1f).mul(s1).mul(s2) // exp(-x^2/2), 2^k as two normal factors; by its series where erf's is used
                    .blend(z.fma(E7, E6).fma(z, e5).fma(z, e4).fma(z, e3).fma(z, e2).fma(z, e1).fma(z, one), ax.lt(ERFC_MIN * SQRT2_HI));
            // erfc(a), a = |u| clamped to the fit's range as gelu clamps it (so geluWithDerivative shares it): (1 + P(s)) / (1 + 2a) E
            FloatVector xa = ax.blend(ERFC_MIN * SQRT2_HI, ax.lt(ERFC_MIN * SQRT2_HI)).blend(ERFC_MAX * SQRT2_HI, ax.compare(VectorOperators.GT, ERFC_MAX * SQRT2_HI));
            FloatVector a = xa.mul(SQRT2_HI).mul(0.5f);
            FloatVector d = a.add(a).add(1f), a4 = a.add(4f), w1 = one.div(a4.mul(d)), s = a.sub(4f).mul(d.mul(w1)), v = a4.mul(w1);
            FloatVector p = s.fma(P9, P8).fma(s, p7).fma(s, p6).fma(s, p5).fma(s, p4).fma(s, p3).fma(s, p2).fma(s, p1).fma(s, p0);
            FloatVector halfErfc = p.add(1f).mul(v).mul(bigE).mul(0.5f);
            FloatVector phi = halfErfc.blend(one.sub(halfErfc), x.compare(VectorOperators.GT, 0f)).blend(smallPhi, ax.lt(ERFC_MIN * SQRT2_HI));
            phi.add(x.mul(bigE).mul(INV_SQRT_2PI_F)).intoMemorySegment(out, i << 2, LE);
        }
        return i;
    }

    private static final float INV_SQRT_2PI_F = 0.3989422804014327f;

    /** Floats of GELU's derivative computed at a time by {@link #mulDgeluBlock}, in per-thread buffers. */
    private static final int GATE_CHUNK = 1024;
    private static final ThreadLocal<GateScratch> GATE_SCRATCH = ThreadLocal.withInitial(GateScratch::new);

    /** A thread's buffers for {@link #mulDgelu}: a chunk's derivative, and its wide vectors gathered, with their results. */
    private static final class GateScratch {
        final MemorySegment d = chunk(), wide = chunk(), wideOut = chunk();
        final int[] at = new int[GATE_CHUNK / FL];

        private static MemorySegment chunk() { return java.lang.foreign.Arena.ofAuto().allocate(GATE_CHUNK * 4L, 64); }
    }

    /**
     * {@code c[i] *= dgelu(gate[i])} in place over a block of {@code rows x cols} floats from float index
     * {@code offset} of both (the same layout: rows {@code ld} floats apart), each product rounded once as
     * {@code mul(c, dgelu(gate))} rounds it; on the calling thread (a GEMM's epilogue: the gradient through a GELU).
     */
    public static void mulDgeluBlock(MemorySegment c, MemorySegment gate, long offset, int rows, int cols, long ld) {
        if (ld == cols) {
            mulDgelu(c, gate, offset, offset + (long) rows * cols);
            return;
        }
        for (int r = 0; r < rows; r++) mulDgelu(c, gate, offset + r * ld, offset + r * ld + cols);
    }

    private static void mulDgelu(MemorySegment c, MemorySegment gate, long from, long to) {
        GateScratch s = GATE_SCRATCH.get();
        MemorySegment d = s.d;
        for (long at = from; at < to; at += GATE_CHUNK) {
            int len = (int) Math.min(GATE_CHUNK, to - at);
            dgeluChunk(gate.asSlice(at << 2, (long) len << 2), len, s);
            int j = 0;
            for (; j + FL <= len; j += FL) {
                long ci = (at + j) << 2;
                FloatVector.fromMemorySegment(F, c, ci, LE).mul(FloatVector.fromMemorySegment(F, d, (long) j << 2, LE))
                        .intoMemorySegment(c, ci, LE);
            }
            for (; j < len; j++) Simd.set(c, at + j, Simd.get(c, at + j) * Simd.get(d, j));
        }
    }

    /**
     * s.d = dgelu(g) over {@code len} floats (at most a chunk): vectors whose every |x| is below 1/sqrt 2 by the series
     * branch alone ({@link #dgeluInner}), the others gathered and run through {@link #dgelu}, then put back; all of it by
     * dgelu when more than a quarter of the vectors are wide. The same bits either way (dgelu blends the series
     * branch's result into those lanes). Near initialisation nearly every vector is narrow (in a small32 step 2.4% of
     * the vectors were wide and 2.2% of the chunks went all through dgelu), and the series branch is about half of
     * dgelu's work. {@link #mulDgeluBlock} over 32768 x 192 floats on 2 threads, input deviation 0.14 / 0.3 / 1:
     * 4.95 / 5.32 / 5.42 ms before, 2.33 / 4.76 / 4.79 after.
     */
    private static void dgeluChunk(MemorySegment g, int len, GateScratch s) {
        int whole = len / FL * FL, wide = wideVectors(g, whole, s.at);
        if (wide * 4 > whole / FL) {
            Simd.elementwise(CpuMath::dgelu, g, s.d, 0, len);
            return;
        }
        dgeluInner(g, s.d, 0, whole);
        if (wide > 0) {
            for (int w = 0; w < wide; w++) MemorySegment.copy(g, (long) s.at[w] << 2, s.wide, (long) w * FL << 2, FL * 4L);
            dgelu(s.wide, s.wideOut, 0, (long) wide * FL);
            for (int w = 0; w < wide; w++) MemorySegment.copy(s.wideOut, (long) w * FL << 2, s.d, (long) s.at[w] << 2, FL * 4L);
        }
        if (whole < len)
            Simd.elementwise(CpuMath::dgelu, g.asSlice((long) whole << 2), s.d.asSlice((long) whole << 2), 0, len - whole);
    }

    /** Float indices of the vectors among the first {@code whole} floats of {@code g} with a lane |x| &gt;= 1/sqrt 2 (or NaN) into {@code at}; returns their count. */
    private static int wideVectors(MemorySegment g, int whole, int[] at) {
        int n = 0;
        for (int i = 0; i < whole; i += FL)
            if (!FloatVector.fromMemorySegment(F, g, (long) i << 2, LE).abs().lt(ERFC_MIN * SQRT2_HI).allTrue()) at[n++] = i;
        return n;
    }

    /**
     * exp(-z) = sum (-z)^n / n!, n &lt;= 7, for z = x^2/2 &lt; 1/4 (|x| &lt; 1/sqrt 2, where dgelu takes erf's series):
     * truncated below 4e-10 relative, seven multiply-adds instead of the range-reduced exponential's twenty operations.
     * Every derivative of GELU uses it on those lanes (dgelu, dgeluInner, the pair), so their bits agree.
     */
    private static final float E7 = -1f / 5040, E6 = 1f / 720, E5 = -1f / 120, E4 = 1f / 24, E3 = -1f / 6, E2 = 0.5f, E1 = -1f;

    /** {@link #dgelu} where every |x| &lt; 1/sqrt 2: Phi from erf's series and x phi(x), dgelu's bits without its erfc branch. */
    private static void dgeluInner(MemorySegment xs, MemorySegment out, long from, long to) {
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), one = FloatVector.broadcast(F, 1f);
        FloatVector e5 = FloatVector.broadcast(F, E5), e4 = FloatVector.broadcast(F, E4), e3 = FloatVector.broadcast(F, E3);
        FloatVector e2 = FloatVector.broadcast(F, E2), e1 = FloatVector.broadcast(F, E1);
        for (long i = from; i < to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE);
            FloatVector z = x.mul(x).mul(0.5f);
            FloatVector u = x.mul(SQRT1_2_F), erfU = u.fma(z.fma(T6, T5).fma(z, t4).fma(z, t3).fma(z, t2).fma(z, t1).fma(z, t0m1), u);
            FloatVector smallPhi = erfU.fma(0.5f, 0.5f);
            FloatVector bigE = z.fma(E7, E6).fma(z, e5).fma(z, e4).fma(z, e3).fma(z, e2).fma(z, e1).fma(z, one); // exp(-z), z < 1/4
            smallPhi.add(x.mul(bigE).mul(INV_SQRT_2PI_F)).intoMemorySegment(out, i << 2, LE);
        }
    }

    /**
     * GELU and its derivative of the same x at once: {@code g[i] = gelu(x[i])} and {@code d[i] = dgelu(x[i])}, the bits
     * of {@link #gelu} and {@link #dgelu} (g may be x: each vector is read before it is written). The two share the
     * series of erf, the exponential and the erfc fit, so both cost about 1.1x GELU alone: how a trained MLP's first
     * Linear stores its activation and the derivative its backward multiplies by (the gelu-pairs pass). Groups of
     * vectors all in the series' range take a short path, as gelu's.
     */
    public static void geluWithDerivative(MemorySegment xs, MemorySegment g, MemorySegment d, long from, long to) {
        long end = from + (to - from) / FL * FL, i = from;
        boolean in = i < end && inner(xs, i, end);
        while (i < end) {
            long j = Math.min(end, i + GROUP * FL);
            boolean next = in;
            while (j < end && (next = inner(xs, j, end)) == in) j = Math.min(end, j + GROUP * FL);
            if (in) pairInner(xs, g, d, i, j);
            else pairAll(xs, g, d, i, j);
            i = j;
            in = next;
        }
        if (end < to) { // the tail: the derivative first, while x is still there
            Simd.elementwise(CpuMath::dgelu, xs.asSlice(end << 2), d.asSlice(end << 2), 0, to - end);
            Simd.elementwise(CpuMath::gelu, xs.asSlice(end << 2), g.asSlice(end << 2), 0, to - end);
        }
    }

    /** {@link #geluWithDerivative} where every |x| &lt; 1/sqrt 2: geluInner's and dgeluInner's bits. */
    private static void pairInner(MemorySegment xs, MemorySegment g, MemorySegment dOut, long from, long to) {
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), one = FloatVector.broadcast(F, 1f);
        FloatVector e5 = FloatVector.broadcast(F, E5), e4 = FloatVector.broadcast(F, E4), e3 = FloatVector.broadcast(F, E3);
        FloatVector e2 = FloatVector.broadcast(F, E2), e1 = FloatVector.broadcast(F, E1);
        for (long i = from; i < to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE), hx = x.mul(0.5f);
            FloatVector z = x.mul(x).mul(0.5f);
            FloatVector u = x.mul(SQRT1_2_F), erfU = u.fma(z.fma(T6, T5).fma(z, t4).fma(z, t3).fma(z, t2).fma(z, t1).fma(z, t0m1), u);
            FloatVector bigE = z.fma(E7, E6).fma(z, e5).fma(z, e4).fma(z, e3).fma(z, e2).fma(z, e1).fma(z, one); // exp(-z), z < 1/4
            erfU.fma(0.5f, 0.5f).add(x.mul(bigE).mul(INV_SQRT_2PI_F)).intoMemorySegment(dOut, i << 2, LE);
            hx.fma(erfU, hx).blend(x, x.eq(0f)).intoMemorySegment(g, i << 2, LE);
        }
    }

    /** {@link #geluWithDerivative} over whole vectors, every lane through both branches: geluAll's and dgelu's bits. */
    private static void pairAll(MemorySegment xs, MemorySegment g, MemorySegment dOut, long from, long to) {
        FloatVector t0m1 = FloatVector.broadcast(F, T0M1), t1 = FloatVector.broadcast(F, T1), t2 = FloatVector.broadcast(F, T2);
        FloatVector t3 = FloatVector.broadcast(F, T3), t4 = FloatVector.broadcast(F, T4), one = FloatVector.broadcast(F, 1f);
        FloatVector p0 = FloatVector.broadcast(F, P0), p1 = FloatVector.broadcast(F, P1), p2 = FloatVector.broadcast(F, P2);
        FloatVector p3 = FloatVector.broadcast(F, P3), p4 = FloatVector.broadcast(F, P4), p5 = FloatVector.broadcast(F, P5);
        FloatVector p6 = FloatVector.broadcast(F, P6), p7 = FloatVector.broadcast(F, P7), c0 = FloatVector.broadcast(F, EXP_C0), c1 = FloatVector.broadcast(F, EXP_C1);
        FloatVector c2 = FloatVector.broadcast(F, EXP_C2), c3 = FloatVector.broadcast(F, EXP_C3), sqrt2Hi = FloatVector.broadcast(F, SQRT2_HI);
        FloatVector e5 = FloatVector.broadcast(F, E5), e4 = FloatVector.broadcast(F, E4), e3 = FloatVector.broadcast(F, E3);
        FloatVector e2 = FloatVector.broadcast(F, E2), e1 = FloatVector.broadcast(F, E1);
        for (long i = from; i + FL <= to; i += FL) {
            FloatVector x = FloatVector.fromMemorySegment(F, xs, i << 2, LE), hx = x.mul(0.5f);
            FloatVector z = x.mul(x).mul(0.5f);
            FloatVector u = x.mul(SQRT1_2_F), erfU = u.fma(z.fma(T6, T5).fma(z, t4).fma(z, t3).fma(z, t2).fma(z, t1).fma(z, t0m1), u);
            FloatVector small = hx.fma(erfU, hx);
            // the erfc fit as geluAll: xa = |x| clamped, a = xa / sqrt 2, p, v = 1 / (1 + 2a), G's quotient q + corr
            FloatVector ax = x.abs();
            FloatVector xa = ax.blend(ERFC_MIN * SQRT2_HI, ax.lt(ERFC_MIN * SQRT2_HI)).blend(ERFC_MAX * SQRT2_HI, ax.compare(VectorOperators.GT, ERFC_MAX * SQRT2_HI));
            FloatVector twoA = xa.mul(SQRT2_HI), twoALo = xa.fma(sqrt2Hi, twoA.neg()).add(xa.mul(SQRT2_LO));
            FloatVector big = twoA.blend(1f, twoA.lt(1f)), little = twoA.blend(1f, twoA.compare(VectorOperators.GT, 1f));
            FloatVector a = twoA.mul(0.5f), d = twoA.add(1f), dLo = big.sub(d).add(little).add(twoALo);
            FloatVector a4 = a.add(4f), w1 = one.div(a4.mul(d)), s = a.sub(4f).mul(d.mul(w1)), v = a4.mul(w1);
            FloatVector p = s.fma(P9, P8).fma(s, p7).fma(s, p6).fma(s, p5).fma(s, p4).fma(s, p3).fma(s, p2).fma(s, p1).fma(s, p0);
            FloatVector m = xa.mul(0.5f), pm = p.mul(m), n = m.add(pm), nLo = m.sub(n).add(pm).add(p.fma(m, pm.neg()));
            FloatVector q = n.mul(v);
            FloatVector corr = q.neg().fma(d, n).add(nLo).sub(q.mul(dLo)).mul(v);
            // exp(-x^2/2) as dgelu: |x| clamped at the top only (gelu's lanes below its clamp take the series instead)
            FloatVector xe = ax.blend(ERFC_MAX * SQRT2_HI, ax.compare(VectorOperators.GT, ERFC_MAX * SQRT2_HI));
            FloatVector sq = xe.mul(xe), sqLo = xe.fma(xe, sq.neg());
            FloatVector zh = sq.mul(-0.5f), t = zh.fma(LOG2E_F, MAGIC_F), k = t.sub(MAGIC_F);
            FloatVector e = zh.sub(k.mul(LN2_HI_F)).sub(k.mul(LN2_LO_F)).sub(sqLo.mul(0.5f));
            FloatVector w = e.fma(EXP_C5, EXP_C4).fma(e, c3).fma(e, c2).fma(e, c1).fma(e, c0).mul(e.mul(e)).add(e);
            IntVector ki = (IntVector) t.reinterpretAsInts().sub(MAGIC_F_BITS);
            IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
            FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            // the derivative: Phi from erfc (or the series) plus x phi(x); exp(-z) by its series where erf's is used, as dgelu
            FloatVector bigE = w.add(1f).mul(s1).mul(s2).blend(z.fma(E7, E6).fma(z, e5).fma(z, e4).fma(z, e3).fma(z, e2).fma(z, e1).fma(z, one), ax.lt(ERFC_MIN * SQRT2_HI));
            FloatVector halfErfc = p.add(1f).mul(v).mul(bigE).mul(0.5f);
            FloatVector phi = halfErfc.blend(one.sub(halfErfc), x.compare(VectorOperators.GT, 0f)).blend(erfU.fma(0.5f, 0.5f), ax.lt(ERFC_MIN * SQRT2_HI));
            phi.add(x.mul(bigE).mul(INV_SQRT_2PI_F)).intoMemorySegment(dOut, i << 2, LE);
            // GELU
            FloatVector gg = q.fma(w, corr.fma(w, corr)).add(q).mul(s1).mul(s2);
            FloatVector y = x.sub(gg).blend(gg.neg(), x.lt(0f));
            y = y.blend(small, ax.lt(ERFC_MIN * SQRT2_HI));
            y = y.blend(x, x.eq(0f));
            y.blend(Float.NaN, x.eq(Float.NEGATIVE_INFINITY)).intoMemorySegment(g, i << 2, LE);
        }
    }

    /**
     * GELU and its derivative over a block of {@code rows x cols} floats from float index {@code offset}: GELU in place
     * in {@code c}, the derivative into {@code d} (the same layout, rows {@code ld} floats apart); a GEMM's epilogue,
     * on the calling thread.
     */
    public static void geluWithDerivativeBlock(MemorySegment c, MemorySegment d, long offset, int rows, int cols, long ld) {
        if (ld == cols) {
            geluWithDerivative(c, c, d, offset, offset + (long) rows * cols);
            return;
        }
        for (int r = 0; r < rows; r++) geluWithDerivative(c, c, d, offset + r * ld, offset + r * ld + cols);
    }

    /** GELU's derivative in place over a block of C (as {@link #geluBlock}): a dgelu product computed alone. */
    public static void dgeluBlock(MemorySegment c, long offset, int rows, int cols, long ld) {
        if (ld == cols) {
            Simd.elementwise(CpuMath::dgelu, c, c, offset, offset + (long) rows * cols);
            return;
        }
        for (int r = 0; r < rows; r++) Simd.elementwise(CpuMath::dgelu, c, c, offset + r * ld, offset + r * ld + cols);
    }

    /**
     * GELU in place over a block of {@code rows x cols} floats from float index {@code offset} of {@code c}, rows
     * {@code ld} floats apart (a GEMM's epilogue), on the calling thread.
     */
    public static void geluBlock(MemorySegment c, long offset, int rows, int cols, long ld) {
        if (ld == cols) {
            Simd.elementwise(CpuMath::gelu, c, c, offset, offset + (long) rows * cols);
            return;
        }
        for (int r = 0; r < rows; r++) {
            long from = offset + r * ld;
            Simd.elementwise(CpuMath::gelu, c, c, from, from + cols);
        }
    }
}
