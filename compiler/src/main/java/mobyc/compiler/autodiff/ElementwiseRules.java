package mobyc.compiler.autodiff;

import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Op.BinaryFn;
import mobyc.compiler.ir.Op.UnaryFn;

/** Rules for elementwise ops; binary gradients are summed back over broadcast axes. */
final class ElementwiseRules {
    private ElementwiseRules() {}

    static Node c(GraphBuilder b, double v, Node like) { return b.constant(v, like.dtype()); }

    static List<Node> unary(GraphBuilder b, Node y, Node g) {
        Node x = y.input(0);
        UnaryFn fn = ((Op.Unary) y.op()).fn();
        Node gx = switch (fn) {
            case NEG -> b.unary(UnaryFn.NEG, g);
            case EXP -> b.mul(g, y);
            case LOG -> b.div(g, x);
            case SQRT -> b.div(b.mul(g, c(b, 0.5, g)), y);
            case RSQRT -> b.mul(g, b.mul(c(b, -0.5, g), b.mul(y, b.mul(y, y))));
            case TANH -> b.mul(g, b.sub(c(b, 1, g), b.mul(y, y)));
            case ERF -> b.mul(g, b.mul(c(b, 2 / Math.sqrt(Math.PI), g), b.unary(UnaryFn.EXP, b.unary(UnaryFn.NEG, b.mul(x, x)))));
            case RELU -> b.mul(g, b.binary(BinaryFn.GT, x, c(b, 0, x)));
            case GELU -> b.mul(g, b.unary(UnaryFn.DGELU, x)); // d/dx x Phi(x) = Phi(x) + x phi(x)
            case DGELU -> { // d/dx (Phi(x) + x phi(x)) = phi(x) (2 - x^2)
                Node pdf = b.mul(c(b, 1 / Math.sqrt(2 * Math.PI), x), b.unary(UnaryFn.EXP, b.mul(c(b, -0.5, x), b.mul(x, x))));
                yield b.mul(g, b.mul(pdf, b.sub(c(b, 2, x), b.mul(x, x))));
            }
            case ABS -> b.mul(g, b.sub(b.binary(BinaryFn.GT, x, c(b, 0, x)), b.binary(BinaryFn.LT, x, c(b, 0, x))));
            case SIGMOID -> b.mul(g, b.mul(y, b.sub(c(b, 1, y), y)));
            case FLOOR -> null;
        };
        return Arrays.asList(gx);
    }

    static List<Node> binary(GraphBuilder b, Node y, Node g) {
        Node x = y.input(0), z = y.input(1);
        BinaryFn fn = ((Op.Binary) y.op()).fn();
        if (fn.isComparison()) return Arrays.asList(null, null);
        Node gx, gz;
        switch (fn) {
            case ADD -> { gx = g; gz = g; }
            case SUB -> { gx = g; gz = b.unary(UnaryFn.NEG, g); }
            case MUL -> { gx = b.mul(g, z); gz = b.mul(g, x); }
            case DIV -> { gx = b.div(g, z); gz = b.unary(UnaryFn.NEG, b.div(b.mul(g, y), z)); }
            case POW -> {
                gx = b.mul(g, b.mul(z, b.binary(BinaryFn.POW, x, b.sub(z, c(b, 1, z)))));
                // d/dz x^z = x^z log x, taken as 0 where x <= 0 (as PyTorch does for x == 0)
                Node pos = b.binary(BinaryFn.GT, x, c(b, 0, x));
                Node safe = b.where(pos, x, c(b, 1, x));
                gz = b.mul(g, b.mul(y, b.mul(pos, b.unary(UnaryFn.LOG, safe))));
            }
            case MAX, MIN -> {
                BinaryFn wins = fn == BinaryFn.MAX ? BinaryFn.GT : BinaryFn.LT;
                Node tie = b.mul(b.binary(BinaryFn.EQ, x, z), c(b, 0.5, x));
                gx = b.mul(g, b.add(b.binary(wins, x, z), tie));
                gz = b.mul(g, b.add(b.binary(wins, z, x), tie));
            }
            case MOD -> {
                gx = g;
                gz = b.unary(UnaryFn.NEG, b.mul(g, b.unary(UnaryFn.FLOOR, b.div(x, z))));
            }
            default -> throw new IllegalStateException(fn.toString());
        }
        return Arrays.asList(b.sumTo(gx, x.shape()), b.sumTo(gz, z.shape()));
    }

    static List<Node> where(GraphBuilder b, Node y, Node g) {
        Node cond = y.input(0), x = y.input(1), z = y.input(2);
        Node zero = c(b, 0, g);
        Node gx = b.where(cond, g, zero), gz = b.where(cond, zero, g);
        return Arrays.asList(null, b.sumTo(gx, x.shape()), b.sumTo(gz, z.shape()));
    }

    static List<Node> cast(GraphBuilder b, Node y, Node g) {
        Node x = y.input(0);
        boolean both = x.dtype().isFloating() && y.dtype().isFloating();
        return Arrays.asList(both ? b.cast(g, x.dtype()) : null);
    }

    static boolean differentiable(DType t) { return t.isFloating(); }
}
