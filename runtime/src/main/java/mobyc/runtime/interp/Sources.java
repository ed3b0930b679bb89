package mobyc.runtime.interp;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Philox;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/** Ops that make values from nothing: scalar constants, arange and counter-based random numbers. */
final class Sources {
    private Sources() {}

    static void constant(Op.Constant op, Tensor out) {
        if (out.dtype() == DType.F32) out.setFloat(0, (float) op.value());
        else out.setInt(0, (int) op.value());
    }

    static void arange(Tensor out) {
        for (long i = 0, n = out.numel(); i < n; i++) {
            if (out.dtype() == DType.F32) out.setFloat(i, i);
            else out.setInt(i, (int) i);
        }
    }

    /** Element i is Philox.uniform(seed, step, stream, i). */
    static void random(Op.Random op, RunContext ctx, Tensor out) {
        for (long i = 0, n = out.numel(); i < n; i++) out.setFloat(i, Philox.uniform(ctx.seed(), ctx.step(), op.stream(), i));
    }
}
