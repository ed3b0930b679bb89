package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Diff.check;
import static mobyc.runtime.cpu.Diff.randn;
import static mobyc.runtime.cpu.Diff.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.SpecialFunctions;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CpuElementwiseTest {
    private static final float[] SPECIAL = {0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        1e-30f, -1e-30f, 1e-6f, 0.5f, -0.5f, 3f, -3f, 7.5f, -7.5f, 20f, -20f, 89f, -89f, 1e30f, -1e30f, Float.MIN_VALUE, Float.MAX_VALUE};

    /**
     * Absolute tolerance: interp's GELU computes 1 + erf(x/sqrt 2) in double, which cancels below x = -5 (an
     * absolute error near 1e-16 |x|); the cpu kernel takes erfc there and is the more accurate of the two.
     */
    private static double floor(Op.UnaryFn fn) {
        return switch (fn) {
            case GELU -> 1e-14;
            case DGELU -> 6e-7; // Phi(x) + x phi(x) cancels near x = -0.75: its error scales with its terms (< 1.2)
            default -> 1e-44;
        };
    }

    /** Relative tolerance of each unary function (the vector library's transcendentals are within an ulp or two). */
    private static double tolerance(Op.UnaryFn fn) {
        return switch (fn) {
            case NEG, ABS, RELU, SQRT, FLOOR -> 0;
            case ERF, GELU, DGELU -> 4e-7;
            default -> 3e-7;
        };
    }

    @ParameterizedTest
    @EnumSource(Op.UnaryFn.class)
    void unaryMatchesInterpOverTails(Op.UnaryFn fn) {
        double scale = fn == Op.UnaryFn.EXP || fn == Op.UnaryFn.SIGMOID ? 10 : 4;
        for (int n : Diff.SIZES) {
            Tensor x = randn(n, scale, n);
            if (fn == Op.UnaryFn.LOG || fn == Op.UnaryFn.SQRT || fn == Op.UnaryFn.RSQRT) x = abs(x);
            check(fn + " n=" + n, new Op.Unary(fn), DType.F32, shape(n), tolerance(fn), floor(fn), x);
        }
        check(fn + " parallel", new Op.Unary(fn), DType.F32, shape(3, 100_003), tolerance(fn), floor(fn), randn(9, scale, 3, 100_003));
    }

    @ParameterizedTest
    @EnumSource(Op.UnaryFn.class)
    void unaryMatchesInterpOnSpecialValues(Op.UnaryFn fn) {
        Tensor x = Tensor.of(SPECIAL, SPECIAL.length);
        check(fn + " special", new Op.Unary(fn), DType.F32, shape(SPECIAL.length), tolerance(fn), floor(fn), x);
    }

    /**
     * A dense sweep of [-12, 12] (every 2.5e-5, and every float near the branch points) against SpecialFunctions'
     * double-precision erf and erfc: the worst relative error of erf, and of GELU where its result is a normal
     * float (down to x = -13; its negative tail is x/2 erfc(-x / sqrt 2), small but exactly representable).
     */
    @Test
    void erfAndGeluAreAccurateAcrossTheirRange() {
        int dense = 960_001, near = 4096;
        float[] points = {1f, -1f, 0.25f * (float) Math.sqrt(2), -0.25f * (float) Math.sqrt(2), 12f, -12f};
        int n = dense + points.length * 2 * near;
        float[] v = new float[n];
        for (int i = 0; i < dense; i++) v[i] = (float) (-12.0 + 24.0 * i / (dense - 1));
        int at = dense;
        for (float p : points) {
            float up = p, down = p;
            for (int k = 0; k < near; k++) {
                v[at++] = up = Math.nextUp(up);
                v[at++] = down = Math.nextDown(down);
            }
        }
        Tensor x = Tensor.of(v, n);
        Tensor erf = Diff.cpu(new Op.Unary(Op.UnaryFn.ERF), DType.F32, shape(n), x);
        Tensor gelu = Diff.cpu(new Op.Unary(Op.UnaryFn.GELU), DType.F32, shape(n), x);
        double worstErf = 0, worstGelu = 0, worstGeluAbs = 0;
        float worstErfAt = 0, worstGeluAt = 0;
        for (int i = 0; i < n; i++) {
            double e = SpecialFunctions.erf(v[i]), g = 0.5 * v[i] * SpecialFunctions.erfc(-v[i] / Math.sqrt(2));
            double re = e == 0 ? Math.abs(erf.getFloat(i)) : Math.abs(erf.getFloat(i) - e) / Math.abs(e);
            if (re > worstErf) { worstErf = re; worstErfAt = v[i]; }
            double ag = Math.abs(gelu.getFloat(i) - g);
            worstGeluAbs = Math.max(worstGeluAbs, ag);
            if (Math.abs(g) >= Float.MIN_NORMAL && ag / Math.abs(g) > worstGelu) { worstGelu = ag / Math.abs(g); worstGeluAt = v[i]; }
        }
        System.out.printf("erf: worst relative error %.3g at %s; gelu: worst relative error %.3g at %s, worst absolute %.3g%n",
                worstErf, worstErfAt, worstGelu, worstGeluAt, worstGeluAbs);
        // measured: erf 7.7e-8 (about 1.1 ulp, near |x| = 1), gelu 1.4e-7 (about 1.7 ulp, near x = -0.7; its tail
        // to x = -13 within 1.25e-7), gelu absolute 2.4e-7 (the rounding of results near 12)
        assertEquals(0, worstErf, 1.2e-7, "erf: worst relative error");
        assertEquals(0, worstGelu, 2e-7, "gelu: worst relative error");
        assertEquals(0, worstGeluAbs, 5e-7, "gelu: worst absolute error");
        check("erf sweep", new Op.Unary(Op.UnaryFn.ERF), DType.F32, shape(n), tolerance(Op.UnaryFn.ERF), floor(Op.UnaryFn.ERF), x);
        check("gelu sweep", new Op.Unary(Op.UnaryFn.GELU), DType.F32, shape(n), tolerance(Op.UnaryFn.GELU), floor(Op.UnaryFn.GELU), x);
    }

    /**
     * GELU's derivative (DGELU, the op of GELU's backward) over [-15, 15] every 3e-5 against Phi(x) + x phi(x) in
     * double: the error is measured against the size of the two terms (they cancel near x = -0.75, where the
     * derivative is 0), and the result is exactly 0 or 1 where it should underflow or round there.
     */
    @Test
    void dgeluIsAccurateAcrossItsRange() {
        int n = 1_000_001;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (-15.0 + 30.0 * i / (n - 1));
        Tensor x = Tensor.of(v, n);
        Tensor d = Diff.cpu(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(n), x);
        Tensor interp = Diff.interp(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(n), x);
        double worst = 0, worstInterp = 0;
        float worstAt = 0;
        for (int i = 0; i < n; i++) {
            double cdf = 0.5 * SpecialFunctions.erfc(-v[i] / Math.sqrt(2)), xpdf = v[i] * Math.exp(-0.5 * v[i] * v[i]) / Math.sqrt(2 * Math.PI);
            double scale = Math.max(Math.abs(cdf), Math.abs(xpdf)) + Float.MIN_NORMAL;
            double err = Math.abs(d.getFloat(i) - (cdf + xpdf)) / scale;
            if (err > worst) { worst = err; worstAt = v[i]; }
            worstInterp = Math.max(worstInterp, Math.abs(interp.getFloat(i) - (cdf + xpdf)) / scale);
        }
        System.out.printf("dgelu: worst error %.3g of its terms' size at %s (interp %.3g)%n", worst, worstAt, worstInterp);
        assertEquals(0, worst, 5e-7, "dgelu: worst error relative to its terms");
        assertEquals(0, worstInterp, 1.2e-7, "interp dgelu: worst error relative to its terms");
        assertEquals(1f, Diff.cpu(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(1), Tensor.of(new float[] {30f}, 1)).getFloat(0));
        assertEquals(0f, Diff.cpu(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(1), Tensor.of(new float[] {-30f}, 1)).getFloat(0));
        assertTrue(Float.isNaN(Diff.cpu(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(1), Tensor.of(new float[] {Float.NaN}, 1)).getFloat(0)));
    }

    /**
     * GELU takes groups of vectors whose every |x| is below 1/sqrt 2 by a short path: the same bits as the same
     * value in a vector that also holds a wide lane (the long path, which blends the short path's results); its
     * derivative (one path) alike. Values near 0, +-0, and just inside the bound; each appears in both kinds of vector.
     */
    @Test
    void geluShortPathHasTheLongPathsBits() {
        int lanes = Simd.FL, groups = 400;
        float bound = 0.5f * 1.4142135381698608f;
        Tensor x = Tensor.zeros(DType.F32, shape(2L * groups * lanes));
        java.util.Random rnd = new java.util.Random(3);
        for (int g = 0; g < groups; g++)
            for (int l = 0; l < lanes; l++) {
                float v = switch ((g + l) % 5) {
                    case 0 -> 0f;
                    case 1 -> -0f;
                    case 2 -> Math.nextDown(bound) * (rnd.nextBoolean() ? 1 : -1);
                    default -> (float) (rnd.nextGaussian() * 0.2);
                };
                v = Math.max(-Math.nextDown(bound), Math.min(Math.nextDown(bound), v));
                x.setFloat((long) g * lanes + l, v); // a short-path vector
                x.setFloat((long) (groups + g) * lanes + l, l == g % lanes ? 3f + l : v); // the same values and one wide lane
            }
        for (Op.UnaryFn fn : new Op.UnaryFn[] {Op.UnaryFn.GELU, Op.UnaryFn.DGELU}) {
            Tensor y = Diff.cpu(new Op.Unary(fn), DType.F32, shape(x.numel()), x);
            for (int g = 0; g < groups; g++)
                for (int l = 0; l < lanes; l++) {
                    if (l == g % lanes) continue;
                    long s = (long) g * lanes + l, w = (long) (groups + g) * lanes + l;
                    assertEquals(Float.floatToRawIntBits(y.getFloat(w)), Float.floatToRawIntBits(y.getFloat(s)),
                            fn + " at " + x.getFloat(s));
                }
        }
    }

    /**
     * The gradient through a GELU in a GEMM's epilogue (c *= dgelu(gate), {@link CpuMath#mulDgeluBlock}) has the bits of
     * multiplying by the elementwise DGELU, whether a chunk takes the series branch for its narrow vectors (a few wide
     * ones gathered), or dgelu throughout (many wide), on dense rows and on rows with a stride and a ragged end.
     */
    @Test
    void dgeluEpilogueHasTheElementwiseBits() {
        java.util.Random rnd = new java.util.Random(5);
        for (double wideShare : new double[] {0, 0.002, 0.02, 0.5}) {
            int rows = 37, cols = 203, ld = 211;
            long n = (long) rows * ld;
            Tensor gate = Tensor.zeros(DType.F32, shape(n)), c = Tensor.zeros(DType.F32, shape(n));
            for (long i = 0; i < n; i++) {
                float v = rnd.nextDouble() < wideShare ? (float) (rnd.nextGaussian() * 4) : (float) (rnd.nextGaussian() * 0.15);
                if (i % 97 == 0) v = -0f;
                if (i % 89 == 0) v = Math.nextDown(0.5f * 1.4142135381698608f);
                gate.setFloat(i, v);
                c.setFloat(i, (float) rnd.nextGaussian());
            }
            Tensor d = Diff.cpu(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(n), gate);
            for (int[] layout : new int[][] {{rows * ld, 1, 1}, {cols, rows, ld}}) {
                int width = layout[0], height = layout[1], stride = layout[2];
                Tensor out = c.copy();
                CpuMath.mulDgeluBlock(out.segment(), gate.segment(), 0, height, width, stride == 1 ? width : stride);
                for (int r = 0; r < height; r++)
                    for (int j = 0; j < width; j++) {
                        long i = (long) r * (stride == 1 ? width : stride) + j;
                        assertEquals(Float.floatToRawIntBits(c.getFloat(i) * d.getFloat(i)), Float.floatToRawIntBits(out.getFloat(i)),
                                "wide share " + wideShare + ", gate " + gate.getFloat(i) + " at " + i);
                    }
            }
        }
    }

    /**
     * GELU with its derivative in one pass ({@link CpuMath#geluWithDerivativeBlock}, the gelu-pairs epilogue) has the
     * bits of the elementwise GELU and DGELU: narrow groups (the short path), wide lanes of every size up to the fit's
     * ends and past them, the clamps' edges, +-0, +-inf and NaN; GELU in place, on dense rows and strided ragged ones.
     */
    @Test
    void geluWithItsDerivativeHasTheElementwiseBits() {
        java.util.Random rnd = new java.util.Random(9);
        float bound = 0.5f * 1.4142135381698608f, top = 10.5f * 1.4142135381698608f;
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, bound, -bound, Math.nextDown(bound),
                Math.nextUp(bound), top, -top, Math.nextUp(top), -Math.nextUp(top), 30f, -30f, 1e-30f, -1e-30f};
        for (double wideShare : new double[] {0, 0.002, 0.3, 1}) {
            int rows = 41, cols = 197, ld = 203;
            long n = (long) rows * ld;
            Tensor x = Tensor.zeros(DType.F32, shape(n));
            for (long i = 0; i < n; i++) {
                float v = rnd.nextDouble() < wideShare ? (float) (rnd.nextGaussian() * 5) : (float) (rnd.nextGaussian() * 0.15);
                if (wideShare > 0 && i % 101 == 0) v = special[(int) (i / 101 % special.length)];
                x.setFloat(i, v);
            }
            Tensor gelu = Diff.cpu(new Op.Unary(Op.UnaryFn.GELU), DType.F32, shape(n), x);
            Tensor dgelu = Diff.cpu(new Op.Unary(Op.UnaryFn.DGELU), DType.F32, shape(n), x);
            for (int[] layout : new int[][] {{rows * ld, 1, 1}, {cols, rows, ld}}) {
                int width = layout[0], height = layout[1], stride = layout[2] == 1 ? width : layout[2];
                Tensor g = x.copy(), d = Tensor.zeros(DType.F32, shape(n));
                CpuMath.geluWithDerivativeBlock(g.segment(), d.segment(), 0, height, width, stride);
                for (int r = 0; r < height; r++)
                    for (int j = 0; j < width; j++) {
                        long i = (long) r * stride + j;
                        String at = "wide share " + wideShare + ", x " + x.getFloat(i) + " at " + i;
                        assertEquals(Float.floatToRawIntBits(gelu.getFloat(i)), Float.floatToRawIntBits(g.getFloat(i)), "gelu, " + at);
                        assertEquals(Float.floatToRawIntBits(dgelu.getFloat(i)), Float.floatToRawIntBits(d.getFloat(i)), "dgelu, " + at);
                    }
            }
        }
    }

    private static Tensor abs(Tensor x) {
        Tensor t = x.copy();
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, Math.abs(t.getFloat(i)) + 1e-3f);
        return t;
    }

    /** Output shape and operand shapes of each broadcasting pattern. */
    private static final long[][][] PATTERNS = {
        {{4098}, {4098}, {4098}},                         // same shape
        {{207}, {207}, {}},                                // scalar right
        {{25}, {}, {25}},                                  // scalar left
        {{13, 207}, {13, 207}, {207}},                     // row vector along leading dims
        {{13, 207}, {207}, {13, 207}},
        {{25, 13}, {25, 13}, {25, 1}},                     // column, keepdim reductions
        {{25, 13}, {25, 1}, {25, 13}},
        {{13, 25}, {13, 1}, {1, 25}},                      // outer product
        {{2, 13, 5, 7}, {2, 13, 5, 7}, {1, 13, 1, 1}},     // channel of NCHW
        {{2, 4, 3, 5}, {2, 1, 3, 1}, {1, 4, 1, 5}},        // general
        {{3, 1, 207}, {3, 1, 207}, {3, 1, 1}},
        {{1}, {1}, {1}},
        {{8, 70_000}, {8, 70_000}, {70_000}},               // parallel
        {{70_000, 3}, {70_000, 3}, {70_000, 1}},
    };

    @ParameterizedTest
    @EnumSource(Op.BinaryFn.class)
    void binaryMatchesInterpOnEveryBroadcastPattern(Op.BinaryFn fn) {
        for (int p = 0; p < PATTERNS.length; p++) {
            long[][] s = PATTERNS[p];
            Tensor a = randn(p, 3, s[1]), b = randn(100 + p, 3, s[2]);
            if (fn == Op.BinaryFn.POW) a = positive(a);
            if (fn.isComparison()) b = mixEqual(a, b);
            check(fn + " pattern " + p, new Op.Binary(fn), DType.F32, s[0], 0, 0, a, b);
        }
    }

    @ParameterizedTest
    @EnumSource(Op.BinaryFn.class)
    void binaryMatchesInterpOnSpecialValues(Op.BinaryFn fn) {
        int n = SPECIAL.length;
        float[] a = new float[n * n], b = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                a[i * n + j] = SPECIAL[i];
                b[i * n + j] = SPECIAL[j];
            }
        check(fn + " special", new Op.Binary(fn), DType.F32, shape(n * n), 0, 0, Tensor.of(a, n * n), Tensor.of(b, n * n));
    }

    private static Tensor positive(Tensor x) {
        Tensor t = x.copy();
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, Math.abs(t.getFloat(i)));
        return t;
    }

    /** Copies some of a's values into b (where the shapes agree) so that equality comparisons see both outcomes. */
    private static Tensor mixEqual(Tensor a, Tensor b) {
        Tensor t = b.copy();
        if (a.numel() == b.numel()) for (long i = 0; i < t.numel(); i += 3) t.setFloat(i, a.getFloat(i));
        else for (long i = 0; i < t.numel(); i += 5) t.setFloat(i, 0f);
        return t;
    }

    @ParameterizedTest
    @EnumSource(Op.BinaryFn.class)
    void integerBinaryMatchesInterp(Op.BinaryFn fn) {
        for (int p = 0; p < PATTERNS.length; p++) {
            long[][] s = PATTERNS[p];
            Tensor a = Diff.randint(p, 7, s[1]), b = Diff.randint(100 + p, 7, s[2]);
            for (long i = 0; i < a.numel(); i += 3) a.setInt(i, a.getInt(i) - 3); // negatives, for floor division and modulo
            if (a.numel() > 1) a.setInt(1, Integer.MAX_VALUE);
            if (fn == Op.BinaryFn.DIV || fn == Op.BinaryFn.MOD) for (long i = 0; i < b.numel(); i++) if (b.getInt(i) == 0) b.setInt(i, -2);
            check("i32 " + fn + " pattern " + p, new Op.Binary(fn), DType.I32, s[0], 0, 0, a, b);
        }
    }

    @Test
    void integerDivisionAndPowerFailAsInterpDoes() {
        Tensor a = Tensor.ofInts(new int[] {7, -7, 3, 9}, 4), zero = Tensor.ofInts(new int[] {2, 2, 0, 0}, 4), negative = Tensor.ofInts(new int[] {2, -1, 0, -3}, 4);
        for (Op.BinaryFn fn : new Op.BinaryFn[] {Op.BinaryFn.DIV, Op.BinaryFn.MOD, Op.BinaryFn.POW}) {
            Tensor b = fn == Op.BinaryFn.POW ? negative : zero;
            var expected = org.junit.jupiter.api.Assertions.assertThrows(ArithmeticException.class, () -> Diff.interp(new Op.Binary(fn), DType.I32, shape(4), a, b));
            var actual = org.junit.jupiter.api.Assertions.assertThrows(ArithmeticException.class, () -> Diff.cpu(new Op.Binary(fn), DType.I32, shape(4), a, b));
            assertEquals(expected.getMessage(), actual.getMessage());
        }
    }

    @Test
    void integerUnaryMatchesInterpWhereItHasACpuForm() {
        int[] v = {0, 1, -1, 5, -7, Integer.MAX_VALUE, Integer.MIN_VALUE, 3, -3, 12, 13, -100, 42, -42, 8, 9, 10, -10, 11};
        for (Op.UnaryFn fn : Op.UnaryFn.values())
            if (CpuElementwise.hasInt(fn)) check("i32 " + fn, new Op.Unary(fn), DType.I32, shape(v.length), 0, 0, Tensor.ofInts(v, v.length));
    }

    @Test
    void whereMatchesInterpWithFloatAndIntConditions() {
        long[][][] patterns = {
            {{4098}, {4098}, {4098}, {4098}},
            {{13, 207}, {13, 1}, {13, 207}, {}},
            {{13, 207}, {207}, {}, {13, 207}},
            {{2, 5, 25}, {2, 1, 25}, {5, 1}, {2, 5, 25}},
            {{8, 70_000}, {8, 70_000}, {8, 70_000}, {70_000}},
        };
        for (int p = 0; p < patterns.length; p++) {
            long[][] s = patterns[p];
            Tensor condF = Diff.randint(p, 2, s[1]), a = randn(p, s[2]), b = randn(p + 50, s[3]);
            Tensor cond = Tensor.zeros(DType.F32, s[1]);
            for (long i = 0; i < cond.numel(); i++) cond.setFloat(i, condF.getInt(i) == 0 ? (i % 7 == 0 ? -0f : 0f) : Float.NaN);
            check("where f32 cond " + p, new Op.Where(), DType.F32, s[0], 0, 0, cond, a, b);
            check("where i32 cond " + p, new Op.Where(), DType.F32, s[0], 0, 0, condF, a, b);
            check("where i32 values " + p, new Op.Where(), DType.I32, s[0], 0, 0, condF, Diff.randint(p, 1000, s[2]), Diff.randint(p + 1, 1000, s[3]));
        }
    }

    @Test
    void castMatchesInterp() {
        int n = SPECIAL.length;
        float[] v = new float[n + 4];
        System.arraycopy(SPECIAL, 0, v, 0, n);
        v[n] = 2.5f;
        v[n + 1] = -2.5f;
        v[n + 2] = 3e9f;
        v[n + 3] = -3e9f;
        check("f32 to i32 special", new Op.Cast(DType.I32), DType.I32, shape(v.length), 0, 0, Tensor.of(v, v.length));
        for (int size : Diff.SIZES) {
            Tensor x = randn(size, 1000, size);
            check("f32 to i32 " + size, new Op.Cast(DType.I32), DType.I32, shape(size), 0, 0, x);
            Tensor i = Diff.randint(size, 1 << 30, size);
            check("i32 to f32 " + size, new Op.Cast(DType.F32), DType.F32, shape(size), 0, 0, i);
            check("f32 to f32 " + size, new Op.Cast(DType.F32), DType.F32, shape(size), 0, 0, x);
        }
    }
}
