package mobyc.compiler.plan;

import java.util.List;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Program;

/**
 * Kernels a backend computes together with the kernel just before them, writing both outputs at that kernel: a
 * dgelu matmul right after a gelu matmul of the same operands (the gelu-pairs pass), whose one GEMM stores GELU and
 * its derivative from each block of the product. The memory plan makes such an output live from its sibling's
 * kernel, so that nothing shares its bytes while the sibling writes it.
 */
public final class Siblings {
    private Siblings() {}

    /** For each kernel index, whether its output is written by the kernel before it. */
    public static boolean[] withPrevious(Program p) {
        List<Program.Kernel> ks = p.kernels();
        boolean[] with = new boolean[ks.size()];
        for (int k = 1; k < ks.size(); k++) with[k] = pair(ks.get(k - 1), ks.get(k));
        return with;
    }

    /** Whether {@code second} is the derivative of the GELU product {@code first}: the same operands, the same layout. */
    public static boolean pair(Program.Kernel first, Program.Kernel second) {
        return first.op() instanceof Op.MatMul a && a.activation() == Op.Activation.GELU
                && second.op() instanceof Op.MatMul b && b.activation() == Op.Activation.DGELU
                && a.transA() == b.transA() && a.transB() == b.transB() && first.inputs().equals(second.inputs());
    }
}
