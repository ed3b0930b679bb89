package mobyc.runtime;

/**
 * The error function, its complement and its inverse in double precision (Java has no {@code Math.erf}).
 *
 * <p>Method, chosen to need no tables of fitted coefficients:
 * <ul>
 *   <li>erf(x) for |x| &lt; 2.5: the series erf(x) = 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (1*3*...*(2n+1)),
 *       whose terms are all positive, so it loses nothing to cancellation;</li>
 *   <li>erfc(x) for x &ge; 1: Laplace's continued fraction, evaluated by the modified Lentz method;</li>
 *   <li>the other cases by erf = 1 - erfc, erfc = 1 - erf and symmetry, each where the subtraction is benign;</li>
 *   <li>erfinv: Winitzki's closed-form approximation refined by Halley steps on erf (or on erfc near +-1).</li>
 * </ul>
 * Relative error is about 1e-15 over the whole range (erfc until it underflows near x = 27).
 */
public final class SpecialFunctions {
    private SpecialFunctions() {}

    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double ONE_OVER_SQRT_PI = 0.5641895835477563;
    private static final double SQRT2 = 1.4142135623730951;

    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        double r = a < 2.5 ? erfSeries(a) : 1.0 - erfcContinuedFraction(a);
        return Math.copySign(r, x);
    }

    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 1.0) return x > -1.0 ? 1.0 - erf(x) : 2.0 - erfc(-x);
        return erfcContinuedFraction(x);
    }

    /** The inverse of erf on [-1, 1]: erfinv(+-1) = +-infinity, NaN outside. */
    public static double erfinv(double y) {
        if (Double.isNaN(y) || y < -1.0 || y > 1.0) return Double.NaN;
        if (y == 0.0) return y;
        double a = Math.abs(y);
        if (a == 1.0) return Math.copySign(Double.POSITIVE_INFINITY, y);
        double x = winitzki(a);
        double complement = 1.0 - a; // exact for a >= 0.5
        for (int i = 0; i < 4; i++) {
            // residual f = erf(x) - a, computed through erfc where erf is close to 1
            double f = a < 0.5 ? erf(x) - a : complement - erfc(x);
            double slope = TWO_OVER_SQRT_PI * expMinusSquare(x);
            if (f == 0.0 || slope == 0.0) break;
            double step = f / slope;
            double next = x - step / (1.0 + x * step); // Halley: f'' = -2x f'
            if (next == x) break;
            x = next;
        }
        return Math.copySign(x, y);
    }

    /** The standard normal cumulative distribution function. */
    public static double normalCdf(double z) { return 0.5 * erfc(-z / SQRT2); }

    private static double erfSeries(double a) {
        double term = a, sum = a, twoXSquared = 2.0 * a * a;
        for (int n = 1; n < 200 && term > sum * 1e-17; n++) {
            term *= twoXSquared / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * expMinusSquare(a) * sum;
    }

    /** erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), for x >= 1. */
    private static double erfcContinuedFraction(double x) {
        if (x == Double.POSITIVE_INFINITY) return 0.0;
        final double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int k = 1; k < 1000; k++) {
            double coefficient = 0.5 * k;
            d = x + coefficient * d;
            d = 1.0 / (d == 0.0 ? tiny : d);
            c = x + coefficient / c;
            if (c == 0.0) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1.0) < 1e-17) break;
        }
        return ONE_OVER_SQRT_PI * expMinusSquare(x) / f;
    }

    /** exp(-x*x) without the rounding error of x*x: x = hi + lo with hi*hi exact. */
    private static double expMinusSquare(double x) {
        double hi = Double.longBitsToDouble(Double.doubleToRawLongBits(x) & 0xFFFFFFFFF8000000L);
        double lo = x - hi;
        return Math.exp(-hi * hi) * Math.exp(-lo * (x + hi));
    }

    /** Winitzki's approximation of erfinv(a) for 0 < a < 1, relative error below 2e-3. */
    private static double winitzki(double a) {
        final double k = 0.147;
        double ln = Math.log((1.0 - a) * (1.0 + a));
        double t = 2.0 / (Math.PI * k) + ln / 2.0;
        return Math.sqrt(Math.sqrt(t * t - ln / k) - t);
    }
}
