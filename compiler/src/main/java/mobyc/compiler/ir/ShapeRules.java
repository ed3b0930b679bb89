package mobyc.compiler.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The type and shape rule of every op. Used when a graph is built and again by the verifier.
 * Throws {@link ShapeException} with a message fit for a user when operands do not fit.
 */
public final class ShapeRules {
    private ShapeRules() {}

    public record Result(DType dtype, Shape shape) {}

    /** Infers the result of {@code op} on {@code in}; {@code given} is the requested shape for ops that take one. */
    public static Result infer(Op op, List<Node> in, DType givenType, Shape given) {
        return switch (op) {
            case Op.Input i -> new Result(givenType, given);
            case Op.Param p -> new Result(givenType, given);
            case Op.State s -> new Result(givenType, given);
            case Op.Constant c -> new Result(givenType, Shape.SCALAR);
            case Op.Arange a -> {
                if (given.rank() != 1) throw new ShapeException("arange gives a 1-D tensor");
                yield new Result(givenType, given);
            }
            case Op.Random r -> new Result(DType.F32, given);
            case Op.Unary u -> {
                arity(op, in, 1);
                if (u.fn() != Op.UnaryFn.NEG && u.fn() != Op.UnaryFn.ABS && u.fn() != Op.UnaryFn.RELU)
                    floating(op, in.get(0));
                yield new Result(in.get(0).dtype(), in.get(0).shape());
            }
            case Op.Binary b -> {
                arity(op, in, 2);
                sameType(op, in.get(0), in.get(1));
                yield new Result(in.get(0).dtype(), broadcast(op, in.get(0).shape(), in.get(1).shape()));
            }
            case Op.Where w -> {
                arity(op, in, 3);
                sameType(op, in.get(1), in.get(2));
                Shape s = broadcast(op, in.get(0).shape(), broadcast(op, in.get(1).shape(), in.get(2).shape()));
                yield new Result(in.get(1).dtype(), s);
            }
            case Op.Cast c -> { arity(op, in, 1); yield new Result(c.to(), in.get(0).shape()); }
            case Op.StopGradient s -> { arity(op, in, 1); yield new Result(in.get(0).dtype(), in.get(0).shape()); }
            case Op.Reduce r -> {
                arity(op, in, 1);
                Shape x = in.get(0).shape();
                boolean[] reduced = new boolean[x.rank()];
                for (int a : r.axes()) {
                    int ax = axis(op, x, a);
                    if (reduced[ax]) throw new ShapeException(op.name() + ": axis " + a + " given twice");
                    reduced[ax] = true;
                }
                if (r.fn() == Op.ReduceFn.MEAN) floating(op, in.get(0));
                List<Dim> d = new ArrayList<>();
                for (int i = 0; i < x.rank(); i++) {
                    if (!reduced[i]) d.add(x.dim(i));
                    else if (r.keepDims()) d.add(Dim.of(1));
                }
                yield new Result(in.get(0).dtype(), new Shape(d));
            }
            case Op.Softmax s -> { arity(op, in, 1); floating(op, in.get(0)); axis(op, in.get(0).shape(), s.axis()); yield same(in.get(0)); }
            case Op.LogSoftmax s -> { arity(op, in, 1); floating(op, in.get(0)); axis(op, in.get(0).shape(), s.axis()); yield same(in.get(0)); }
            case Op.LayerNorm l -> {
                arity(op, in, 3);
                Shape x = in.get(0).shape();
                if (x.rank() < 1) throw new ShapeException("layer_norm needs at least one axis");
                Shape c = Shape.of(x.dim(x.rank() - 1));
                for (int i = 1; i < 3; i++) expectShape(op, in.get(i), c, i == 1 ? "weight" : "bias");
                yield same(in.get(0));
            }
            case Op.LayerNormGrad l -> {
                if (in.size() != 4) arity(op, in, 3);
                Shape x = in.get(0).shape();
                if (x.rank() < 1) throw new ShapeException("layer_norm_grad needs at least one axis");
                expectShape(op, in.get(1), Shape.of(x.dim(x.rank() - 1)), "weight");
                expectShape(op, in.get(2), x, "output gradient");
                if (in.size() == 4) expectShape(op, in.get(3), x, "addend");
                yield same(in.get(0));
            }
            case Op.LayerNormParamGrad l -> {
                arity(op, in, 2);
                Shape x = in.get(0).shape();
                if (x.rank() < 1) throw new ShapeException("layer_norm_param_grad needs at least one axis");
                floating(op, in.get(0));
                expectShape(op, in.get(1), x, "output gradient");
                yield new Result(in.get(0).dtype(), Shape.of(Dim.of(2), x.dim(x.rank() - 1)));
            }
            case Op.BatchNorm b -> {
                arity(op, in, 5);
                Shape x = in.get(0).shape();
                Shape c = Shape.of(x.dim(axis(op, x, b.axis())));
                String[] names = {"", "mean", "var", "weight", "bias"};
                for (int i = 1; i < 5; i++) expectShape(op, in.get(i), c, names[i]);
                yield same(in.get(0));
            }
            case Op.L2Normalize l -> { arity(op, in, 1); floating(op, in.get(0)); axis(op, in.get(0).shape(), l.axis()); yield same(in.get(0)); }
            case Op.CrossEntropy c -> {
                arity(op, in, 2);
                Shape x = in.get(0).shape(), y = in.get(1).shape();
                if (x.rank() != 2) throw new ShapeException("cross_entropy expects logits [N, C], got " + x);
                if (in.get(1).dtype() != DType.I32) throw new ShapeException("cross_entropy expects integer labels, got " + in.get(1).dtype());
                if (y.rank() != 1 || !y.dim(0).equals(x.dim(0)))
                    throw new ShapeException("cross_entropy: labels " + y + " do not match logits " + x);
                yield new Result(in.get(0).dtype(), Shape.of(x.dim(0)));
            }
            case Op.MatMul m -> {
                int gate = m.activation().extraInputs();
                String extra = switch (m.activation()) {
                    case NONE, GELU, DGELU -> "";
                    case DGELU_GATE, GATE -> " and a gate";
                    case RESIDUAL -> " and a residual";
                    case SCALED_RESIDUAL -> ", a scale and a residual";
                };
                if (in.size() != 2 + gate && in.size() != 3 + gate)
                    throw new ShapeException("matmul takes 2 operands, an optional addend" + extra + ", got " + in.size());
                sameType(op, in.get(0), in.get(1));
                Shape a = in.get(0).shape(), b = in.get(1).shape();
                if (a.rank() < 2 || b.rank() < 2)
                    throw new ShapeException("matmul needs operands of rank 2 or more, got " + a + " @ " + b);
                Dim am = a.dim(a.rank() - (m.transA() ? 1 : 2)), ak = a.dim(a.rank() - (m.transA() ? 2 : 1));
                Dim bk = b.dim(b.rank() - (m.transB() ? 1 : 2)), bn = b.dim(b.rank() - (m.transB() ? 2 : 1));
                if (!ak.equals(bk))
                    throw new ShapeException("matmul: inner dimensions differ: " + a + (m.transA() ? "^T" : "") + " @ " + b + (m.transB() ? "^T" : ""));
                Shape batch = broadcast(op, new Shape(a.dims().subList(0, a.rank() - 2)), new Shape(b.dims().subList(0, b.rank() - 2)));
                List<Dim> d = new ArrayList<>(batch.dims());
                d.add(am);
                d.add(bn);
                Shape result = new Shape(d);
                if (in.size() == 3 + gate) {
                    sameType(op, in.get(0), in.get(2));
                    if (!broadcast(op, in.get(2).shape(), result).equals(result))
                        throw new ShapeException("matmul: the addend " + in.get(2).shape() + " does not broadcast to the product " + result);
                }
                if (gate > 0) {
                    Node g = in.get(in.size() - 1);
                    sameType(op, in.get(0), g);
                    String what = m.activation() == Op.Activation.DGELU_GATE || m.activation() == Op.Activation.GATE ? "gate" : "residual";
                    if (!g.shape().equals(result))
                        throw new ShapeException("matmul: the " + what + " " + g.shape() + " is not of the product's shape " + result);
                }
                if (m.activation() == Op.Activation.SCALED_RESIDUAL) {
                    Node sc = in.get(in.size() - 2);
                    sameType(op, in.get(0), sc);
                    if (!isLeadingScale(sc.shape(), result))
                        throw new ShapeException("matmul: the scale " + sc.shape() + " is not [" + result.dim(0) + ", 1, ...] of the product's rank " + result.rank());
                }
                yield new Result(in.get(0).dtype(), new Shape(d));
            }
            case Op.Conv2d c -> {
                arity(op, in, 2);
                Shape x = in.get(0).shape(), w = in.get(1).shape();
                if (x.rank() != 4 || w.rank() != 4) throw new ShapeException("conv2d expects input [N, C, H, W] and weight [O, C, KH, KW], got " + x + " and " + w);
                if (!x.dim(1).equals(w.dim(1))) throw new ShapeException("conv2d: input has " + x.dim(1) + " channels, weight expects " + w.dim(1));
                Dim h = convOut(x.dim(2), w.dim(2), c.strideH(), c.padH());
                Dim wd = convOut(x.dim(3), w.dim(3), c.strideW(), c.padW());
                yield new Result(in.get(0).dtype(), Shape.of(x.dim(0), w.dim(0), h, wd));
            }
            case Op.Conv2dInputGrad c -> {
                arity(op, in, 2);
                Shape gy = in.get(0).shape(), w = in.get(1).shape();
                if (given == null || given.rank() != 4 || gy.rank() != 4 || w.rank() != 4 || !gy.dim(1).equals(w.dim(0)) || !given.dim(1).equals(w.dim(1)))
                    throw new ShapeException("conv2d_input_grad: gradient " + gy + ", weight " + w + " and input shape " + given + " do not fit");
                yield new Result(in.get(0).dtype(), given);
            }
            case Op.Conv2dWeightGrad c -> {
                arity(op, in, 2);
                Shape x = in.get(0).shape(), gy = in.get(1).shape();
                if (given == null || given.rank() != 4 || gy.rank() != 4 || x.rank() != 4 || !gy.dim(1).equals(given.dim(0)) || !x.dim(1).equals(given.dim(1)))
                    throw new ShapeException("conv2d_weight_grad: input " + x + ", gradient " + gy + " and weight shape " + given + " do not fit");
                yield new Result(in.get(0).dtype(), given);
            }
            case Op.Reshape r -> {
                arity(op, in, 1);
                if (!in.get(0).shape().numel().equals(given.numel()))
                    throw new ShapeException("cannot reshape " + in.get(0).shape() + " (" + in.get(0).shape().numel() + " elements) to " + given + " (" + given.numel() + " elements)");
                yield new Result(in.get(0).dtype(), given);
            }
            case Op.Permute p -> {
                arity(op, in, 1);
                Shape x = in.get(0).shape();
                int[] perm = p.perm();
                if (perm.length != x.rank()) throw new ShapeException("permute of a rank-" + x.rank() + " tensor needs " + x.rank() + " axes, got " + Arrays.toString(perm));
                boolean[] seen = new boolean[perm.length];
                List<Dim> d = new ArrayList<>();
                for (int a : perm) {
                    if (a < 0 || a >= perm.length || seen[a]) throw new ShapeException("permute: " + Arrays.toString(perm) + " is not a permutation of 0.." + (perm.length - 1));
                    seen[a] = true;
                    d.add(x.dim(a));
                }
                yield new Result(in.get(0).dtype(), new Shape(d));
            }
            case Op.Expand e -> {
                arity(op, in, 1);
                Shape b = broadcast(op, in.get(0).shape(), given);
                if (!b.equals(given)) throw new ShapeException("cannot expand " + in.get(0).shape() + " to " + given);
                yield new Result(in.get(0).dtype(), given);
            }
            case Op.Slice s -> {
                arity(op, in, 1);
                Shape x = in.get(0).shape();
                int ax = axis(op, x, s.axis());
                Dim n = x.dim(ax);
                if (!n.isConstant()) {
                    if (s.start() == 0 && s.end() == Long.MAX_VALUE && s.step() == 1) yield same(in.get(0));
                    throw new ShapeException("slicing needs a known size on axis " + s.axis() + ", which is " + n);
                }
                if (s.step() <= 0) throw new ShapeException("slice step must be positive, got " + s.step());
                long len = n.constant();
                long st = Math.clamp(s.start() < 0 ? s.start() + len : s.start(), 0, len);
                long en = Math.clamp(s.end() < 0 ? s.end() + len : s.end(), 0, len);
                long count = en <= st ? 0 : (en - st - 1) / s.step() + 1;
                if (count == 0) throw new ShapeException("slice " + s.start() + ":" + (s.end() == Long.MAX_VALUE ? "" : s.end()) + " of an axis of size " + len + " is empty");
                yield new Result(in.get(0).dtype(), x.with(ax, Dim.of(count)));
            }
            case Op.Concat c -> {
                if (in.isEmpty()) throw new ShapeException("concat needs at least one tensor");
                Shape x = in.get(0).shape();
                int ax = axis(op, x, c.axis());
                Dim total = Dim.of(0);
                for (Node n : in) {
                    sameType(op, in.get(0), n);
                    Shape y = n.shape();
                    if (y.rank() != x.rank()) throw new ShapeException("concat: ranks differ: " + x + " and " + y);
                    for (int i = 0; i < x.rank(); i++)
                        if (i != ax && !x.dim(i).equals(y.dim(i)))
                            throw new ShapeException("concat along axis " + c.axis() + ": shapes " + x + " and " + y + " differ on axis " + i);
                    total = total.plus(y.dim(ax));
                }
                yield new Result(in.get(0).dtype(), x.with(ax, total));
            }
            case Op.Roll r -> {
                arity(op, in, 1);
                if (r.shifts().length != r.axes().length) throw new ShapeException("roll: " + r.shifts().length + " shifts for " + r.axes().length + " axes");
                for (int a : r.axes()) axis(op, in.get(0).shape(), a);
                yield same(in.get(0));
            }
            case Op.Pad p -> {
                arity(op, in, 1);
                Shape x = in.get(0).shape();
                if (p.before().length != x.rank() || p.after().length != x.rank())
                    throw new ShapeException("pad: expected amounts for " + x.rank() + " axes");
                List<Dim> d = new ArrayList<>();
                for (int i = 0; i < x.rank(); i++) {
                    if (p.before()[i] < 0 || p.after()[i] < 0) throw new ShapeException("pad amounts must not be negative");
                    d.add(x.dim(i).plus(Dim.of(p.before()[i] + p.after()[i])));
                }
                yield new Result(in.get(0).dtype(), new Shape(d));
            }
            case Op.Gather g -> {
                arity(op, in, 2);
                if (in.get(1).dtype() != DType.I32) throw new ShapeException("gather needs an integer index, got " + in.get(1).dtype());
                Shape t = in.get(0).shape();
                if (t.rank() < 1) throw new ShapeException("gather needs a table of rank 1 or more");
                List<Dim> d = new ArrayList<>(in.get(1).shape().dims());
                d.addAll(t.dims().subList(1, t.rank()));
                yield new Result(in.get(0).dtype(), new Shape(d));
            }
            case Op.Fused f -> {
                arity(op, in, f.kernel().inputs().size());
                for (int i = 0; i < in.size(); i++) {
                    var k = f.kernel().inputs().get(i);
                    if (in.get(i).dtype() != k.dtype() || !in.get(i).shape().equals(k.shape()))
                        throw new ShapeException("fused: operand " + i + " is " + in.get(i).dtype() + in.get(i).shape() + ", the kernel reads " + k.dtype() + k.shape());
                }
                yield new Result(f.kernel().dtype(), f.kernel().shape());
            }
            case Op.MultiTensor mt -> {
                int k = mt.kernel().inputs().size();
                arity(op, in, k * mt.shapes().size());
                if (mt.shapes().isEmpty()) throw new ShapeException("multi_tensor: no members");
                for (int j = 0; j < mt.shapes().size(); j++) {
                    var member = mt.member(j);
                    for (int i = 0; i < k; i++) {
                        var want = member.inputs().get(i);
                        Node x = in.get(j * k + i);
                        if (x.dtype() != want.dtype() || !x.shape().equals(want.shape()))
                            throw new ShapeException("multi_tensor: member " + j + " operand " + i + " is " + x.dtype() + x.shape() + ", the kernel reads " + want.dtype() + want.shape());
                    }
                }
                yield new Result(mt.kernel().dtype(), Shape.of(mt.totalNumel()));
            }
            case Op.Attention a -> {
                arity(op, in, 1 + (a.hasBias() ? 1 : 0) + (a.hasMask() ? 1 : 0));
                Shape qkv = attention(op, in, a.heads(), a.hasBias(), a.hasMask(), a.windows());
                yield new Result(in.get(0).dtype(), attentionOut(qkv));
            }
            case Op.AttentionGrad a -> {
                arity(op, in, 2 + (a.hasBias() ? 1 : 0) + (a.hasMask() ? 1 : 0));
                Shape qkv = attention(op, in, a.heads(), a.hasBias(), a.hasMask(), a.windows());
                expectShape(op, in.getLast(), attentionOut(qkv), "output gradient");
                yield same(in.get(0));
            }
            case Op.AttentionBiasGrad a -> {
                arity(op, in, 3 + (a.hasMask() ? 1 : 0));
                Shape qkv = attention(op, in, a.heads(), true, a.hasMask(), a.windows());
                expectShape(op, in.getLast(), attentionOut(qkv), "output gradient");
                yield same(in.get(1));
            }
        };
    }

    /** The attention output for qkv [..., 3 * dim]: [..., dim]. */
    private static Shape attentionOut(Shape qkv) {
        int last = qkv.rank() - 1;
        return qkv.with(last, qkv.dim(last).dividedBy(Dim.of(3)));
    }

    /**
     * Checks the operands of the fused attention ops (qkv [Bw, n, 3 * heads * hd], or [B, H, W, 3 * heads * hd] with
     * {@code windows}; bias [heads, n, n]; mask [nW, n, n]); returns qkv's shape.
     */
    private static Shape attention(Op op, List<Node> in, int heads, boolean hasBias, boolean hasMask, Op.Windows windows) {
        Node qkv = in.get(0);
        floating(op, qkv);
        Shape x = qkv.shape();
        int rank = windows == null ? 3 : 4;
        Dim channels = x.rank() == rank ? x.dim(rank - 1) : null;
        if (channels == null || !channels.isConstant() || heads <= 0 || channels.constant() % (3L * heads) != 0)
            throw new ShapeException(op.name() + ": qkv must be " + (windows == null ? "[Bw, n, 3 * dim]" : "[B, H, W, 3 * dim]")
                    + " with dim a multiple of " + heads + " heads, got " + x);
        if (windows != null && (!x.dim(1).equals(Dim.of(windows.height())) || !x.dim(2).equals(Dim.of(windows.width()))))
            throw new ShapeException(op.name() + ": qkv " + x + " is not an image of " + windows.height() + " x " + windows.width() + " tokens");
        Dim n = windows == null ? x.dim(1) : Dim.of(windows.tokens());
        int k = 1;
        if (hasBias) {
            sameType(op, qkv, in.get(k));
            expectShape(op, in.get(k++), Shape.of(Dim.of(heads), n, n), "bias");
        }
        if (hasMask) {
            Node mask = in.get(k);
            sameType(op, qkv, mask);
            Shape m = mask.shape();
            if (m.rank() != 3 || !m.dim(1).equals(n) || !m.dim(2).equals(n)
                    || !(windows == null ? x.dim(0).dividedBy(m.dim(0)) != null : m.dim(0).equals(Dim.of(windows.perImage()))))
                throw new ShapeException(op.name() + ": mask must be [nW, n, n] with nW "
                        + (windows == null ? "dividing " + x.dim(0) : "= " + windows.perImage() + " windows per image") + ", got " + m);
        }
        return x;
    }

    private static Result same(Node n) { return new Result(n.dtype(), n.shape()); }

    private static void arity(Op op, List<Node> in, int n) {
        if (in.size() != n) throw new ShapeException(op.name() + " takes " + n + " operand" + (n == 1 ? "" : "s") + ", got " + in.size());
    }

    private static void floating(Op op, Node n) {
        if (!n.dtype().isFloating()) throw new ShapeException(op.name() + " needs a floating-point tensor, got " + n.dtype());
    }

    private static void sameType(Op op, Node a, Node b) {
        if (a.dtype() != b.dtype()) throw new ShapeException(op.name() + ": operand types differ: " + a.dtype() + " and " + b.dtype());
    }

    private static void expectShape(Op op, Node n, Shape s, String what) {
        if (!n.shape().equals(s)) throw new ShapeException(op.name() + ": " + what + " has shape " + n.shape() + ", expected " + s);
    }

    public static int axis(Op op, Shape s, int a) {
        int ax = s.axis(a);
        if (ax < 0) throw new ShapeException(op.name() + ": axis " + a + " is out of range for a tensor of rank " + s.rank());
        return ax;
    }

    private static Dim convOut(Dim in, Dim k, int stride, int pad) {
        if (!in.isConstant() || !k.isConstant()) throw new ShapeException("conv2d needs known spatial sizes, got " + in + " and kernel " + k);
        long span = in.constant() + 2L * pad - k.constant();
        if (stride <= 0) throw new ShapeException("conv2d stride must be positive, got " + stride);
        long n = span < 0 ? 0 : span / stride + 1;
        if (n <= 0) throw new ShapeException("conv2d: kernel " + k + " is larger than the padded input " + in);
        return Dim.of(n);
    }

    /** NumPy broadcasting: align right; equal dims or a 1 on either side. */
    public static Shape broadcast(Op op, Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        List<Dim> d = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            int ia = i - (r - a.rank()), ib = i - (r - b.rank());
            Dim x = ia >= 0 ? a.dim(ia) : Dim.of(1);
            Dim y = ib >= 0 ? b.dim(ib) : Dim.of(1);
            if (x.equals(y) || y.equals(Dim.of(1))) d.add(x);
            else if (x.equals(Dim.of(1))) d.add(y);
            else throw new ShapeException(op.name() + ": shapes " + a + " and " + b + " do not broadcast");
        }
        return new Shape(d);
    }

    /** Whether {@code s} is [d0 or 1, 1, ..., 1] of {@code result}'s rank, d0 its first dimension: one value a sample. */
    public static boolean isLeadingScale(Shape s, Shape result) {
        if (s.rank() != result.rank() || s.rank() == 0) return false;
        if (!s.dim(0).equals(result.dim(0)) && !s.dim(0).equals(Dim.of(1))) return false;
        for (int i = 1; i < s.rank(); i++) if (!s.dim(i).equals(Dim.of(1))) return false;
        return true;
    }
}
