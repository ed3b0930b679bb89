package mobyc.runtime.cpu.codegen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.compiler.kernel.Expr;
import mobyc.compiler.kernel.FusedKernel;

/**
 * Renders a fused kernel as the Java source of a {@link FusedCode} class using the Vector API. The code depends only
 * on the kernel's body and on whether each input runs along the output's last axis, never on sizes, so one class
 * serves every shape of the same chain.
 *
 * <p>A run is handled in blocks of {@link FusedMath#BLOCK} elements. A block is a sequence of stages: each stage is a
 * vector loop (whole vectors, then a scalar tail with the same formulas) over the values with an inline vector form;
 * between stages, {@link FusedMath} computes the functions that have none (exp, log, tanh, erf, gelu, sigmoid, floor,
 * pow, mod, integer division) from one scratch block into another. A value needed by a later stage is stored to a
 * scratch block; input loads and constants are simply repeated. Inputs that repeat along the run and constants are
 * broadcast once, before the blocks.
 */
public final class JavaRenderer {
    private JavaRenderer() {}

    public static final String PACKAGE = "mobyc.gen";
    /** Stands for the class name while the source is hashed. */
    public static final String NAME = "$KERNEL$";

    /** The source of a class named {@link #NAME} in package {@link #PACKAGE}. */
    public static String render(FusedKernel k) { return new Plan(k).source(); }

    /** Whether {@code e} is computed by a {@link FusedMath} call rather than inline. */
    static boolean isCall(Expr e) {
        return switch (e) {
            case Expr.Unary u -> switch (u.fn()) {
                case EXP, LOG, TANH, ERF, GELU, DGELU, SIGMOID, FLOOR -> true;
                default -> false;
            };
            case Expr.Binary b -> e.dtype() == DType.F32 ? b.fn() == Op.BinaryFn.POW || b.fn() == Op.BinaryFn.MOD
                    : b.fn() == Op.BinaryFn.DIV || b.fn() == Op.BinaryFn.MOD || b.fn() == Op.BinaryFn.POW;
            default -> false;
        };
    }

    private static boolean isRemat(Expr e) { return e instanceof Expr.Load || e instanceof Expr.Const; }

    /** Stages, scratch slots and the text of one kernel. */
    private static final class Plan {
        final FusedKernel k;
        final List<Expr> body;
        final int[] level;
        /** Scratch slot of each value, -1 if none. */
        final int[] slot;
        int slots;
        final StringBuilder sb = new StringBuilder();

        Plan(FusedKernel k) {
            this.k = k;
            this.body = k.body();
            int n = body.size();
            level = new int[n];
            for (int v = 0; v < n; v++) {
                int l = 0;
                for (int o : body.get(v).operands()) l = Math.max(l, level[o]);
                level[v] = isCall(body.get(v)) ? l + 1 : l;
            }
            slot = new int[n];
            Arrays.fill(slot, -1);
            for (int v = 0; v < n; v++) {
                Expr e = body.get(v);
                if (isCall(e)) {
                    for (int o : e.operands()) need(o);
                    need(v);
                } else if (!isRemat(e)) {
                    for (int o : e.operands()) if (!isRemat(body.get(o)) && level[o] < level[v]) need(o);
                }
            }
        }

        private void need(int v) { if (slot[v] < 0) slot[v] = slots++; }

        private boolean repeated(Expr e) {
            return e instanceof Expr.Load l && !k.inputs().get(l.input()).runsWithOutput(k.shape());
        }

        String source() {
            int last = body.size() - 1, stages = level[last] + 1;
            line(0, "package " + PACKAGE + ";");
            line(0, "");
            line(0, "import java.lang.foreign.MemorySegment;");
            line(0, "import java.nio.ByteOrder;");
            line(0, "import jdk.incubator.vector.*;");
            line(0, "import mobyc.runtime.cpu.codegen.FusedCode;");
            line(0, "import mobyc.runtime.cpu.codegen.FusedMath;");
            line(0, "");
            line(0, "/** Generated from a fused kernel: " + k.summary() + ". */");
            line(0, "public final class " + NAME + " implements FusedCode {");
            line(1, "private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;");
            line(1, "private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());");
            line(1, "private static final int FL = F.length(), BLOCK = FusedMath.BLOCK;");
            line(1, "private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;");
            line(0, "");
            line(1, "@Override");
            line(1, "public void run(MemorySegment[] in, long[] base, MemorySegment out, long o, int len) {");
            for (int i = 0; i < k.inputs().size(); i++)
                line(2, "MemorySegment in" + i + " = in[" + i + "]; long b" + i + " = base[" + i + "];");
            if (slots > 0) {
                line(2, "MemorySegment[] scratch = FusedMath.scratch(" + slots + ");");
                StringBuilder s = new StringBuilder("MemorySegment ");
                for (int i = 0; i < slots; i++) s.append(i == 0 ? "" : ", ").append('s').append(i).append(" = scratch[").append(i).append(']');
                line(2, s.append(';').toString());
            }
            // loop invariants: repeated inputs and constants
            for (int v = 0; v <= last; v++) {
                Expr e = body.get(v);
                if (e instanceof Expr.Load l && repeated(e)) {
                    line(2, scalarType(e) + " x" + v + " = in" + l.input() + ".getAtIndex(FusedMath." + layout(e) + ", b" + l.input() + ");");
                    line(2, vectorType(e) + " v" + v + " = " + vectorType(e) + ".broadcast(" + species(e) + ", x" + v + ");");
                } else if (e instanceof Expr.Const c) {
                    line(2, scalarType(e) + " x" + v + " = " + literal(c) + ";");
                    line(2, vectorType(e) + " v" + v + " = " + vectorType(e) + ".broadcast(" + species(e) + ", x" + v + ");");
                }
            }
            line(2, "for (int blk = 0; blk < len; blk += BLOCK) {");
            line(3, "int n = Math.min(BLOCK, len - blk);");
            line(3, "long po = o + blk;");
            for (int i = 0; i < k.inputs().size(); i++)
                if (k.inputs().get(i).runsWithOutput(k.shape())) line(3, "long p" + i + " = b" + i + " + blk;");
            for (int s = 0; s < stages; s++) {
                for (int v = 0; v <= last; v++)
                    if (isCall(body.get(v)) && level[v] == s) call(v);
                stage(s, last);
            }
            line(2, "}");
            line(1, "}");
            line(0, "}");
            return sb.toString();
        }

        /** The vector loop and scalar tail of stage {@code s}; empty stages are left out. */
        private void stage(int s, int last) {
            List<Integer> computed = new ArrayList<>(), stored = new ArrayList<>();
            for (int v = 0; v <= last; v++) {
                Expr e = body.get(v);
                boolean here = isRemat(e) ? s == 0 && slot[v] >= 0 : !isCall(e) && level[v] == s;
                if (!here) continue;
                computed.add(v);
                if (slot[v] >= 0) stored.add(v);
            }
            boolean result = level[last] == s;
            if (stored.isEmpty() && !result) return;
            // which values the stage's expressions and stores reach, in order
            boolean[] used = new boolean[last + 1];
            for (int v : computed) mark(v, s, used);
            if (result) mark(last, s, used);
            line(3, "{ // stage " + s);
            line(4, "int i = 0;");
            for (boolean vector : new boolean[] {true, false}) {
                line(4, vector ? "for (; i + FL <= n; i += FL) {" : "for (; i < n; i++) {");
                for (int v = 0; v <= last; v++) if (used[v]) define(v, s, vector);
                for (int v : stored) store(v, "s" + slot[v], "i", vector);
                if (result) store(last, "out", "po + i", vector);
                line(4, "}");
            }
            line(3, "}");
        }

        /** Marks the values stage {@code s} has to define to compute {@code v} there. */
        private void mark(int v, int s, boolean[] used) {
            if (used[v]) return;
            used[v] = true;
            Expr e = body.get(v);
            if (isRemat(e) || isCall(e) || level[v] < s) return; // loaded, not computed here
            for (int o : e.operands()) mark(o, s, used);
        }

        /** Defines value {@code v} in a stage-{@code s} loop: computed, loaded from memory or from scratch. */
        private void define(int v, int s, boolean vector) {
            Expr e = body.get(v);
            String name = (vector ? "v" : "x") + v;
            if (e instanceof Expr.Const || repeated(e)) return; // hoisted
            String type = vector ? vectorType(e) : scalarType(e);
            String rhs;
            if (e instanceof Expr.Load l) rhs = load(e, "in" + l.input(), "p" + l.input() + " + i", vector);
            else if (isCall(e) || level[v] < s) rhs = load(e, "s" + slot[v], "i", vector);
            else rhs = vector ? vectorExpr(e) : scalarExpr(e);
            line(5, type + " " + name + " = " + rhs + ";");
        }

        private String load(Expr e, String seg, String index, boolean vector) {
            return vector ? vectorType(e) + ".fromMemorySegment(" + species(e) + ", " + seg + ", (long) (" + index + ") << 2, LE)"
                    : seg + ".getAtIndex(FusedMath." + layout(e) + ", " + index + ")";
        }

        private void store(int v, String seg, String index, boolean vector) {
            Expr e = body.get(v);
            line(5, vector ? "v" + v + ".intoMemorySegment(" + seg + ", (long) (" + index + ") << 2, LE);"
                    : seg + ".setAtIndex(FusedMath." + layout(e) + ", " + index + ", x" + v + ");");
        }

        private void call(int v) {
            Expr e = body.get(v);
            StringBuilder args = new StringBuilder();
            for (int o : e.operands()) args.append('s').append(slot[o]).append(", ");
            String fn = switch (e) {
                case Expr.Unary u -> u.fn().name().toLowerCase();
                case Expr.Binary b -> b.fn().name().toLowerCase() + (e.dtype() == DType.I32 ? "Int" : "");
                default -> throw new IllegalStateException(e.opName() + " is inline");
            };
            line(3, "FusedMath." + fn + "(" + args + "s" + slot[v] + ", n);");
        }

        // ---- expressions

        private String vectorExpr(Expr e) {
            boolean f = e.dtype() == DType.F32;
            String zero = vectorType(e) + ".zero(" + species(e) + ")";
            return switch (e) {
                case Expr.Unary u -> {
                    String x = "v" + u.x();
                    yield switch (u.fn()) {
                        case NEG -> x + ".neg()";
                        case ABS -> x + ".abs()";
                        case RELU -> x + ".max(" + zero + ")";
                        case SQRT -> x + ".sqrt()";
                        case RSQRT -> "FloatVector.broadcast(F, 1f).div(" + x + ".sqrt())";
                        default -> throw new IllegalStateException(u.fn() + " is a call");
                    };
                }
                case Expr.Binary b -> {
                    String x = "v" + b.a(), y = "v" + b.b();
                    yield switch (b.fn()) {
                        case ADD -> x + ".add(" + y + ")";
                        case SUB -> x + ".sub(" + y + ")";
                        case MUL -> x + ".mul(" + y + ")";
                        case DIV -> x + ".div(" + y + ")";
                        case MAX -> x + ".max(" + y + ")";
                        case MIN -> x + ".min(" + y + ")";
                        case EQ, NE, LT, LE, GT, GE -> zero + ".blend(" + vectorType(e) + ".broadcast(" + species(e) + ", " + (f ? "1f" : "1")
                                + "), " + x + ".compare(VectorOperators." + b.fn().name() + ", " + y + "))";
                        case POW, MOD -> throw new IllegalStateException(b.fn() + " is a call");
                    };
                }
                case Expr.Where w -> {
                    Expr c = body.get(w.cond());
                    String mask = "v" + w.cond() + ".compare(VectorOperators.NE, " + (c.dtype() == DType.F32 ? "0f" : "0") + ")";
                    if (c.dtype() != e.dtype()) mask += ".cast(" + species(e) + ")";
                    yield "v" + w.b() + ".blend(v" + w.a() + ", " + mask + ")";
                }
                case Expr.Cast c -> {
                    DType from = body.get(c.x()).dtype();
                    if (from == e.dtype()) yield "v" + c.x();
                    yield "(" + vectorType(e) + ") v" + c.x() + ".convert(VectorOperators." + (f ? "I2F" : "F2I") + ", 0)";
                }
                default -> throw new IllegalStateException(e.opName() + " is loaded");
            };
        }

        private String scalarExpr(Expr e) {
            boolean f = e.dtype() == DType.F32;
            return switch (e) {
                case Expr.Unary u -> {
                    String x = "x" + u.x();
                    yield switch (u.fn()) {
                        case NEG -> "-" + x;
                        case ABS -> "Math.abs(" + x + ")";
                        case RELU -> "Math.max(" + x + ", " + (f ? "0f" : "0") + ")";
                        case SQRT -> "(float) Math.sqrt(" + x + ")";
                        case RSQRT -> "1f / (float) Math.sqrt(" + x + ")";
                        default -> throw new IllegalStateException(u.fn() + " is a call");
                    };
                }
                case Expr.Binary b -> {
                    String x = "x" + b.a(), y = "x" + b.b();
                    String one = f ? "1f" : "1", zero = f ? "0f" : "0";
                    yield switch (b.fn()) {
                        case ADD -> x + " + " + y;
                        case SUB -> x + " - " + y;
                        case MUL -> x + " * " + y;
                        case DIV -> x + " / " + y;
                        case MAX -> "Math.max(" + x + ", " + y + ")";
                        case MIN -> "Math.min(" + x + ", " + y + ")";
                        case EQ -> x + " == " + y + " ? " + one + " : " + zero;
                        case NE -> x + " != " + y + " ? " + one + " : " + zero;
                        case LT -> x + " < " + y + " ? " + one + " : " + zero;
                        case LE -> x + " <= " + y + " ? " + one + " : " + zero;
                        case GT -> x + " > " + y + " ? " + one + " : " + zero;
                        case GE -> x + " >= " + y + " ? " + one + " : " + zero;
                        case POW, MOD -> throw new IllegalStateException(b.fn() + " is a call");
                    };
                }
                case Expr.Where w -> {
                    Expr c = body.get(w.cond());
                    yield "x" + w.cond() + " != " + (c.dtype() == DType.F32 ? "0f" : "0") + " ? x" + w.a() + " : x" + w.b();
                }
                case Expr.Cast c -> "(" + scalarType(e) + ") x" + c.x();
                default -> throw new IllegalStateException(e.opName() + " is loaded");
            };
        }

        private static String literal(Expr.Const c) {
            if (c.dtype() == DType.I32) return Integer.toString((int) c.value());
            float v = (float) c.value();
            if (Float.isNaN(v)) return "Float.NaN";
            if (Float.isInfinite(v)) return v > 0 ? "Float.POSITIVE_INFINITY" : "Float.NEGATIVE_INFINITY";
            return "Float.intBitsToFloat(0x" + Integer.toHexString(Float.floatToRawIntBits(v)) + ") /* " + v + " */";
        }

        private static String scalarType(Expr e) { return e.dtype() == DType.F32 ? "float" : "int"; }
        private static String vectorType(Expr e) { return e.dtype() == DType.F32 ? "FloatVector" : "IntVector"; }
        private static String species(Expr e) { return e.dtype() == DType.F32 ? "F" : "I"; }
        private static String layout(Expr e) { return e.dtype() == DType.F32 ? "FLOAT" : "INT"; }

        private void line(int indent, String text) { sb.append("    ".repeat(indent)).append(text).append('\n'); }
    }
}
