package mobyc.compiler.kernel;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Fmt;
import mobyc.compiler.ir.Op;

/**
 * One value of a fused kernel's body, computed per output element. A body is a list of these in dependency order
 * (a value-numbered expression tree: a value read twice is computed once); operands are indices of earlier values.
 * Each value has its dtype (f32 or i32); the semantics are those of the graph ops of the same names.
 */
public sealed interface Expr {
    DType dtype();

    /** The operands, as indices into the body. */
    default int[] operands() { return new int[0]; }

    /** The element of input {@code input} at the current index (through that input's index expression). */
    record Load(int input, DType dtype) implements Expr {}

    /** A scalar constant, rounded to {@code dtype} as {@link Op.Constant} is. */
    record Const(double value, DType dtype) implements Expr {}

    record Unary(Op.UnaryFn fn, int x, DType dtype) implements Expr {
        public int[] operands() { return new int[] {x}; }
    }

    record Binary(Op.BinaryFn fn, int a, int b, DType dtype) implements Expr {
        public int[] operands() { return new int[] {a, b}; }
    }

    /** cond != 0 ? a : b; cond may have another dtype than a and b. */
    record Where(int cond, int a, int b, DType dtype) implements Expr {
        public int[] operands() { return new int[] {cond, a, b}; }
    }

    /** x converted to {@code dtype}: f32 to i32 truncates (NaN to 0, saturating), i32 to f32 rounds to nearest. */
    record Cast(int x, DType dtype) implements Expr {
        public int[] operands() { return new int[] {x}; }
    }

    /** The op's name as the graph printer writes it. */
    default String opName() {
        return switch (this) {
            case Load l -> "load";
            case Const c -> "const";
            case Unary u -> u.fn().name().toLowerCase();
            case Binary b -> b.fn().name().toLowerCase();
            case Where w -> "where";
            case Cast c -> "cast";
        };
    }

    /** The right-hand side as printed: {@code mul t0, t1}, {@code load in2}, {@code const 0.5}. */
    default String text() {
        StringBuilder sb = new StringBuilder(opName());
        switch (this) {
            case Load l -> sb.append(" in").append(l.input());
            case Const c -> sb.append(' ').append(Fmt.num(c.value()));
            default -> {
                int[] ops = operands();
                for (int i = 0; i < ops.length; i++) sb.append(i == 0 ? " t" : ", t").append(ops[i]);
            }
        }
        return sb.toString();
    }
}
