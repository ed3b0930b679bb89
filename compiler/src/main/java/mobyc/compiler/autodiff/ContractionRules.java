package mobyc.compiler.autodiff;

import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/** Rules for matmul and conv2d. */
final class ContractionRules {
    private ContractionRules() {}

    static Node transposeLast(GraphBuilder b, Node x) {
        int r = x.shape().rank();
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        perm[r - 1] = r - 2;
        perm[r - 2] = r - 1;
        return b.permute(x, perm);
    }

    /**
     * y = op(x) @ op(w) (op = transpose where the flag says): dX = g @ W^T and dW = X^T @ g, written as matmuls with
     * transpose flags so that no transpose is copied. When a matrix w ([K, N]) is shared by a stack x ([..., M, K]),
     * dW is one [K, P] @ [P, N] product over the flattened stack (P = the stack's rows) instead of a product per
     * matrix summed afterwards.
     */
    static List<Node> matmul(GraphBuilder b, Node y, Node g) {
        Op.MatMul op = (Op.MatMul) y.op();
        if (op.activation() != Op.Activation.NONE)
            throw new IllegalArgumentException("matmul with a fused " + op.activation() + " has no gradient rule (the activations pass runs after autodiff)");
        boolean ta = op.transA(), tb = op.transB();
        Node x = y.input(0), w = y.input(1);
        Node gx = ta ? mm(b, w, g, tb, true) : mm(b, g, w, false, !tb);
        Node gw;
        int rx = x.shape().rank();
        if (w.shape().rank() == 2 && rx > 2 && !ta) {
            Dim rows = Dim.of(1);
            for (int i = 0; i < rx - 1; i++) rows = rows.times(x.shape().dim(i));
            Node x2 = b.reshape(x, Shape.of(rows, x.shape().dim(rx - 1)));
            Node g2 = b.reshape(g, Shape.of(rows, g.shape().dim(g.shape().rank() - 1)));
            gw = tb ? mm(b, g2, x2, true, false) : mm(b, x2, g2, true, false);
        } else {
            gw = tb ? mm(b, g, x, true, ta) : mm(b, x, g, !ta, false);
        }
        List<Node> grads = new java.util.ArrayList<>(Arrays.asList(b.sumTo(gx, x.shape()), b.sumTo(gw, w.shape())));
        if (y.inputs().size() > 2) grads.add(b.sumTo(g, y.input(2).shape())); // the epilogue's addend
        return grads;
    }

    private static Node mm(GraphBuilder b, Node l, Node r, boolean transA, boolean transB) {
        return b.matmul(l, r, transA, transB);
    }

    static List<Node> conv2d(GraphBuilder b, Node y, Node g) {
        Op.Conv2d c = (Op.Conv2d) y.op();
        Node x = y.input(0), w = y.input(1);
        Node gx = b.add(new Op.Conv2dInputGrad(c.strideH(), c.strideW(), c.padH(), c.padW()), List.of(g, w), x.dtype(), x.shape());
        Node gw = b.add(new Op.Conv2dWeightGrad(c.strideH(), c.strideW(), c.padH(), c.padW()), List.of(x, g), w.dtype(), w.shape());
        return Arrays.asList(gx, gw);
    }
}
