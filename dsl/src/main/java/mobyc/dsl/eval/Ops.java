package mobyc.dsl.eval;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.ShapeException;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.eval.Value.*;

/**
 * Operators on values. Compile-time scalars fold at once (ints are 64-bit, '/' on ints is floor division,
 * '%' takes the divisor's sign, as Python's // and %); symbolic sizes stay polynomials; anything involving a
 * tensor becomes graph nodes, scalars taking the tensor's element type.
 */
final class Ops {
    private Ops() {}

    static Value binary(String op, Value a, Value b, Pos pos, GraphBuilder g) {
        if (a instanceof TensorV || b instanceof TensorV) return tensorBinary(op, a, b, pos, g);
        if (op.equals("@")) throw new EvalError(pos, "'@' multiplies tensors, not " + a.typeName() + " and " + b.typeName());
        if (op.equals("&&") || op.equals("||")) {
            boolean x = bool(a, pos, op), y = bool(b, pos, op);
            return new BoolV(op.equals("&&") ? x && y : x || y);
        }
        if (a instanceof DimV || b instanceof DimV) return dimBinary(op, dim(a, pos), dim(b, pos), pos);
        if (a instanceof IntV x && b instanceof IntV y) return intBinary(op, x.v(), y.v(), pos);
        if (isNumber(a) && isNumber(b)) return floatBinary(op, num(a), num(b), pos);
        if (op.equals("==") || op.equals("!=")) {
            boolean eq = a.equals(b);
            return new BoolV(op.equals("==") == eq);
        }
        if (op.equals("+") && a instanceof ListV x && b instanceof ListV y) {
            java.util.List<Value> all = new java.util.ArrayList<>(x.items());
            all.addAll(y.items());
            return new ListV(all);
        }
        if (op.equals("+") && a instanceof StrV x && b instanceof StrV y) return new StrV(x.v() + y.v());
        throw new EvalError(pos, "'" + op + "' does not apply to " + a.typeName() + " and " + b.typeName());
    }

    static Value unary(String op, Value a, Pos pos, GraphBuilder g) {
        return switch (op) {
            case "+" -> a;
            case "-" -> switch (a) {
                case IntV i -> new IntV(Math.negateExact(i.v()));
                case FloatV f -> new FloatV(-f.v());
                case DimV d -> Value.ofDim(d.d().times(Dim.of(-1)));
                case TensorV t -> new TensorV(g.unary(Op.UnaryFn.NEG, t.node()));
                default -> throw new EvalError(pos, "'-' does not apply to " + a.typeName());
            };
            case "!" -> {
                if (a instanceof BoolV b) yield new BoolV(!b.v());
                throw new EvalError(pos, "'!' applies to a bool, not " + a.typeName());
            }
            default -> throw new EvalError(pos, "unknown operator " + op);
        };
    }

    static boolean isNumber(Value v) { return v instanceof IntV || v instanceof FloatV; }

    static double num(Value v) {
        return v instanceof IntV i ? i.v() : ((FloatV) v).v();
    }

    static boolean bool(Value v, Pos pos, String what) {
        if (v instanceof BoolV b) return b.v();
        if (v instanceof TensorV)
            throw new EvalError(pos, what + " needs a value known at compile time, not a tensor", "choose between tensors elementwise with where(cond, a, b)");
        throw new EvalError(pos, what + " needs a bool, got " + v.typeName());
    }

    static Dim dim(Value v, Pos pos) {
        return switch (v) {
            case IntV i -> Dim.of(i.v());
            case DimV d -> d.d();
            default -> throw new EvalError(pos, "expected an integer size, got " + v.typeName());
        };
    }

    private static Value intBinary(String op, long x, long y, Pos pos) {
        try {
            return switch (op) {
                case "+" -> new IntV(Math.addExact(x, y));
                case "-" -> new IntV(Math.subtractExact(x, y));
                case "*" -> new IntV(Math.multiplyExact(x, y));
                case "/" -> { zero(y, pos); yield new IntV(Math.floorDiv(x, y)); }
                case "%" -> { zero(y, pos); yield new IntV(Math.floorMod(x, y)); }
                case "**" -> {
                    if (y < 0) yield new FloatV(Math.pow(x, y));
                    long r = 1;
                    for (long i = 0; i < y; i++) {
                        r = Math.multiplyExact(r, x);
                        if (i > 64 && (x == 0 || x == 1)) break;
                        if (i > 64 && x == -1) { r = (y % 2 == 0) ? 1 : -1; break; }
                    }
                    yield new IntV(r);
                }
                case "<" -> new BoolV(x < y);
                case "<=" -> new BoolV(x <= y);
                case ">" -> new BoolV(x > y);
                case ">=" -> new BoolV(x >= y);
                case "==" -> new BoolV(x == y);
                case "!=" -> new BoolV(x != y);
                default -> throw new EvalError(pos, "'" + op + "' does not apply to int and int");
            };
        } catch (ArithmeticException e) {
            throw new EvalError(pos, "integer overflow in " + x + " " + op + " " + y, "ints are 64-bit");
        }
    }

    private static void zero(long y, Pos pos) {
        if (y == 0) throw new EvalError(pos, "division by zero");
    }

    private static Value floatBinary(String op, double x, double y, Pos pos) {
        return switch (op) {
            case "+" -> new FloatV(x + y);
            case "-" -> new FloatV(x - y);
            case "*" -> new FloatV(x * y);
            case "/" -> new FloatV(x / y);
            case "%" -> new FloatV(x - Math.floor(x / y) * y);
            case "**" -> new FloatV(Math.pow(x, y));
            case "<" -> new BoolV(x < y);
            case "<=" -> new BoolV(x <= y);
            case ">" -> new BoolV(x > y);
            case ">=" -> new BoolV(x >= y);
            case "==" -> new BoolV(x == y);
            case "!=" -> new BoolV(x != y);
            default -> throw new EvalError(pos, "'" + op + "' does not apply to numbers");
        };
    }

    private static Value dimBinary(String op, Dim x, Dim y, Pos pos) {
        try {
            return switch (op) {
                case "+" -> Value.ofDim(x.plus(y));
                case "-" -> Value.ofDim(x.minus(y));
                case "*" -> Value.ofDim(x.times(y));
                case "/" -> {
                    Dim q = x.dividedBy(y);
                    if (q == null) throw new EvalError(pos, "cannot divide the size " + x + " by " + y + " exactly",
                            "sizes that depend on the batch must divide evenly");
                    yield Value.ofDim(q);
                }
                case "==" -> new BoolV(equalsKnown(x, y, pos));
                case "!=" -> new BoolV(!equalsKnown(x, y, pos));
                default -> throw new EvalError(pos, "'" + op + "' needs sizes known at compile time, but " + (x.isConstant() ? y : x) + " is symbolic",
                        "give the size as a hyper-parameter");
            };
        } catch (ArithmeticException e) {
            throw new EvalError(pos, "size overflow in " + x + " " + op + " " + y);
        }
    }

    private static boolean equalsKnown(Dim x, Dim y, Pos pos) {
        if (x.equals(y)) return true;
        Dim diff = x.minus(y);
        if (diff.isConstant()) return false;
        throw new EvalError(pos, "whether " + x + " equals " + y + " depends on symbolic sizes");
    }

    private static Value tensorBinary(String op, Value a, Value b, Pos pos, GraphBuilder g) {
        Node ta = a instanceof TensorV t ? t.node() : null, tb = b instanceof TensorV t ? t.node() : null;
        DType dt = ta != null ? ta.dtype() : tb.dtype();
        Node x = ta != null ? ta : scalar(a, dt, pos, g);
        Node y = tb != null ? tb : scalar(b, dt, pos, g);
        if (x.dtype() != y.dtype())
            throw new EvalError(pos, "'" + op + "' on " + x.dtype() + " and " + y.dtype() + " tensors", "convert one with float(x) or int(x)");
        try {
            if (op.equals("@")) return new TensorV(g.matmul(x, y));
            Op.BinaryFn fn = switch (op) {
                case "+" -> Op.BinaryFn.ADD;
                case "-" -> Op.BinaryFn.SUB;
                case "*" -> Op.BinaryFn.MUL;
                case "/" -> Op.BinaryFn.DIV;
                case "%" -> Op.BinaryFn.MOD;
                case "**" -> Op.BinaryFn.POW;
                case "<" -> Op.BinaryFn.LT;
                case "<=" -> Op.BinaryFn.LE;
                case ">" -> Op.BinaryFn.GT;
                case ">=" -> Op.BinaryFn.GE;
                case "==" -> Op.BinaryFn.EQ;
                case "!=" -> Op.BinaryFn.NE;
                default -> throw new EvalError(pos, "'" + op + "' does not apply to tensors");
            };
            return new TensorV(g.binary(fn, x, y));
        } catch (ShapeException e) {
            throw new EvalError(pos, e.getMessage());
        }
    }

    /** A compile-time number as a scalar node of the given element type. */
    static Node scalar(Value v, DType dt, Pos pos, GraphBuilder g) {
        return switch (v) {
            case IntV i -> g.constant(i.v(), dt);
            case BoolV b -> g.constant(b.v() ? 1 : 0, dt);
            case FloatV f -> {
                if (!dt.isFloating())
                    throw new EvalError(pos, "cannot combine an " + dt + " tensor with the float " + f, "convert the tensor with float(x)");
                yield g.constant(f.v(), dt);
            }
            case DimV d -> throw new EvalError(pos, "the symbolic size " + d + " cannot be used as a tensor value",
                    "sum a tensor of ones to count elements at run time");
            default -> throw new EvalError(pos, "expected a tensor or a number, got " + v.typeName());
        };
    }
}
