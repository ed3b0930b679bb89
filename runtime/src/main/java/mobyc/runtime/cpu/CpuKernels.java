package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Program;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/**
 * Runs one op of the closed op set with the cpu kernels, handing it to the file for its family. One instance per
 * executable: it holds the GEMM and the executable's scratch memory.
 */
final class CpuKernels {
    private final Gemm gemm;
    private final Workspace workspace = new Workspace();

    CpuKernels(Gemm gemm) { this.gemm = gemm; }

    /**
     * Whether the cpu kernels cover {@code op} on inputs of {@code dtypes}: everything but i32 reductions and
     * matmul (rare: integers are indices and counters) and the float-only unary functions on i32, which interp
     * refuses with its own error.
     */
    static boolean fast(Op op, List<DType> dtypes) {
        boolean integer = !dtypes.isEmpty() && dtypes.getFirst() == DType.I32;
        return switch (op) {
            case Op.Unary u -> !integer || CpuElementwise.hasInt(u.fn());
            case Op.Binary b -> true;
            case Op.Reduce r -> !integer;
            case Op.MatMul m -> !integer;
            case Op.Fused f -> CpuFused.available();
            case Op.MultiTensor mt -> CpuFused.available();
            default -> true;
        };
    }

    void run(Op op, Tensor[] in, Tensor out, RunContext ctx) {
        switch (op) {
            case Op.Input i -> throw notAKernel(op);
            case Op.Param p -> throw notAKernel(op);
            case Op.State s -> throw notAKernel(op);
            case Op.Constant c -> CpuSources.constant(c, out);
            case Op.Arange a -> CpuSources.arange(out);
            case Op.Random r -> CpuSources.random(r, ctx, out);
            case Op.Unary u -> CpuElementwise.unary(u.fn(), in[0], out);
            case Op.Binary b -> CpuElementwise.binary(b.fn(), in[0], in[1], out);
            case Op.Where w -> CpuElementwise.where(in[0], in[1], in[2], out);
            case Op.Cast c -> CpuElementwise.cast(in[0], out);
            case Op.StopGradient s -> CpuMovement.copy(in[0], out);
            case Op.Reduce r -> CpuReductions.reduce(r, in[0], out);
            case Op.Softmax s -> CpuNormalizations.softmax(s.axis(), in[0], out, false);
            case Op.LogSoftmax s -> CpuNormalizations.softmax(s.axis(), in[0], out, true);
            case Op.LayerNorm l -> CpuNormalizations.layerNorm(l.eps(), in[0], in[1], in[2], out);
            case Op.LayerNormGrad l -> CpuNormalizations.layerNormGrad(l.eps(), in[0], in[1], in[2], in.length > 3 ? in[3] : null, out);
            case Op.LayerNormParamGrad l -> CpuNormalizations.layerNormParamGrad(l.eps(), in[0], in[1], out);
            case Op.BatchNorm b -> CpuNormalizations.batchNorm(b, in[0], in[1], in[2], in[3], in[4], out);
            case Op.L2Normalize l -> CpuNormalizations.l2Normalize(l, in[0], out);
            case Op.CrossEntropy c -> CpuNormalizations.crossEntropy(in[0], in[1], out);
            case Op.MatMul m -> CpuContractions.matmul(gemm, m, in, out);
            case Op.Conv2d c -> CpuContractions.conv2d(gemm, workspace, c, in[0], in[1], out);
            case Op.Conv2dInputGrad c -> CpuContractions.conv2dInputGrad(gemm, workspace, c, in[0], in[1], out);
            case Op.Conv2dWeightGrad c -> CpuContractions.conv2dWeightGrad(gemm, workspace, c, in[0], in[1], out);
            case Op.Reshape r -> CpuMovement.copy(in[0], out);
            case Op.Permute p -> CpuMovement.permute(p, in[0], out);
            case Op.Expand e -> CpuMovement.expand(in[0], out);
            case Op.Slice s -> CpuMovement.slice(s, in[0], out);
            case Op.Concat c -> CpuMovement.concat(c, in, out);
            case Op.Roll r -> CpuMovement.roll(r, in[0], out);
            case Op.Pad p -> CpuMovement.pad(p, in[0], out);
            case Op.Gather g -> CpuMovement.gather(in[0], in[1], out);
            case Op.Fused f -> CpuFused.run(f.kernel(), in, out);
            case Op.MultiTensor mt -> CpuMultiTensor.run(mt, in, out);
            case Op.Attention a -> CpuAttention.forward(a, in, out);
            case Op.AttentionGrad a -> CpuAttention.grad(workspace, a, in, out, null);
            case Op.AttentionBiasGrad a -> CpuAttention.biasGrad(workspace, a, in, out);
        }
    }

    /** An attention_grad that also writes the gradient of the bias it reads into {@code biasGrad} ([heads, n, n]). */
    void attentionGrads(Op.AttentionGrad op, Tensor[] in, Tensor out, MemorySegment biasGrad) {
        CpuAttention.grad(workspace, op, in, out, biasGrad);
    }

    /**
     * Pairs each attention_bias_grad with an earlier attention_grad of the same operands and attributes (both on the
     * cpu kernels): {@code pair[k]} is the partner's index, or -1. The earlier one then computes both.
     */
    static int[] attentionPairs(List<Program.Kernel> kernels, boolean[] scalar) {
        int[] pair = new int[kernels.size()];
        Arrays.fill(pair, -1);
        for (int k = 0; k < kernels.size(); k++) {
            if (scalar[k] || !(kernels.get(k).op() instanceof Op.AttentionBiasGrad b)) continue;
            for (int j = 0; j < k; j++) {
                if (scalar[j] || pair[j] >= 0 || !(kernels.get(j).op() instanceof Op.AttentionGrad g)) continue;
                if (g.hasBias() && g.heads() == b.heads() && g.scale() == b.scale() && g.hasMask() == b.hasMask()
                        && java.util.Objects.equals(g.windows(), b.windows())
                        && kernels.get(j).inputs().equals(kernels.get(k).inputs())) {
                    pair[j] = k;
                    pair[k] = j;
                    break;
                }
            }
        }
        return pair;
    }

    /**
     * Pairs each float reduce_sum over every axis but the last (a bias's gradient) with an earlier transA matmul
     * without epilogue whose left operand is the same tensor, or a reshape of it to [rows, last] (the weight's
     * gradient; the bias-grad-order pass puts them in that order): {@code pair[k]} is the partner's index, or -1.
     * The matmul then adds up its left operand's columns as it packs them, carried to the reduce_sum.
     */
    static int[] biasGradPairs(Program program, boolean[] scalar) {
        List<Program.Kernel> kernels = program.kernels();
        int[] pair = new int[kernels.size()];
        Arrays.fill(pair, -1);
        Map<Integer, Integer> reshapeOf = new HashMap<>(); // a reshape's output buffer -> its input buffer
        for (Program.Kernel k : kernels) if (k.op() instanceof Op.Reshape) reshapeOf.put(k.output(), k.inputs().getFirst());
        for (int k = 0; k < kernels.size(); k++) {
            Program.Kernel r = kernels.get(k);
            if (scalar[k] || !(r.op() instanceof Op.Reduce red) || red.fn() != Op.ReduceFn.SUM || !sumsAllButLast(red, program.buffer(r.inputs().getFirst())))
                continue;
            int y = r.inputs().getFirst();
            for (int j = k - 1; j >= 0; j--) {
                Program.Kernel mm = kernels.get(j);
                if (scalar[j] || pair[j] >= 0 || !(mm.op() instanceof Op.MatMul op) || !op.transA() || op.transB()
                        || op.activation() != Op.Activation.NONE || mm.inputs().size() != 2) continue;
                int a = mm.inputs().getFirst();
                Program.Buffer ab = program.buffer(a), yb = program.buffer(y);
                if ((a == y || reshapeOf.getOrDefault(a, -1) == y) && ab.shape().rank() == 2 && program.buffer(mm.inputs().get(1)).shape().rank() == 2
                        && ab.shape().dim(1).equals(yb.shape().dim(yb.shape().rank() - 1))) {
                    pair[j] = k;
                    pair[k] = j;
                    break;
                }
            }
        }
        return pair;
    }

    /** Whether the reduction sums a float tensor of rank 2 or more over every axis but the last. */
    private static boolean sumsAllButLast(Op.Reduce r, Program.Buffer in) {
        int rank = in.shape().rank();
        if (in.dtype() != DType.F32 || rank < 2 || r.axes().length != rank - 1) return false;
        for (int i = 0; i < rank - 1; i++) if (r.axes()[i] != i) return false;
        return true;
    }

    /** A weight's gradient and its bias's gradient, the left operand's column sums, into {@code sums} ({@link #biasGradPairs}). */
    void matmulWithSums(Op.MatMul op, Tensor[] in, Tensor out, MemorySegment sums) { CpuContractions.matmulWithSums(gemm, op, in[0], in[1], out, sums); }

    /** A gelu matmul and its dgelu sibling ({@link mobyc.compiler.plan.Siblings}) from one GEMM: GELU into out, the derivative into {@code derivative}. */
    void geluPair(Op.MatMul op, Tensor[] in, Tensor out, Tensor derivative) { CpuContractions.matmul(gemm, op, in, out, derivative); }

    /** layer_norm_grad and layer_norm_param_grad of the same x and g in one pass ({@link CpuNormalizations#layerNormGrads}). */
    void layerNormGrads(Op.LayerNormGrad op, Tensor[] in, Tensor out, Tensor paramOut) {
        CpuNormalizations.layerNormGrads(op.eps(), in[0], in[1], in[2], in.length > 3 ? in[3] : null, out, paramOut);
    }

    /**
     * Pairs each layer_norm_grad with a later layer_norm_param_grad of the same x, g and eps (both on the cpu
     * kernels; the norm-grad-order pass puts them in that order): {@code pair[k]} is the partner's index, or -1. The
     * gradient then computes both in one pass over the rows, the parameter gradient carried to its partner.
     */
    static int[] layerNormPairs(List<Program.Kernel> kernels, boolean[] scalar) {
        int[] pair = new int[kernels.size()];
        Arrays.fill(pair, -1);
        for (int k = 0; k < kernels.size(); k++) {
            if (scalar[k] || !(kernels.get(k).op() instanceof Op.LayerNormParamGrad p)) continue;
            Program.Kernel params = kernels.get(k);
            for (int j = 0; j < k; j++) {
                Program.Kernel grad = kernels.get(j);
                if (!scalar[j] && pair[j] < 0 && grad.op() instanceof Op.LayerNormGrad g && g.eps() == p.eps()
                        && grad.inputs().get(0).equals(params.inputs().get(0)) && grad.inputs().get(2).equals(params.inputs().get(1))) {
                    pair[j] = k;
                    pair[k] = j;
                    break;
                }
            }
        }
        return pair;
    }

    private static IllegalStateException notAKernel(Op op) {
        return new IllegalStateException(op.name() + " binds a buffer; it is not a kernel");
    }
}
