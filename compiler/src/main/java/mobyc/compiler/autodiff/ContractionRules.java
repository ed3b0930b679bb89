package mobyc.compiler.autodiff;

import java.util.Arrays;
import java.util.List;
import mobyc.compiler.ir.GraphBuilder;
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

    static List<Node> matmul(GraphBuilder b, Node y, Node g) {
        Node x = y.input(0), w = y.input(1);
        Node gx = b.matmul(g, transposeLast(b, w));
        Node gw = b.matmul(transposeLast(b, x), g);
        return Arrays.asList(b.sumTo(gx, x.shape()), b.sumTo(gw, w.shape()));
    }

    static List<Node> conv2d(GraphBuilder b, Node y, Node g) {
        Op.Conv2d c = (Op.Conv2d) y.op();
        Node x = y.input(0), w = y.input(1);
        Node gx = b.add(new Op.Conv2dInputGrad(c.strideH(), c.strideW(), c.padH(), c.padW()), List.of(g, w), x.dtype(), x.shape());
        Node gw = b.add(new Op.Conv2dWeightGrad(c.strideH(), c.strideW(), c.padH(), c.padW()), List.of(x, g), w.dtype(), w.shape());
        return Arrays.asList(gx, gw);
    }
}
