package mobyc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every op's type and shape rule: results on good operands, the exact message on bad ones. */
class ShapeRulesTest {
    static final Dim B = Dim.sym("B"), N = Dim.sym("N");
    static final DType F = DType.F32, I = DType.I32;

    private static int ids;

    /** A source node of the given type and shape (dims: Long or Dim). */
    static Node t(DType dt, Object... dims) {
        Dim[] d = new Dim[dims.length];
        for (int i = 0; i < d.length; i++) d[i] = dims[i] instanceof Dim x ? x : Dim.of(((Number) dims[i]).longValue());
        return new Node(ids++, new Op.Input("t" + ids), List.of(), dt, Shape.of(d), null);
    }

    static Node f(Object... dims) { return t(F, dims); }

    static ShapeRules.Result infer(Op op, Node... in) { return ShapeRules.infer(op, List.of(in), null, null); }

    static String shape(Op op, Node... in) { return infer(op, in).shape().toString(); }

    static void fails(String message, Executable e) {
        assertEquals(message, assertThrows(ShapeException.class, e).getMessage());
    }

    static void fails(String message, Op op, Node... in) { fails(message, () -> infer(op, in)); }

    static final Op ADD = new Op.Binary(Op.BinaryFn.ADD);

    // ---------------------------------------------------------------- broadcasting

    @Test
    void broadcastingAlignsRightAndStretchesOnes() {
        assertEquals("[B, 3, 4]", shape(ADD, f(B, 1, 4), f(3, 1)));
        assertEquals("[B, 4]", shape(ADD, f(4), f(B, 4)));
        assertEquals("[B, 4]", shape(ADD, f(B, 4), f()));
        assertEquals("[B]", shape(ADD, f(B), f(1)));
        assertEquals("[B]", shape(ADD, f(1), f(B)));
        assertEquals("[B, N, 4]", shape(ADD, f(B, 1, 4), f(N, 1)));
        assertEquals("[2*B, 4]", shape(ADD, f(Dim.of(2).times(B), 4), f(Dim.of(2).times(B), 1)));
    }

    @Test
    void broadcastingFailures() {
        fails("add: shapes [B, 4] and [N, 4] do not broadcast", ADD, f(B, 4), f(N, 4));
        fails("add: shapes [B, 4] and [3] do not broadcast", ADD, f(B, 4), f(3));
        fails("mul: shapes [2, 3] and [3, 2] do not broadcast", new Op.Binary(Op.BinaryFn.MUL), f(2, 3), f(3, 2));
        // a symbolic size never matches a constant other than 1
        fails("sub: shapes [B] and [2] do not broadcast", new Op.Binary(Op.BinaryFn.SUB), f(B), f(2));
    }

    @Test
    void binaryTypes() {
        assertEquals(I, infer(new Op.Binary(Op.BinaryFn.LT), t(I, 3), t(I, 3)).dtype());
        assertEquals(F, infer(new Op.Binary(Op.BinaryFn.EQ), f(3), f(3)).dtype());
        fails("add: operand types differ: f32 and i32", ADD, f(3), t(I, 3));
        fails("add takes 2 operands, got 1", ADD, f(3));
        fails("pow takes 2 operands, got 3", new Op.Binary(Op.BinaryFn.POW), f(3), f(3), f(3));
    }

    @Test
    void unary() {
        Op gelu = new Op.Unary(Op.UnaryFn.GELU);
        assertEquals("[B, 4]", shape(gelu, f(B, 4)));
        assertEquals(I, infer(new Op.Unary(Op.UnaryFn.NEG), t(I, 2)).dtype());
        assertEquals(I, infer(new Op.Unary(Op.UnaryFn.ABS), t(I, 2)).dtype());
        assertEquals(I, infer(new Op.Unary(Op.UnaryFn.RELU), t(I, 2)).dtype());
        fails("exp needs a floating-point tensor, got i32", new Op.Unary(Op.UnaryFn.EXP), t(I, 2));
        fails("floor needs a floating-point tensor, got i32", new Op.Unary(Op.UnaryFn.FLOOR), t(I, 2));
        fails("gelu takes 1 operand, got 2", gelu, f(2), f(2));
        fails("gelu takes 1 operand, got 0", gelu);
    }

    @Test
    void whereCastStopGradient() {
        assertEquals("[B, 3]", shape(new Op.Where(), f(B, 1), f(3), f()));
        fails("where: operand types differ: f32 and i32", new Op.Where(), f(3), f(3), t(I, 3));
        fails("where: shapes [2] and [3] do not broadcast", new Op.Where(), f(3), f(2), f(3));
        fails("where takes 3 operands, got 2", new Op.Where(), f(3), f(3));
        ShapeRules.Result r = infer(new Op.Cast(I), f(B, 2));
        assertEquals(I, r.dtype());
        assertEquals("[B, 2]", r.shape().toString());
        fails("cast takes 1 operand, got 2", new Op.Cast(I), f(2), f(2));
        assertEquals("[B]", shape(new Op.StopGradient(), f(B)));
        fails("stop_gradient takes 1 operand, got 0", new Op.StopGradient());
    }

    // ---------------------------------------------------------------- reductions and normalisations

    @Test
    void reductions() {
        assertEquals("[B, 6]", shape(new Op.Reduce(Op.ReduceFn.SUM, new int[] {1}, false), f(B, 4, 6)));
        assertEquals("[B, 1, 6]", shape(new Op.Reduce(Op.ReduceFn.SUM, new int[] {1}, true), f(B, 4, 6)));
        assertEquals("[B]", shape(new Op.Reduce(Op.ReduceFn.MEAN, new int[] {-1, 1}, false), f(B, 4, 6)));
        assertEquals("[]", shape(new Op.Reduce(Op.ReduceFn.MAX, new int[] {0, 1, 2}, false), f(B, 4, 6)));
        assertEquals(I, infer(new Op.Reduce(Op.ReduceFn.SUM, new int[] {0}, false), t(I, 3)).dtype());
        fails("reduce_sum: axis 2 is out of range for a tensor of rank 2", new Op.Reduce(Op.ReduceFn.SUM, new int[] {2}, false), f(3, 4));
        fails("reduce_max: axis -3 is out of range for a tensor of rank 2", new Op.Reduce(Op.ReduceFn.MAX, new int[] {-3}, false), f(3, 4));
        fails("reduce_sum: axis -1 given twice", new Op.Reduce(Op.ReduceFn.SUM, new int[] {1, -1}, false), f(3, 4));
        fails("reduce_mean needs a floating-point tensor, got i32", new Op.Reduce(Op.ReduceFn.MEAN, new int[] {0}, false), t(I, 3));
    }

    @Test
    void softmaxFamily() {
        assertEquals("[B, 5]", shape(new Op.Softmax(-1), f(B, 5)));
        assertEquals("[B, 5]", shape(new Op.LogSoftmax(0), f(B, 5)));
        assertEquals("[B, 5]", shape(new Op.L2Normalize(1, 1e-12), f(B, 5)));
        fails("softmax: axis 2 is out of range for a tensor of rank 2", new Op.Softmax(2), f(B, 5));
        fails("softmax needs a floating-point tensor, got i32", new Op.Softmax(0), t(I, 5));
        fails("log_softmax: axis -3 is out of range for a tensor of rank 2", new Op.LogSoftmax(-3), f(B, 5));
        fails("l2_normalize: axis 1 is out of range for a tensor of rank 1", new Op.L2Normalize(1, 1e-12), f(5));
        fails("l2_normalize needs a floating-point tensor, got i32", new Op.L2Normalize(0, 1e-12), t(I, 5));
    }

    @Test
    void layerNorm() {
        Op ln = new Op.LayerNorm(1e-5);
        assertEquals("[B, N, 4]", shape(ln, f(B, N, 4), f(4), f(4)));
        fails("layer_norm: weight has shape [3], expected [4]", ln, f(B, 4), f(3), f(4));
        fails("layer_norm: bias has shape [4, 1], expected [4]", ln, f(B, 4), f(4), f(4, 1));
        fails("layer_norm needs at least one axis", ln, f(), f(1), f(1));
        fails("layer_norm takes 3 operands, got 2", ln, f(B, 4), f(4));
        Op pg = new Op.LayerNormParamGrad(1e-5);
        assertEquals("[2, 4]", shape(pg, f(B, N, 4), f(B, N, 4)));
        fails("layer_norm_param_grad: output gradient has shape [B, 4], expected [B, N, 4]", pg, f(B, N, 4), f(B, 4));
        fails("layer_norm_param_grad needs at least one axis", pg, f(), f());
    }

    @Test
    void batchNorm() {
        Op bn = new Op.BatchNorm(1, 1e-5);
        assertEquals("[B, 3, 8, 8]", shape(bn, f(B, 3, 8, 8), f(3), f(3), f(3), f(3)));
        assertEquals("[B, N, 3]", shape(new Op.BatchNorm(-1, 1e-5), f(B, N, 3), f(3), f(3), f(3), f(3)));
        fails("batch_norm: mean has shape [4], expected [3]", bn, f(B, 3), f(4), f(3), f(3), f(3));
        fails("batch_norm: var has shape [4], expected [3]", bn, f(B, 3), f(3), f(4), f(3), f(3));
        fails("batch_norm: weight has shape [4], expected [3]", bn, f(B, 3), f(3), f(3), f(4), f(3));
        fails("batch_norm: bias has shape [], expected [3]", bn, f(B, 3), f(3), f(3), f(3), f());
        fails("batch_norm: axis 1 is out of range for a tensor of rank 1", bn, f(3), f(3), f(3), f(3), f(3));
        fails("batch_norm takes 5 operands, got 1", bn, f(B, 3));
    }

    @Test
    void crossEntropy() {
        Op ce = new Op.CrossEntropy();
        assertEquals("[B]", shape(ce, f(B, 10), t(I, B)));
        fails("cross_entropy expects logits [N, C], got [10]", ce, f(10), t(I, 1));
        fails("cross_entropy expects integer labels, got f32", ce, f(B, 10), f(B));
        fails("cross_entropy: labels [N] do not match logits [B, 10]", ce, f(B, 10), t(I, N));
        fails("cross_entropy: labels [B, 1] do not match logits [B, 10]", ce, f(B, 10), t(I, B, 1));
    }

    // ---------------------------------------------------------------- contractions

    @Test
    void matmulBroadcastsBatchDimensions() {
        Op mm = new Op.MatMul();
        assertEquals("[B, 5]", shape(mm, f(B, 4), f(4, 5)));
        assertEquals("[B, 7, 3, 6]", shape(mm, f(B, 1, 3, 4), f(7, 4, 6)));
        assertEquals("[B, 7, 3, 6]", shape(mm, f(3, 4), f(B, 7, 4, 6)));
        assertEquals("[B, N, N]", shape(mm, f(B, N, 8), f(B, 8, N)));
        fails("matmul: inner dimensions differ: [B, 4] @ [3, 5]", mm, f(B, 4), f(3, 5));
        fails("matmul: inner dimensions differ: [B, N] @ [B, 5]", mm, f(B, N), f(B, 5));
        fails("matmul needs operands of rank 2 or more, got [4] @ [4, 2]", mm, f(4), f(4, 2));
        fails("matmul: operand types differ: f32 and i32", mm, f(2, 2), t(I, 2, 2));
        fails("matmul: shapes [B] and [N] do not broadcast", mm, f(B, 2, 3), f(N, 3, 2));
    }

    @Test
    void conv2dOutputSize() {
        assertEquals("[B, 8, 32, 32]", shape(new Op.Conv2d(1, 1, 1, 1), f(B, 3, 32, 32), f(8, 3, 3, 3)));
        assertEquals("[B, 8, 16, 16]", shape(new Op.Conv2d(2, 2, 1, 1), f(B, 3, 32, 32), f(8, 3, 3, 3)));
        assertEquals("[B, 96, 56, 56]", shape(new Op.Conv2d(4, 4, 0, 0), f(B, 3, 224, 224), f(96, 3, 4, 4)));
        assertEquals("[2, 8, 15, 7]", shape(new Op.Conv2d(2, 4, 0, 0), f(2, 3, 32, 31), f(8, 3, 3, 4)));
        assertEquals("[B, 4, 1, 1]", shape(new Op.Conv2d(1, 1, 0, 0), f(B, 3, 5, 5), f(4, 3, 5, 5)));
        fails("conv2d: kernel 5 is larger than the padded input 4", new Op.Conv2d(1, 1, 0, 0), f(B, 3, 4, 4), f(4, 3, 5, 5));
        fails("conv2d: input has 4 channels, weight expects 3", new Op.Conv2d(1, 1, 0, 0), f(B, 4, 8, 8), f(8, 3, 3, 3));
        fails("conv2d needs known spatial sizes, got N and kernel 3", new Op.Conv2d(1, 1, 0, 0), f(B, 3, N, 8), f(8, 3, 3, 3));
        fails("conv2d expects input [N, C, H, W] and weight [O, C, KH, KW], got [3, 8, 8] and [8, 3, 3, 3]",
                new Op.Conv2d(1, 1, 0, 0), f(3, 8, 8), f(8, 3, 3, 3));
        fails("conv2d takes 2 operands, got 1", new Op.Conv2d(1, 1, 0, 0), f(B, 3, 8, 8));
    }

    @Test
    void conv2dKernelLargerThanInputWithStride() {
        fails("conv2d: kernel 5 is larger than the padded input 4", new Op.Conv2d(2, 2, 0, 0), f(B, 3, 4, 4), f(4, 3, 5, 5));
    }

    // ---------------------------------------------------------------- data movement

    @Test
    void reshapeChecksElementCountSymbolically() {
        Node x = f(B, 4, 6);
        assertEquals("[B, 24]", ShapeRules.infer(new Op.Reshape(), List.of(x), null, Shape.of(B, Dim.of(24))).shape().toString());
        assertEquals("[4*B, 6]", ShapeRules.infer(new Op.Reshape(), List.of(x), null, Shape.of(Dim.of(4).times(B), Dim.of(6))).shape().toString());
        assertEquals("[24, B]", ShapeRules.infer(new Op.Reshape(), List.of(x), null, Shape.of(Dim.of(24), B)).shape().toString());
        fails("cannot reshape [B, 4, 6] (24*B elements) to [B, 25] (25*B elements)",
                () -> ShapeRules.infer(new Op.Reshape(), List.of(x), null, Shape.of(B, Dim.of(25))));
        fails("cannot reshape [B, 4, 6] (24*B elements) to [N, 24] (24*N elements)",
                () -> ShapeRules.infer(new Op.Reshape(), List.of(x), null, Shape.of(N, Dim.of(24))));
        fails("cannot reshape [B, 4, 6] (24*B elements) to [24] (24 elements)",
                () -> ShapeRules.infer(new Op.Reshape(), List.of(x), null, Shape.of(24)));
    }

    @Test
    void permute() {
        assertEquals("[6, B, 4]", shape(new Op.Permute(new int[] {2, 0, 1}), f(B, 4, 6)));
        fails("permute of a rank-2 tensor needs 2 axes, got [0]", new Op.Permute(new int[] {0}), f(B, 4));
        fails("permute: [0, 0] is not a permutation of 0..1", new Op.Permute(new int[] {0, 0}), f(B, 4));
        fails("permute: [0, 2] is not a permutation of 0..1", new Op.Permute(new int[] {0, 2}), f(B, 4));
        fails("permute: [-1, 0] is not a permutation of 0..1", new Op.Permute(new int[] {-1, 0}), f(B, 4));
    }

    @Test
    void expand() {
        assertEquals("[B, 3, 4]", ShapeRules.infer(new Op.Expand(), List.of(f(3, 1)), null, Shape.of(B, Dim.of(3), Dim.of(4))).shape().toString());
        fails("cannot expand [4] to [1]", () -> ShapeRules.infer(new Op.Expand(), List.of(f(4)), null, Shape.of(1)));
        fails("expand: shapes [3] and [4] do not broadcast", () -> ShapeRules.infer(new Op.Expand(), List.of(f(3)), null, Shape.of(4)));
    }

    static Op.Slice slice(int axis, long start, long end) { return new Op.Slice(axis, start, end, 1); }

    @Test
    void sliceClampsLikePython() {
        assertEquals("[B, 3]", shape(slice(1, 2, 5), f(B, 10)));
        assertEquals("[B, 3]", shape(slice(-1, -3, Long.MAX_VALUE), f(B, 10)));
        assertEquals("[B, 10]", shape(slice(1, 0, 100), f(B, 10)));
        assertEquals("[B, 3]", shape(slice(1, -100, 3), f(B, 10)));
        assertEquals("[B, 8]", shape(slice(1, 1, -1), f(B, 10)));
        assertEquals("[B, 3]", shape(new Op.Slice(1, 1, 10, 3), f(B, 10)));
        assertEquals("[B, 4]", shape(new Op.Slice(1, 0, Long.MAX_VALUE, 3), f(B, 10)));
        assertEquals("[B, 10]", shape(slice(0, 0, Long.MAX_VALUE), f(B, 10)));
    }

    @Test
    void sliceFailures() {
        fails("slice 5:2 of an axis of size 10 is empty", slice(0, 5, 2), f(10));
        fails("slice 10: of an axis of size 10 is empty", slice(0, 10, Long.MAX_VALUE), f(10));
        fails("slice -20:-15 of an axis of size 10 is empty", slice(0, -20, -15), f(10));
        fails("slice step must be positive, got 0", new Op.Slice(0, 0, 5, 0), f(10));
        fails("slice step must be positive, got -1", new Op.Slice(0, 0, 5, -1), f(10));
        fails("slicing needs a known size on axis 0, which is B", slice(0, 1, 3), f(B, 10));
        fails("slice: axis 2 is out of range for a tensor of rank 2", slice(2, 0, 1), f(B, 10));
    }

    @Test
    void sliceWithHugeStepTakesOneElement() {
        assertEquals("[1]", shape(new Op.Slice(0, 0, Long.MAX_VALUE, Long.MAX_VALUE), f(4)));
    }

    @Test
    void concat() {
        assertEquals("[B, 7]", ShapeRules.infer(new Op.Concat(1), List.of(f(B, 3), f(B, 4)), null, null).shape().toString());
        assertEquals("[B+N+2, 3]", ShapeRules.infer(new Op.Concat(0), List.of(f(B, 3), f(N, 3), f(2, 3)), null, null).shape().toString());
        fails("concat needs at least one tensor", () -> ShapeRules.infer(new Op.Concat(0), List.of(), null, null));
        fails("concat: ranks differ: [2, 3] and [3]", new Op.Concat(0), f(2, 3), f(3));
        fails("concat along axis 0: shapes [2, 3] and [2, 4] differ on axis 1", new Op.Concat(0), f(2, 3), f(2, 4));
        fails("concat: operand types differ: f32 and i32", new Op.Concat(0), f(2, 3), t(I, 2, 3));
        fails("concat: axis 2 is out of range for a tensor of rank 2", new Op.Concat(2), f(2, 3), f(2, 3));
    }

    @Test
    void rollAndPad() {
        assertEquals("[B, 4, 4]", shape(new Op.Roll(new int[] {1, -1}, new int[] {1, 2}), f(B, 4, 4)));
        fails("roll: 1 shifts for 2 axes", new Op.Roll(new int[] {1}, new int[] {1, 2}), f(B, 4, 4));
        fails("roll: axis 3 is out of range for a tensor of rank 3", new Op.Roll(new int[] {1}, new int[] {3}), f(B, 4, 4));
        assertEquals("[B+1, 7]", shape(new Op.Pad(new long[] {0, 1}, new long[] {1, 2}, 0), f(B, 4)));
        fails("pad: expected amounts for 2 axes", new Op.Pad(new long[] {1}, new long[] {1}, 0), f(B, 4));
        fails("pad amounts must not be negative", new Op.Pad(new long[] {0, -1}, new long[] {0, 0}, 0), f(B, 4));
    }

    @Test
    void gather() {
        ShapeRules.Result r = infer(new Op.Gather(), f(10, 8), t(I, B, 5));
        assertEquals("[B, 5, 8]", r.shape().toString());
        assertEquals(F, r.dtype());
        assertEquals("[B]", shape(new Op.Gather(), f(10), t(I, B)));
        fails("gather needs an integer index, got f32", new Op.Gather(), f(10, 8), f(B));
        fails("gather needs a table of rank 1 or more", new Op.Gather(), f(), t(I, B));
        fails("gather takes 2 operands, got 1", new Op.Gather(), f(10, 8));
    }

    @Test
    void sources() {
        assertEquals("[5]", ShapeRules.infer(new Op.Arange(), List.of(), I, Shape.of(5)).shape().toString());
        fails("arange gives a 1-D tensor", () -> ShapeRules.infer(new Op.Arange(), List.of(), I, Shape.of(2, 3)));
        assertEquals(Shape.SCALAR, ShapeRules.infer(new Op.Constant(2), List.of(), F, null).shape());
        assertEquals(F, ShapeRules.infer(new Op.Random(1), List.of(), I, Shape.of(B)).dtype());
    }

    @Test
    void everyOpNameIsPrinted() {
        assertEquals("reduce_mean", new Op.Reduce(Op.ReduceFn.MEAN, new int[] {0}, false).name());
        assertEquals("axes=[0, 1], keepdims", new Op.Reduce(Op.ReduceFn.SUM, new int[] {0, 1}, true).attrs());
        assertEquals("axis=1, 2:5:2", new Op.Slice(1, 2, 5, 2).attrs());
        assertEquals("stride=[2, 1], padding=[0, 3]", new Op.Conv2d(2, 1, 0, 3).attrs());
        assertEquals("before=[1, 0], after=[0, 2], value=-1.5", new Op.Pad(new long[] {1, 0}, new long[] {0, 2}, -1.5).attrs());
        assertEquals(new Op.Permute(new int[] {1, 0}), new Op.Permute(new int[] {1, 0}));
        assertEquals("[1, 0]", Arrays.toString(new Op.Permute(new int[] {1, 0}).perm()));
    }
}
