package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Simd.F;
import static mobyc.runtime.cpu.Simd.FL;
import static mobyc.runtime.cpu.Simd.I;
import static mobyc.runtime.cpu.Simd.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Unary and binary ops, where and cast, vectorised and split over the pool. Binary and where walk their operands
 * in contiguous runs ({@link Runs}), so same-shape, scalar, row-vector and column broadcasting are all one vector
 * loop; an operand that repeats one value along a run is read from a small buffer filled with that value.
 * Results follow interp's: IEEE float arithmetic for + - * / max min sqrt and comparisons (bit for bit); exp,
 * log, tanh, sigmoid, erf and GELU from {@link CpuMath} (an ulp or two); pow, mod and floor one element at a time
 * exactly as interp. On i32: wrapping + - *, max, min and comparisons vectorised; floor division, modulo and power
 * one element at a time on the calling thread, so that a zero divisor or a negative exponent throws interp's
 * exception at the same element; neg, abs and relu (the other unary functions need floats).
 */
final class CpuElementwise {
    private CpuElementwise() {}

    /** Per thread: two vectors' worth of room for the repeated operands of a run. */
    private static final ThreadLocal<MemorySegment> REPEATED = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(2L * FL * 4, 64));

    /** Whether the i32 form of {@code fn} is here (interp refuses the other unary functions on integers). */
    static boolean hasInt(Op.UnaryFn fn) {
        return fn == Op.UnaryFn.NEG || fn == Op.UnaryFn.ABS || fn == Op.UnaryFn.RELU;
    }

    // ---- unary ----------------------------------------------------------------------------------------------

    static void unary(Op.UnaryFn fn, Tensor x, Tensor out) {
        MemorySegment xs = x.segment(), os = out.segment();
        if (x.dtype() == DType.I32) {
            Parallel.forItems(out.numel(), 1, (from, to) -> unaryInt(fn, xs, os, from, to));
            return;
        }
        long cost = switch (fn) {
            case NEG, ABS, RELU, SQRT, RSQRT, FLOOR -> 1;
            default -> 8;
        };
        Parallel.forItems(out.numel(), cost, (from, to) -> unary(fn, xs, os, from, to));
    }

    private static void unary(Op.UnaryFn fn, MemorySegment x, MemorySegment out, long from, long to) {
        switch (fn) {
            case EXP -> Simd.elementwise(CpuMath::exp, x, out, from, to);
            case SIGMOID -> CpuMath.sigmoid(x, out, from, to);
            case LOG -> Simd.elementwise(CpuMath::log, x, out, from, to);
            case TANH -> Simd.elementwise(CpuMath::tanh, x, out, from, to);
            case ERF -> Simd.elementwise(CpuMath::erf, x, out, from, to);
            case GELU -> Simd.elementwise(CpuMath::gelu, x, out, from, to);
            case DGELU -> Simd.elementwise(CpuMath::dgelu, x, out, from, to);
            case FLOOR -> {
                for (long i = from; i < to; i++) Simd.set(out, i, (float) Math.floor(Simd.get(x, i)));
            }
            default -> {
                FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
                long i = from;
                for (; i + FL <= to; i += FL) {
                    FloatVector v = FloatVector.fromMemorySegment(F, x, i << 2, LE);
                    FloatVector r = switch (fn) {
                        case NEG -> v.neg();
                        case SQRT -> v.sqrt();
                        case RSQRT -> one.div(v.sqrt());
                        case RELU -> v.max(zero); // Math.max: NaN stays NaN, -0 becomes +0, as interp's x > 0 ? x : 0
                        case ABS -> v.abs();
                        default -> throw new IllegalStateException(fn + " has its own loop");
                    };
                    r.intoMemorySegment(out, i << 2, LE);
                }
                for (; i < to; i++) {
                    float v = Simd.get(x, i);
                    Simd.set(out, i, switch (fn) {
                        case NEG -> -v;
                        case SQRT -> (float) Math.sqrt(v);
                        case RSQRT -> 1f / (float) Math.sqrt(v);
                        case RELU -> Math.max(v, 0f);
                        case ABS -> Math.abs(v);
                        default -> throw new IllegalStateException(fn + " has its own loop");
                    });
                }
            }
        }
    }

    private static void unaryInt(Op.UnaryFn fn, MemorySegment x, MemorySegment out, long from, long to) {
        IntVector zero = IntVector.zero(I);
        long i = from;
        for (; i + FL <= to; i += FL) {
            IntVector v = IntVector.fromMemorySegment(I, x, i << 2, LE);
            IntVector r = fn == Op.UnaryFn.NEG ? v.neg() : fn == Op.UnaryFn.ABS ? v.abs() : v.max(zero);
            r.intoMemorySegment(out, i << 2, LE);
        }
        for (; i < to; i++) {
            int v = Simd.bits(x, i);
            Simd.setBits(out, i, fn == Op.UnaryFn.NEG ? -v : fn == Op.UnaryFn.ABS ? Math.abs(v) : Math.max(v, 0));
        }
    }

    // ---- binary ---------------------------------------------------------------------------------------------

    static void binary(Op.BinaryFn fn, Tensor a, Tensor b, Tensor out) {
        MemorySegment as = a.segment(), bs = b.segment(), os = out.segment();
        Runs runs = Runs.broadcast(out.shape(), a.shape(), b.shape());
        boolean integer = a.dtype() == DType.I32;
        if (integer && (fn == Op.BinaryFn.DIV || fn == Op.BinaryFn.MOD || fn == Op.BinaryFn.POW)) {
            runs.forEach(0, out.numel(), (o, ao, bo, unused, len) -> {
                for (int i = 0; i < len; i++)
                    Simd.setBits(os, o + i, apply(fn, Simd.bits(as, ao + (long) i * runs.inc0), Simd.bits(bs, bo + (long) i * runs.inc1)));
            });
            return;
        }
        long cost = fn == Op.BinaryFn.POW ? 8 : 1;
        Parallel.forItems(out.numel(), cost, (from, to) -> runs.forEach(from, to,
                (o, ao, bo, unused, len) -> run(fn, integer, as, ao, runs.inc0, bs, bo, runs.inc1, os, o, len)));
    }

    /**
     * One run of {@code len} outputs: each operand advances with the output (inc 1) or repeats one value (inc 0),
     * read in the vector loop from a buffer holding FL copies of it.
     */
    private static void run(Op.BinaryFn fn, boolean integer, MemorySegment a, long ao, int ai, MemorySegment b, long bo, int bi,
                            MemorySegment out, long o, int len) {
        int i = 0;
        if (!integer && (fn == Op.BinaryFn.POW || fn == Op.BinaryFn.MOD)) {
            for (; i < len; i++) Simd.set(out, o + i, apply(fn, Simd.get(a, ao + (long) i * ai), Simd.get(b, bo + (long) i * bi)));
            return;
        }
        if (len >= FL) {
            MemorySegment va = a, vb = b;
            long ap = ao, bp = bo;
            if (ai == 0 || bi == 0) {
                MemorySegment repeated = REPEATED.get();
                if (ai == 0) {
                    Simd.fill(repeated, 0, FL, Simd.bits(a, ao));
                    va = repeated;
                    ap = 0;
                }
                if (bi == 0) {
                    Simd.fill(repeated, FL, FL, Simd.bits(b, bo));
                    vb = repeated;
                    bp = FL;
                }
            }
            i = integer ? vectorInt(fn, va, ap, ai * FL, vb, bp, bi * FL, out, o, len)
                        : vectorFloat(fn, va, ap, ai * FL, vb, bp, bi * FL, out, o, len);
        }
        if (integer) {
            for (; i < len; i++) Simd.setBits(out, o + i, apply(fn, Simd.bits(a, ao + (long) i * ai), Simd.bits(b, bo + (long) i * bi)));
        } else {
            for (; i < len; i++) Simd.set(out, o + i, apply(fn, Simd.get(a, ao + (long) i * ai), Simd.get(b, bo + (long) i * bi)));
        }
    }

    /**
     * Whole vectors of a run; operand pointers advance by {@code aStep}, {@code bStep} (FL or 0). Returns the count
     * done. One loop per kind of op: a loop switching over all twelve was past C2's budget, and in some compilations
     * of the MoBY step its min was left boxed (JFR).
     */
    private static int vectorFloat(Op.BinaryFn fn, MemorySegment a, long ap, int aStep, MemorySegment b, long bp, int bStep,
                                   MemorySegment out, long o, int len) {
        return switch (fn) {
            case ADD, SUB, MUL, DIV -> arithmetic(fn, a, ap, aStep, b, bp, bStep, out, o, len);
            case MAX, MIN -> extremum(fn == Op.BinaryFn.MAX, a, ap, aStep, b, bp, bStep, out, o, len);
            case EQ, NE, LT, LE, GT, GE -> comparison(fn, a, ap, aStep, b, bp, bStep, out, o, len);
            case POW, MOD -> throw new IllegalStateException(fn + " is computed one element at a time");
        };
    }

    private static int arithmetic(Op.BinaryFn fn, MemorySegment a, long ap, int aStep, MemorySegment b, long bp, int bStep,
                                  MemorySegment out, long o, int len) {
        int i = 0;
        for (; i + FL <= len; i += FL, ap += aStep, bp += bStep) {
            FloatVector x = FloatVector.fromMemorySegment(F, a, ap << 2, LE), y = FloatVector.fromMemorySegment(F, b, bp << 2, LE);
            FloatVector r = switch (fn) {
                case ADD -> x.add(y);
                case SUB -> x.sub(y);
                case MUL -> x.mul(y);
                default -> x.div(y);
            };
            r.intoMemorySegment(out, (o + i) << 2, LE);
        }
        return i;
    }

    private static int extremum(boolean max, MemorySegment a, long ap, int aStep, MemorySegment b, long bp, int bStep,
                                MemorySegment out, long o, int len) {
        int i = 0;
        for (; i + FL <= len; i += FL, ap += aStep, bp += bStep) {
            FloatVector x = FloatVector.fromMemorySegment(F, a, ap << 2, LE), y = FloatVector.fromMemorySegment(F, b, bp << 2, LE);
            (max ? x.max(y) : x.min(y)).intoMemorySegment(out, (o + i) << 2, LE);
        }
        return i;
    }

    private static int comparison(Op.BinaryFn fn, MemorySegment a, long ap, int aStep, MemorySegment b, long bp, int bStep,
                                  MemorySegment out, long o, int len) {
        FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (; i + FL <= len; i += FL, ap += aStep, bp += bStep) { // each operator a constant: the intrinsic needs one
            FloatVector x = FloatVector.fromMemorySegment(F, a, ap << 2, LE), y = FloatVector.fromMemorySegment(F, b, bp << 2, LE);
            FloatVector r = switch (fn) {
                case EQ -> zero.blend(one, x.eq(y));
                case NE -> zero.blend(one, x.compare(VectorOperators.NE, y));
                case LT -> zero.blend(one, x.lt(y));
                case LE -> zero.blend(one, x.compare(VectorOperators.LE, y));
                case GT -> zero.blend(one, x.compare(VectorOperators.GT, y));
                default -> zero.blend(one, x.compare(VectorOperators.GE, y));
            };
            r.intoMemorySegment(out, (o + i) << 2, LE);
        }
        return i;
    }

    private static int vectorInt(Op.BinaryFn fn, MemorySegment a, long ap, int aStep, MemorySegment b, long bp, int bStep,
                                 MemorySegment out, long o, int len) {
        IntVector zero = IntVector.zero(I), one = IntVector.broadcast(I, 1);
        int i = 0;
        for (; i + FL <= len; i += FL, ap += aStep, bp += bStep) {
            IntVector x = IntVector.fromMemorySegment(I, a, ap << 2, LE), y = IntVector.fromMemorySegment(I, b, bp << 2, LE);
            IntVector r = switch (fn) {
                case ADD -> x.add(y);
                case SUB -> x.sub(y);
                case MUL -> x.mul(y);
                case MAX -> x.max(y);
                case MIN -> x.min(y);
                case EQ -> zero.blend(one, x.eq(y));
                case NE -> zero.blend(one, x.compare(VectorOperators.NE, y));
                case LT -> zero.blend(one, x.lt(y));
                case LE -> zero.blend(one, x.compare(VectorOperators.LE, y));
                case GT -> zero.blend(one, x.compare(VectorOperators.GT, y));
                case GE -> zero.blend(one, x.compare(VectorOperators.GE, y));
                case DIV, MOD, POW -> throw new IllegalStateException("i32 " + fn + " is computed one element at a time");
            };
            r.intoMemorySegment(out, (o + i) << 2, LE);
        }
        return i;
    }

    /** interp's float semantics, for tails and the ops without a vector form. */
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

    private static int apply(Op.BinaryFn fn, int a, int b) {
        return switch (fn) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case DIV -> Math.floorDiv(a, nonZero(b, "div"));
            case MOD -> Math.floorMod(a, nonZero(b, "mod"));
            case POW -> power(a, b);
        };
    }

    private static int nonZero(int b, String op) {
        if (b == 0) throw new ArithmeticException(op + ": integer division by zero");
        return b;
    }

    /** a^e by squaring, wrapping on overflow like int32 arithmetic (interp's). */
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

    // ---- where and cast -------------------------------------------------------------------------------------

    /** out = cond != 0 ? a : b; a, b and out share a dtype (moved as raw bits), cond is f32 or i32. */
    static void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        MemorySegment cs = cond.segment(), as = a.segment(), bs = b.segment(), os = out.segment();
        boolean floatCond = cond.dtype() == DType.F32;
        Runs runs = Runs.broadcast(out.shape(), cond.shape(), a.shape(), b.shape());
        Parallel.forItems(out.numel(), 1, (from, to) -> runs.forEach(from, to, (o, co, ao, bo, len) -> {
            int ci = runs.inc0, ai = runs.inc1, bi = runs.inc2, i = 0;
            if (ci == 0) { // one condition for the whole run: copy or fill from the chosen operand
                boolean take = floatCond ? Simd.get(cs, co) != 0f : Simd.bits(cs, co) != 0;
                MemorySegment src = take ? as : bs;
                long at = take ? ao : bo;
                if ((take ? ai : bi) == 1) Simd.copy(src, at, os, o, len);
                else Simd.fill(os, o, len, Simd.bits(src, at));
                return;
            }
            if (len >= FL) {
                MemorySegment va = as, vb = bs;
                long ap = ao, bp = bo;
                if (ai == 0 || bi == 0) {
                    MemorySegment repeated = REPEATED.get();
                    if (ai == 0) {
                        Simd.fill(repeated, 0, FL, Simd.bits(as, ao));
                        va = repeated;
                        ap = 0;
                    }
                    if (bi == 0) {
                        Simd.fill(repeated, FL, FL, Simd.bits(bs, bo));
                        vb = repeated;
                        bp = FL;
                    }
                }
                i = whereVector(floatCond, cs, co, va, ap, ai * FL, vb, bp, bi * FL, os, o, len);
            }
            for (; i < len; i++) {
                long c = co + i;
                boolean take = floatCond ? Simd.get(cs, c) != 0f : Simd.bits(cs, c) != 0;
                Simd.setBits(os, o + i, take ? Simd.bits(as, ao + (long) i * ai) : Simd.bits(bs, bo + (long) i * bi));
            }
        }));
    }

    private static int whereVector(boolean floatCond, MemorySegment c, long co, MemorySegment a, long ap, int aStep,
                                   MemorySegment b, long bp, int bStep, MemorySegment out, long o, int len) {
        int i = 0;
        for (; i + FL <= len; i += FL, ap += aStep, bp += bStep) {
            VectorMask<Integer> take = floatCond
                    ? FloatVector.fromMemorySegment(F, c, (co + i) << 2, LE).compare(VectorOperators.NE, 0f).cast(I)
                    : IntVector.fromMemorySegment(I, c, (co + i) << 2, LE).compare(VectorOperators.NE, 0);
            IntVector.fromMemorySegment(I, b, bp << 2, LE).blend(IntVector.fromMemorySegment(I, a, ap << 2, LE), take)
                    .intoMemorySegment(out, (o + i) << 2, LE);
        }
        return i;
    }

    /** f32 to i32 truncates toward zero (NaN gives 0, saturating); i32 to f32 rounds to nearest; same type copies. */
    static void cast(Tensor x, Tensor out) {
        if (x.dtype() == out.dtype()) {
            CpuMovement.copy(x, out);
            return;
        }
        MemorySegment xs = x.segment(), os = out.segment();
        boolean toInt = out.dtype() == DType.I32;
        Parallel.forItems(out.numel(), 1, (from, to) -> {
            long i = from;
            if (toInt) {
                for (; i + FL <= to; i += FL)
                    FloatVector.fromMemorySegment(F, xs, i << 2, LE).convert(VectorOperators.F2I, 0).intoMemorySegment(os, i << 2, LE);
                for (; i < to; i++) Simd.setBits(os, i, (int) Simd.get(xs, i));
            } else {
                for (; i + FL <= to; i += FL)
                    IntVector.fromMemorySegment(I, xs, i << 2, LE).convert(VectorOperators.I2F, 0).intoMemorySegment(os, i << 2, LE);
                for (; i < to; i++) Simd.set(os, i, (float) Simd.bits(xs, i));
            }
        });
    }

    /**
     * A GEMM's residual epilogue on a block of C ({@code rows x cols} from float index {@code offset}, rows {@code ld}
     * apart): c += r, r laid out as C. One IEEE addition an element, as add(product, r).
     */
    static void addBlock(MemorySegment c, MemorySegment r, long offset, int rows, int cols, long ld) {
        if (ld == cols) addRun(c, r, offset, offset + (long) rows * cols);
        else for (int k = 0; k < rows; k++) addRun(c, r, offset + k * ld, offset + k * ld + cols);
    }

    private static void addRun(MemorySegment c, MemorySegment r, long from, long to) {
        long i = from;
        for (; i + FL <= to; i += FL)
            FloatVector.fromMemorySegment(F, c, i << 2, LE).add(FloatVector.fromMemorySegment(F, r, i << 2, LE)).intoMemorySegment(c, i << 2, LE);
        for (; i < to; i++) Simd.set(c, i, Simd.get(c, i) + Simd.get(r, i));
    }

    /**
     * The gate epilogue: c = c * d on a block of C (as {@link #addBlock}), d a gate of C's layout (GELU's derivative,
     * computed beside the GELU in the forward); one rounding, as mul(product, d).
     */
    static void mulBlock(MemorySegment c, MemorySegment d, long offset, int rows, int cols, long ld) {
        if (ld == cols) mulRun(c, d, offset, offset + (long) rows * cols);
        else for (int k = 0; k < rows; k++) mulRun(c, d, offset + k * ld, offset + k * ld + cols);
    }

    private static void mulRun(MemorySegment c, MemorySegment d, long from, long to) {
        long i = from;
        for (; i + FL <= to; i += FL)
            FloatVector.fromMemorySegment(F, c, i << 2, LE).mul(FloatVector.fromMemorySegment(F, d, i << 2, LE)).intoMemorySegment(c, i << 2, LE);
        for (; i < to; i++) Simd.set(c, i, Simd.get(c, i) * Simd.get(d, i));
    }

    /**
     * The residual epilogue through stochastic depth: c = c * scale[sample] + r on a block of C (as {@link #addBlock}),
     * a sample's scale covering {@code perSample} consecutive floats of C (whole rows). A multiplication then an
     * addition, each rounded, as add(mul(product, scale), r).
     */
    static void scaleAddBlock(MemorySegment c, MemorySegment scale, long perSample, MemorySegment r, long offset, int rows, int cols, long ld) {
        if (ld != cols) {
            for (int k = 0; k < rows; k++) scaleAddRun(c, scale, perSample, r, offset + k * ld, offset + k * ld + cols);
            return;
        }
        for (long from = offset, end = offset + (long) rows * cols; from < end; ) { // dense: one run a sample
            long to = perSample == Long.MAX_VALUE ? end : Math.min(end, (from / perSample + 1) * perSample);
            scaleAddRun(c, scale, perSample, r, from, to);
            from = to;
        }
    }

    /** c = c * s + r over [from, to), floats of one sample (its scale s). */
    private static void scaleAddRun(MemorySegment c, MemorySegment scale, long perSample, MemorySegment r, long from, long to) {
        float s = Simd.get(scale, perSample == Long.MAX_VALUE ? 0 : from / perSample);
        long i = from;
        for (; i + FL <= to; i += FL)
            FloatVector.fromMemorySegment(F, c, i << 2, LE).mul(s).add(FloatVector.fromMemorySegment(F, r, i << 2, LE)).intoMemorySegment(c, i << 2, LE);
        for (; i < to; i++) Simd.set(c, i, Simd.get(c, i) * s + Simd.get(r, i));
    }
}
