package mobyc.runtime.interp;

import java.util.Arrays;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * The reference kernel of {@link Op.MultiTensor}: evaluates each member's fused kernel with {@link FusedKernels}
 * into its stretch of the packed 1-D output, so a grouped graph gives interp the same bits as the separate kernels.
 */
public final class MultiTensorKernels {
    private MultiTensorKernels() {}

    public static void run(Op.MultiTensor op, Tensor[] in, Tensor out) {
        int k = op.kernel().inputs().size();
        long off = 0;
        for (int j = 0; j < op.shapes().size(); j++) {
            long[] shape = op.shapes().get(j).concrete();
            long n = Tensor.checkedNumel(shape);
            Tensor piece = Tensor.over(out.segment().asSlice(off * Tensor.ELEMENT_BYTES, n * Tensor.ELEMENT_BYTES), out.dtype(), shape);
            FusedKernels.run(op.member(j), Arrays.copyOfRange(in, j * k, (j + 1) * k), piece);
            off += n;
        }
    }
}
