package mobyc.compiler.ir;

import java.util.Arrays;

/**
 * The closed op set of the graph IR. Every op is a record of its attributes; inputs live on the {@link Node}.
 * Backends receive a small primitive subset; composite ops are lowered by the compiler where a backend asks.
 */
public sealed interface Op {
    /** Name used by the printer and in diagnostics. */
    String name();

    /** Attributes as printed, "" when none. */
    default String attrs() { return ""; }

    // ---- sources -------------------------------------------------------------------------------------------
    record Input(String inputName) implements Op {
        public String name() { return "input"; }
        public String attrs() { return inputName; }
    }
    record Param(String path, Init init) implements Op {
        public String name() { return "param"; }
        public String attrs() { return path; }
    }
    record State(String path, Init init) implements Op {
        public String name() { return "state"; }
        public String attrs() { return path; }
    }
    /** A scalar constant (shape []), broadcast by its users. */
    record Constant(double value) implements Op {
        public String name() { return "const"; }
        public String attrs() { return Fmt.num(value); }
    }
    /** 0, 1, ..., n-1 as a 1-D tensor of the node's dtype. */
    record Arange() implements Op { public String name() { return "arange"; } }
    /**
     * Uniform [0, 1) numbers from the counter-based generator: Philox-4x32-10 with key = seed and counter =
     * (element, step, stream). The same (seed, step, stream, element) gives the same number on every backend.
     */
    record Random(long stream) implements Op {
        public String name() { return "random"; }
        public String attrs() { return "stream=" + stream; }
    }

    // ---- elementwise ---------------------------------------------------------------------------------------
    /** DGELU is GELU's derivative, Phi(x) + x phi(x): the backward of GELU in one op (one exponential per element). */
    enum UnaryFn { NEG, EXP, LOG, SQRT, RSQRT, TANH, ERF, RELU, GELU, ABS, SIGMOID, FLOOR, DGELU }

    record Unary(UnaryFn fn) implements Op {
        public String name() { return fn.name().toLowerCase(); }
    }

    enum BinaryFn {
        ADD, SUB, MUL, DIV, POW, MAX, MIN, MOD, EQ, NE, LT, LE, GT, GE;
        public boolean isComparison() { return ordinal() >= EQ.ordinal(); }
    }

    /** Binary elementwise with NumPy broadcasting. Comparisons give 1 or 0 in the inputs' dtype. */
    record Binary(BinaryFn fn) implements Op {
        public String name() { return fn.name().toLowerCase(); }
    }

    /** where(cond != 0, a, b), broadcasting all three. */
    record Where() implements Op { public String name() { return "where"; } }

    record Cast(DType to) implements Op {
        public String name() { return "cast"; }
        public String attrs() { return to.toString(); }
    }

    /** Identity whose gradient is zero: the boundary of no-grad regions and target branches. */
    record StopGradient() implements Op { public String name() { return "stop_gradient"; } }

    // ---- reductions and normalisations ----------------------------------------------------------------------
    enum ReduceFn { SUM, MEAN, MAX }

    record Reduce(ReduceFn fn, int[] axes, boolean keepDims) implements Op {
        public String name() { return "reduce_" + fn.name().toLowerCase(); }
        public String attrs() { return "axes=" + Arrays.toString(axes) + (keepDims ? ", keepdims" : ""); }
        @Override public boolean equals(Object o) {
            return o instanceof Reduce r && r.fn == fn && Arrays.equals(r.axes, axes) && r.keepDims == keepDims;
        }
        @Override public int hashCode() { return fn.ordinal() * 31 + Arrays.hashCode(axes) + (keepDims ? 1 : 0); }
    }

    record Softmax(int axis) implements Op {
        public String name() { return "softmax"; }
        public String attrs() { return "axis=" + axis; }
    }
    record LogSoftmax(int axis) implements Op {
        public String name() { return "log_softmax"; }
        public String attrs() { return "axis=" + axis; }
    }
    /** Inputs x, weight, bias; normalises over the last axis. */
    record LayerNorm(double eps) implements Op {
        public String name() { return "layer_norm"; }
        public String attrs() { return "eps=" + Fmt.num(eps); }
    }
    /**
     * The input gradient of {@link LayerNorm} in one pass per row: inputs x, weight [C] and the output gradient g;
     * gx = rstd (g w - mean(g w) - xhat mean(g w xhat)) with xhat = (x - mean) rstd, statistics over the last axis.
     * Autodiff emits it; it has no gradient of its own. An optional fourth input of x's shape is added to gx (set by
     * the epilogues pass: a skip connection's gradient).
     */
    record LayerNormGrad(double eps) implements Op {
        public String name() { return "layer_norm_grad"; }
        public String attrs() { return "eps=" + Fmt.num(eps); }
    }
    /**
     * The gradients of {@link LayerNorm}'s weight and bias in one pass: inputs x [..., C] and the output gradient g of
     * the same shape; output [2, C], row 0 the sum over all leading positions of g xhat (xhat = (x - mean) rstd, as
     * layer_norm computes it), row 1 the sum of g. Autodiff emits it; it has no gradient of its own.
     */
    record LayerNormParamGrad(double eps) implements Op {
        public String name() { return "layer_norm_param_grad"; }
        public String attrs() { return "eps=" + Fmt.num(eps); }
    }
    /**
     * Inputs x, mean, var, weight, bias (the last four of shape [C]); normalises channel {@code axis} with the
     * given statistics. Training mode feeds batch statistics, evaluation feeds running statistics.
     */
    record BatchNorm(int axis, double eps) implements Op {
        public String name() { return "batch_norm"; }
        public String attrs() { return "axis=" + axis + ", eps=" + Fmt.num(eps); }
    }
    /** x / max(||x||_2, eps) along an axis (torch.nn.functional.normalize). */
    record L2Normalize(int axis, double eps) implements Op {
        public String name() { return "l2_normalize"; }
        public String attrs() { return "axis=" + axis + ", eps=" + Fmt.num(eps); }
    }
    /** Inputs logits [N, C] and integer labels [N]; per-example loss [N]. */
    record CrossEntropy() implements Op { public String name() { return "cross_entropy"; } }

    // ---- contractions ----------------------------------------------------------------------------------------
    /**
     * [..., M, K] @ [..., K, N] with broadcast batch dimensions. With {@code transA} the left operand is stored
     * [..., K, M] and used transposed, likewise {@code transB} ([..., N, K]): the fold-transposes pass sets these so
     * that a transpose feeding a GEMM is never copied. An optional third input, broadcast to the result, is added
     * to it (the GEMM's epilogue: a Linear's bias, set by the epilogues pass). An {@code activation} is applied to
     * the sum as the GEMM stores it (set by the activations pass, after autodiff: a matmul with one has no gradient
     * rule); one with {@link Activation#extraInputs} takes them last, after the addend if there is one.
     */
    record MatMul(boolean transA, boolean transB, Activation activation) implements Op {
        public MatMul {
            java.util.Objects.requireNonNull(activation, "activation");
        }
        public MatMul() { this(false, false); }
        public MatMul(boolean transA, boolean transB) { this(transA, transB, Activation.NONE); }
        public String name() { return "matmul"; }
        public String attrs() {
            String t = transA ? (transB ? "transA, transB" : "transA") : (transB ? "transB" : "");
            if (activation == Activation.NONE) return t;
            String a = activation.name().toLowerCase(java.util.Locale.ROOT);
            return t.isEmpty() ? a : t + ", " + a;
        }
    }

    /**
     * What a GEMM applies to each element of its result v (the product plus the addend, rounded) as it stores it:
     * nothing; the exact GELU; (DGELU) GELU's derivative at v: with a GELU product of the same operands beside it, the
     * derivative its backward needs (see the gelu-pairs pass); (DGELU_GATE) {@code v * dgelu(h)}, h a last input of the
     * result's shape: the gradient through a GELU; (GATE) {@code v * d}, d a last input of the result's shape: the same
     * with the derivative already computed; (RESIDUAL) {@code v + r}, r a last input of the result's shape: a residual connection after a
     * projection whose bias is the addend; (SCALED_RESIDUAL) {@code v * s + r}, inputs s then r, s of shape
     * [d0, 1, ..., 1] (d0 the result's first dimension): a residual connection through stochastic depth, s each
     * sample's keep-or-drop scale. Each operation rounds to float, as the unfused ops.
     */
    enum Activation {
        NONE, GELU, DGELU, DGELU_GATE, GATE, RESIDUAL, SCALED_RESIDUAL;

        /** Inputs the activation takes after the operands and the addend: the gate, the residual, scale and residual. */
        public int extraInputs() {
            return switch (this) {
                case NONE, GELU, DGELU -> 0;
                case DGELU_GATE, GATE, RESIDUAL -> 1;
                case SCALED_RESIDUAL -> 2;
            };
        }
    }

    /** Inputs x [N, C, H, W] and weight [O, C, KH, KW]; no bias (added by the caller). */
    record Conv2d(int strideH, int strideW, int padH, int padW) implements Op {
        public String name() { return "conv2d"; }
        public String attrs() { return "stride=[" + strideH + ", " + strideW + "], padding=[" + padH + ", " + padW + "]"; }
    }

    /** The adjoint of conv2d in its input: inputs gy [N, O, OH, OW] and weight [O, C, KH, KW]; the node's shape is x's. */
    record Conv2dInputGrad(int strideH, int strideW, int padH, int padW) implements Op {
        public String name() { return "conv2d_input_grad"; }
        public String attrs() { return "stride=[" + strideH + ", " + strideW + "], padding=[" + padH + ", " + padW + "]"; }
    }

    /** The adjoint of conv2d in its weight: inputs x [N, C, H, W] and gy [N, O, OH, OW]; the node's shape is the weight's. */
    record Conv2dWeightGrad(int strideH, int strideW, int padH, int padW) implements Op {
        public String name() { return "conv2d_weight_grad"; }
        public String attrs() { return "stride=[" + strideH + ", " + strideW + "], padding=[" + padH + ", " + padW + "]"; }
    }

    // ---- data movement ---------------------------------------------------------------------------------------
    record Reshape() implements Op { public String name() { return "reshape"; } }

    record Permute(int[] perm) implements Op {
        public String name() { return "permute"; }
        public String attrs() { return Arrays.toString(perm); }
        @Override public boolean equals(Object o) { return o instanceof Permute p && Arrays.equals(p.perm, perm); }
        @Override public int hashCode() { return Arrays.hashCode(perm); }
    }

    /** Broadcast to the node's shape (size-1 axes stretched, new leading axes added). */
    record Expand() implements Op { public String name() { return "expand"; } }

    record Slice(int axis, long start, long end, long step) implements Op {
        public String name() { return "slice"; }
        public String attrs() { return "axis=" + axis + ", " + start + ":" + (end == Long.MAX_VALUE ? "" : end) + (step != 1 ? ":" + step : ""); }
    }

    record Concat(int axis) implements Op {
        public String name() { return "concat"; }
        public String attrs() { return "axis=" + axis; }
    }

    /** Cyclic shift as torch.roll. */
    record Roll(int[] shifts, int[] axes) implements Op {
        public String name() { return "roll"; }
        public String attrs() { return "shifts=" + Arrays.toString(shifts) + ", axes=" + Arrays.toString(axes); }
        @Override public boolean equals(Object o) {
            return o instanceof Roll r && Arrays.equals(r.shifts, shifts) && Arrays.equals(r.axes, axes);
        }
        @Override public int hashCode() { return Arrays.hashCode(shifts) * 31 + Arrays.hashCode(axes); }
    }

    /** Constant padding: before[i] and after[i] elements on axis i. */
    record Pad(long[] before, long[] after, double value) implements Op {
        public String name() { return "pad"; }
        public String attrs() { return "before=" + Arrays.toString(before) + ", after=" + Arrays.toString(after) + ", value=" + Fmt.num(value); }
        @Override public boolean equals(Object o) {
            return o instanceof Pad p && Arrays.equals(p.before, before) && Arrays.equals(p.after, after) && p.value == value;
        }
        @Override public int hashCode() { return Arrays.hashCode(before) * 31 + Arrays.hashCode(after); }
    }

    /** Rows of a table by an integer index: out[i..., j...] = table[index[i...], j...]. */
    record Gather() implements Op { public String name() { return "gather"; } }

    // ---- fused attention (the front end's attention pass makes these; see compiler.fuse.AttentionFusion) ---------
    /**
     * Multi-head (window) attention without the attention tensor. Inputs: qkv [Bw, n, 3 * dim] (per token q, k, v of
     * dim = heads * hd channels each, as a qkv Linear writes them), then bias [heads, n, n] if {@code hasBias}, then
     * mask [nW, n, n] if {@code hasMask} (window w adds mask[w % nW]; nW divides Bw). Output [Bw, n, dim], heads
     * merged: out[w, i, h * hd + d] = sum_j softmax_j(scale q_i . k_j + bias[h, i, j] + mask[w % nW, i, j]) v[j, d].
     * With {@code windows} (not null) qkv is an image [B, H, W, 3 * dim] and the output [B, H, W, dim]: window w's
     * token i is the image row {@link Windows#row} (Swin's cyclic shift, window partition and merge folded in).
     */
    record Attention(int heads, double scale, boolean hasBias, boolean hasMask, Windows windows) implements Op {
        public Attention(int heads, double scale, boolean hasBias, boolean hasMask) { this(heads, scale, hasBias, hasMask, null); }
        public String name() { return "attention"; }
        public String attrs() { return attentionAttrs(heads, scale, hasBias, hasMask, windows); }
    }

    /** The gradient of {@link Attention} in qkv: inputs as the attention's, then the output gradient (the output's shape); shape of qkv. */
    record AttentionGrad(int heads, double scale, boolean hasBias, boolean hasMask, Windows windows) implements Op {
        public AttentionGrad(int heads, double scale, boolean hasBias, boolean hasMask) { this(heads, scale, hasBias, hasMask, null); }
        public String name() { return "attention_grad"; }
        public String attrs() { return attentionAttrs(heads, scale, hasBias, hasMask, windows); }
    }

    /** The gradient of {@link Attention} in its bias: inputs qkv, bias, mask (if {@code hasMask}), output gradient; shape [heads, n, n]. */
    record AttentionBiasGrad(int heads, double scale, boolean hasMask, Windows windows) implements Op {
        public AttentionBiasGrad(int heads, double scale, boolean hasMask) { this(heads, scale, hasMask, null); }
        public String name() { return "attention_bias_grad"; }
        public String attrs() { return attentionAttrs(heads, scale, false, hasMask, windows); }
    }

    private static String attentionAttrs(int heads, double scale, boolean hasBias, boolean hasMask, Windows windows) {
        return "heads=" + heads + ", scale=" + Fmt.num(scale) + (hasBias ? ", bias" : "") + (hasMask ? ", mask" : "")
                + (windows == null ? "" : ", " + windows);
    }

    /**
     * Where the windows of a fused window attention lie in an image of {@code height x width} tokens: squares of
     * {@code size x size}, numbered row-major over the grid and then over the batch, after a cyclic shift of the image
     * by {@code -shiftH} rows and {@code -shiftW} columns (Swin's roll before the partition; the merge writes back to
     * the same rows, which is the reverse roll). Token i of a window is row-major within it.
     */
    record Windows(int height, int width, int size, int shiftH, int shiftW) {
        public Windows {
            if (size <= 0 || height % size != 0 || width % size != 0)
                throw new IllegalArgumentException("windows of " + size + " do not tile " + height + " x " + width);
            shiftH = Math.floorMod(shiftH, height);
            shiftW = Math.floorMod(shiftW, width);
        }

        /** Windows per image. */
        public int perImage() { return (height / size) * (width / size); }

        /** Tokens per window (n). */
        public int tokens() { return size * size; }

        /** The row of [B * height * width] that holds token i of window w (w counts windows over the whole batch). */
        public long row(long w, int i) {
            long image = w / perImage();
            int k = (int) (w % perImage()), across = width / size;
            int r = Math.floorMod((k / across) * size + i / size + shiftH, height);
            int c = Math.floorMod((k % across) * size + i % size + shiftW, width);
            return (image * height + r) * width + c;
        }

        @Override public String toString() {
            return "windows=" + size + " of " + height + "x" + width + (shiftH != 0 || shiftW != 0 ? ", shift=[" + shiftH + ", " + shiftW + "]" : "");
        }
    }

    // ---- fused elementwise kernels (the backend's elementwise-fusion pass makes these) ------------------------
    /**
     * A chain of elementwise ops computed as one kernel (see {@link mobyc.compiler.kernel.FusedKernel}): the node's
     * inputs are the kernel's inputs in order; its dtype and shape are the kernel's.
     */
    record Fused(mobyc.compiler.kernel.FusedKernel kernel) implements Op {
        public String name() { return "fused"; }
        public String attrs() { return kernel.summary(); }
    }

    /**
     * Several fused kernels with one body run as one (the backend's multi-tensor pass makes these; see
     * {@link mobyc.compiler.fuse.MultiTensorFusion}). Member j is {@code kernel} at the concrete shape
     * {@code shapes[j]} ({@link #member}): inputs the kernel reads at its own shape take member j's shape, the others
     * (scalars) keep theirs. The node's inputs are member 0's k inputs, then member 1's, ... (k = the kernel's input
     * count); its output is 1-D of the kernel's dtype, every member's result end to end in member order.
     */
    record MultiTensor(mobyc.compiler.kernel.FusedKernel kernel, java.util.List<Shape> shapes) implements Op {
        public MultiTensor {
            shapes = java.util.List.copyOf(shapes);
            for (Shape s : shapes) if (!s.isConcrete()) throw new IllegalArgumentException("multi_tensor members have concrete shapes, not " + s);
        }
        public String name() { return "multi_tensor"; }
        public String attrs() { return "n=" + shapes.size() + ", " + kernel.summary(); }

        /** Elements of member j. */
        public long numel(int j) { return shapes.get(j).numel().constant(); }

        /** Elements of all members. */
        public long totalNumel() {
            long n = 0;
            for (int j = 0; j < shapes.size(); j++) n += numel(j);
            return n;
        }

        /** Member j's kernel: the body at shape {@code shapes[j]}. */
        public mobyc.compiler.kernel.FusedKernel member(int j) {
            Shape s = shapes.get(j);
            java.util.List<mobyc.compiler.kernel.KernelInput> ins = new java.util.ArrayList<>();
            for (mobyc.compiler.kernel.KernelInput in : kernel.inputs())
                ins.add(mobyc.compiler.kernel.KernelInput.of(in.dtype(), in.shape().equals(kernel.shape()) ? s : in.shape(), s));
            return new mobyc.compiler.kernel.FusedKernel(s, ins, kernel.body());
        }
    }
}
