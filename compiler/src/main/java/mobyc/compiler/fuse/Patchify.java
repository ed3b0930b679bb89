package mobyc.compiler.fuse;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * Rewrites a patch embedding, a conv2d whose stride is its kernel (no padding) moved to channels-last, as one
 * product: {@code permute(conv2d(x, w) [+ b], [0, 2, 3, 1])} (Swin's) becomes {@code matmul(patches(x), w as
 * [O, C kh kw]^T) [+ b]}, and {@code permute(reshape(conv2d(x, w) [+ b], [N, O, H' W']), [0, 2, 1])} (ViT's flatten
 * and transpose) the same product reshaped to [N, H' W', O], where {@code patches(x)} is x [N, C, H, W] viewed as [N, C, H/kh, kh, W/kw, kw] and permuted to
 * [N, H/kh, W/kw, C, kh, kw], a [.., C kh kw] row a patch. The convolution's output is then written once, already
 * channels-last, instead of convolved (im2col and a GEMM), added to its bias and copied into the other layout;
 * its gradient is a weight-gradient GEMM with no layout copies either. The permute of x is of the input image (C
 * channels), small beside the embedding (O channels). Autodiff, the bias's epilogue and the weight's transposition
 * (fold-transposes) then work on the product as on any Linear. The sums are the conv's in another order.
 * <p>Preconditions: a float conv2d with stride equal to its constant kernel, zero padding, constant channels, height
 * and width divisible by the kernel; its result (and the bias add's) read only by the chain; the bias of shape
 * [O, 1, 1] or [1, O, 1, 1]; no node of the chain a graph output or state update.
 */
public final class Patchify {
    private Patchify() {}

    /** The chain a permute ends: the conv, the add of its bias and the flattening reshape (each null if absent). */
    private record Chain(Node conv, Node add, Node bias, Node flatten) {}

    public static Graph run(Graph g) {
        Map<Node, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) for (Node i : n.inputs()) readers.merge(i, 1, Integer::sum);
        Set<Node> results = new HashSet<>(g.outputs().values());
        results.addAll(g.updates().values());
        Map<Node, Chain> chains = new HashMap<>();
        Set<Node> absorbed = new HashSet<>();
        for (Node n : g.nodes()) {
            Chain c = chain(n, readers, results);
            if (c == null) continue;
            chains.put(n, c);
            absorbed.add(c.conv());
            if (c.add() != null) absorbed.add(c.add());
            if (c.flatten() != null) absorbed.add(c.flatten());
        }
        if (chains.isEmpty()) return g;
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> map = new HashMap<>();
        for (Node n : g.nodes()) {
            Chain c = chains.get(n);
            if (c != null) map.put(n, product(b.at(n.loc()), c, map));
            else if (!absorbed.contains(n)) map.put(n, b.at(n.loc()).copy(n, n.inputs().stream().map(map::get).toList()));
        }
        g.outputs().forEach((k, v) -> b.output(k, map.get(v)));
        g.updates().forEach((k, v) -> b.update(k, map.get(v)));
        return b.build();
    }

    /**
     * The patch embedding {@code permute} ends, or null: channels-last as Swin's ({@code [0, 2, 3, 1]} of the conv's
     * [N, O, H', W']) or as ViT's ({@code [0, 2, 1]} of it flattened to [N, O, H' W']).
     */
    private static Chain chain(Node permute, Map<Node, Integer> readers, Set<Node> results) {
        if (!(permute.op() instanceof Op.Permute p)) return null;
        Node in = permute.input(0), flatten = null;
        if (java.util.Arrays.equals(p.perm(), new int[] {0, 2, 1})) {
            if (!(in.op() instanceof Op.Reshape) || readers.get(in) != 1 || results.contains(in) || in.input(0).shape().rank() != 4) return null;
            Shape four = in.input(0).shape();
            if (!in.shape().equals(Shape.of(four.dim(0), four.dim(1), four.dim(2).times(four.dim(3))))) return null;
            flatten = in;
            in = in.input(0);
        } else if (!java.util.Arrays.equals(p.perm(), new int[] {0, 2, 3, 1})) {
            return null;
        }
        Node conv = in, add = null, bias = null;
        if (in.op() instanceof Op.Binary bin && bin.fn() == Op.BinaryFn.ADD) {
            for (int side = 0; side < 2 && add == null; side++) {
                if (in.input(side).op() instanceof Op.Conv2d && isChannelBias(in.input(1 - side).shape(), in.input(side).shape().dim(1))) {
                    conv = in.input(side);
                    bias = in.input(1 - side);
                    add = in;
                }
            }
            if (add == null || readers.get(add) != 1 || results.contains(add) || !add.shape().equals(conv.shape())) return null;
        }
        if (!(conv.op() instanceof Op.Conv2d op) || readers.get(conv) != 1 || results.contains(conv)) return null;
        Shape x = conv.input(0).shape(), w = conv.input(1).shape();
        if (op.padH() != 0 || op.padW() != 0 || !constant(x, 1, 2, 3) || !constant(w, 0, 1, 2, 3)) return null;
        long kh = w.dim(2).constant(), kw = w.dim(3).constant();
        if (op.strideH() != kh || op.strideW() != kw || x.dim(2).constant() % kh != 0 || x.dim(3).constant() % kw != 0) return null;
        return new Chain(conv, add, bias, flatten);
    }

    /** The product (plus bias) that replaces a chain, channels-last. */
    private static Node product(GraphBuilder b, Chain c, Map<Node, Node> map) {
        Node x = map.get(c.conv().input(0)), w = map.get(c.conv().input(1));
        Dim n = x.shape().dim(0);
        long channels = x.shape().dim(1).constant(), h = x.shape().dim(2).constant(), wd = x.shape().dim(3).constant();
        long out = w.shape().dim(0).constant(), kh = w.shape().dim(2).constant(), kw = w.shape().dim(3).constant();
        Node tiles = b.reshape(x, Shape.of(n, Dim.of(channels), Dim.of(h / kh), Dim.of(kh), Dim.of(wd / kw), Dim.of(kw)));
        Node patches = b.reshape(b.permute(tiles, 0, 2, 4, 1, 3, 5),
                Shape.of(n, Dim.of(h / kh), Dim.of(wd / kw), Dim.of(channels * kh * kw)));
        Node y = b.matmul(patches, b.permute(b.reshape(w, Shape.of(out, channels * kh * kw)), 1, 0));
        if (c.bias() != null) y = b.add(y, b.reshape(map.get(c.bias()), Shape.of(out)));
        return c.flatten() == null ? y : b.reshape(y, Shape.of(n, Dim.of((h / kh) * (wd / kw)), Dim.of(out)));
    }

    /** Whether a bias of {@code s} adds one value a channel to a conv output of {@code channels} channels: [O, 1, 1] or [1, O, 1, 1]. */
    private static boolean isChannelBias(Shape s, Dim channels) {
        int r = s.rank();
        if (r != 3 && r != 4) return false;
        if (r == 4 && !one(s.dim(0))) return false;
        return s.dim(r - 3).equals(channels) && one(s.dim(r - 2)) && one(s.dim(r - 1));
    }

    private static boolean one(Dim d) { return d.isConstant() && d.constant() == 1; }

    private static boolean constant(Shape s, int... axes) {
        for (int a : axes) if (!s.dim(a).isConstant()) return false;
        return true;
    }
}
