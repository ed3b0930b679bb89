package mobyc.runtime.interp;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.SpecialFunctions;
import mobyc.runtime.Tensor;

/**
 * Unary, binary (with NumPy broadcasting), where and cast, as PyTorch computes them in float32: each result is
 * one float operation, or a double computation rounded once (transcendentals, erf, gelu). Integer division
 * floors and integer modulo takes the divisor's sign, as in Python.
 */
final class Elementwise {
    private Elementwise() {}

    private static final double SQRT1_2 = Math.sqrt(0.5);

    static void unary(Op.UnaryFn fn, Tensor x, Tensor out) {
        long n = out.numel();
        if (x.dtype() == DType.F32) {
            for (long i = 0; i < n; i++) out.setFloat(i, apply(fn, x.getFloat(i)));
        } else {
            for (long i = 0; i < n; i++) out.setInt(i, apply(fn, x.getInt(i)));
        }
    }

    static float apply(Op.UnaryFn fn, float x) {
        return switch (fn) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RSQRT -> (float) (1.0 / Math.sqrt(x));
            case TANH -> (float) Math.tanh(x);
            case ERF -> (float) SpecialFunctions.erf(x);
            case RELU -> x > 0 || Float.isNaN(x) ? x : 0f;
            case GELU -> (float) (0.5 * x * (1.0 + SpecialFunctions.erf(x * SQRT1_2)));
            case ABS -> Math.abs(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-(double) x)));
            case FLOOR -> (float) Math.floor(x);
            case DGELU -> (float) dgelu(x);
        };
    }

    /** GELU's derivative Phi(x) + x phi(x) in double, Phi from erfc (no cancellation in its left tail). */
    static double dgelu(double x) {
        return 0.5 * SpecialFunctions.erfc(-x * SQRT1_2) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }

    static int apply(Op.UnaryFn fn, int x) {
        return switch (fn) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case RELU -> Math.max(x, 0);
            default -> throw new IllegalStateException(fn.name().toLowerCase() + " needs a floating-point tensor");
        };
    }

    static void binary(Op.BinaryFn fn, Tensor a, Tensor b, Tensor out) {
        long[] shape = out.shape();
        long[] sa = Layout.broadcastStrides(a.shape(), shape), sb = Layout.broadcastStrides(b.shape(), shape);
        long n = out.numel();
        if (a.dtype() == DType.F32) {
            for (long i = 0; i < n; i++)
                out.setFloat(i, apply(fn, a.getFloat(Layout.offset(i, shape, sa)), b.getFloat(Layout.offset(i, shape, sb))));
        } else {
            for (long i = 0; i < n; i++)
                out.setInt(i, apply(fn, a.getInt(Layout.offset(i, shape, sa)), b.getInt(Layout.offset(i, shape, sb))));
        }
    }

    static float apply(Op.BinaryFn fn, float a, float b) {
        return switch (fn) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> (float) Math.pow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case MOD -> a - (float) Math.floor(a / b) * b;
            case EQ -> a == b ? 1f : 0f;
            case NE -> a != b ? 1f : 0f;
            case LT -> a < b ? 1f : 0f;
            case LE -> a <= b ? 1f : 0f;
            case GT -> a > b ? 1f : 0f;
            case GE -> a >= b ? 1f : 0f;
        };
    }

    static int apply(Op.BinaryFn fn, int a, int b) {
        return switch (fn) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> Math.floorDiv(a, nonZero(b, "div"));
            case POW -> power(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case MOD -> Math.floorMod(a, nonZero(b, "mod"));
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
        };
    }

    private static int nonZero(int b, String op) {
        if (b == 0) throw new ArithmeticException(op + ": integer division by zero");
        return b;
    }

    /** a^e by squaring, wrapping on overflow like int32 arithmetic. */
    private static int power(int a, int e) {
        if (e < 0) throw new ArithmeticException("pow: integers to negative integer powers are not allowed (" + a + "^" + e + ")");
        int result = 1;
        while (e > 0) {
            if ((e & 1) != 0) result *= a;
            a *= a;
            e >>>= 1;
        }
        return result;
    }

    /** out = cond != 0 ? a : b, all three broadcast to out's shape. */
    static void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        long[] shape = out.shape();
        long[] sc = Layout.broadcastStrides(cond.shape(), shape);
        long[] sa = Layout.broadcastStrides(a.shape(), shape), sb = Layout.broadcastStrides(b.shape(), shape);
        for (long i = 0, n = out.numel(); i < n; i++) {
            long c = Layout.offset(i, shape, sc);
            boolean take = cond.dtype() == DType.F32 ? cond.getFloat(c) != 0f : cond.getInt(c) != 0;
            out.setBits(i, take ? a.getBits(Layout.offset(i, shape, sa)) : b.getBits(Layout.offset(i, shape, sb)));
        }
    }

    /** f32 to i32 truncates toward zero (NaN gives 0, out-of-range values saturate); i32 to f32 rounds to nearest. */
    static void cast(Tensor x, Tensor out) {
        long n = out.numel();
        if (x.dtype() == out.dtype()) {
            for (long i = 0; i < n; i++) out.setBits(i, x.getBits(i));
        } else if (out.dtype() == DType.I32) {
            for (long i = 0; i < n; i++) out.setInt(i, (int) x.getFloat(i));
        } else {
            for (long i = 0; i < n; i++) out.setFloat(i, (float) x.getInt(i));
        }
    }
}
