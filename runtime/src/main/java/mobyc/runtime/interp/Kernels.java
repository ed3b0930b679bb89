package mobyc.runtime.interp;

import mobyc.compiler.ir.Op;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/**
 * Runs one op of the closed op set on concrete tensors, handing it to the file for its family. Public so that
 * faster backends can fall back to these scalar kernels for an op they have no fast path for.
 */
public final class Kernels {
    private Kernels() {}

    /** Computes {@code op} of {@code in} into {@code out}, writing every element of {@code out}. */
    public static void run(Op op, Tensor[] in, Tensor out, RunContext ctx) {
        switch (op) {
            case Op.Input i -> throw notAKernel(op);
            case Op.Param p -> throw notAKernel(op);
            case Op.State s -> throw notAKernel(op);
            case Op.Constant c -> Sources.constant(c, out);
            case Op.Arange a -> Sources.arange(out);
            case Op.Random r -> Sources.random(r, ctx, out);
            case Op.Unary u -> Elementwise.unary(u.fn(), in[0], out);
            case Op.Binary b -> Elementwise.binary(b.fn(), in[0], in[1], out);
            case Op.Where w -> Elementwise.where(in[0], in[1], in[2], out);
            case Op.Cast c -> Elementwise.cast(in[0], out);
            case Op.StopGradient s -> DataMovement.copy(in[0], out);
            case Op.Reduce r -> Reductions.reduce(r, in[0], out);
            case Op.Softmax s -> Normalizations.softmax(s.axis(), in[0], out, false);
            case Op.LogSoftmax s -> Normalizations.softmax(s.axis(), in[0], out, true);
            case Op.LayerNorm l -> Normalizations.layerNorm(l.eps(), in[0], in[1], in[2], out);
            case Op.LayerNormGrad l -> Normalizations.layerNormGrad(l.eps(), in[0], in[1], in[2], in.length > 3 ? in[3] : null, out);
            case Op.LayerNormParamGrad l -> Normalizations.layerNormParamGrad(l.eps(), in[0], in[1], out);
            case Op.BatchNorm b -> Normalizations.batchNorm(b, in[0], in[1], in[2], in[3], in[4], out);
            case Op.L2Normalize l -> Normalizations.l2Normalize(l, in[0], out);
            case Op.CrossEntropy c -> Normalizations.crossEntropy(in[0], in[1], out);
            case Op.MatMul m -> Contractions.matmul(m, in[0], in[1], Contractions.addend(m, in), Contractions.extras(m, in), out);
            case Op.Conv2d c -> Contractions.conv2d(c, in[0], in[1], out);
            case Op.Conv2dInputGrad c -> Contractions.conv2dInputGrad(c, in[0], in[1], out);
            case Op.Conv2dWeightGrad c -> Contractions.conv2dWeightGrad(c, in[0], in[1], out);
            case Op.Reshape r -> DataMovement.copy(in[0], out);
            case Op.Permute p -> DataMovement.permute(p, in[0], out);
            case Op.Expand e -> DataMovement.expand(in[0], out);
            case Op.Slice s -> DataMovement.slice(s, in[0], out);
            case Op.Concat c -> DataMovement.concat(c, in, out);
            case Op.Roll r -> DataMovement.roll(r, in[0], out);
            case Op.Pad p -> DataMovement.pad(p, in[0], out);
            case Op.Gather g -> DataMovement.gather(in[0], in[1], out);
            case Op.Fused f -> FusedKernels.run(f.kernel(), in, out);
            case Op.MultiTensor mt -> MultiTensorKernels.run(mt, in, out);
            case Op.Attention a -> AttentionKernels.forward(a, in, out);
            case Op.AttentionGrad a -> AttentionKernels.grad(a, in, out);
            case Op.AttentionBiasGrad a -> AttentionKernels.biasGrad(a, in, out);
        }
    }

    private static IllegalStateException notAKernel(Op op) {
        return new IllegalStateException(op.name() + " binds a buffer; it is not a kernel");
    }
}
