package mobyc.compiler.autodiff;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import mobyc.compiler.ir.Op;

/** The table of vector-Jacobian rules, one per differentiable op (tinygrad's pm_gradient, in Java). */
final class VjpRules {
    private VjpRules() {}

    private static final Map<Class<? extends Op>, Vjp> RULES = new HashMap<>();

    static {
        RULES.put(Op.Unary.class, ElementwiseRules::unary);
        RULES.put(Op.Binary.class, ElementwiseRules::binary);
        RULES.put(Op.Where.class, ElementwiseRules::where);
        RULES.put(Op.Cast.class, ElementwiseRules::cast);
        RULES.put(Op.StopGradient.class, (b, y, g) -> Arrays.asList((mobyc.compiler.ir.Node) null));
        RULES.put(Op.Reduce.class, ReductionRules::reduce);
        RULES.put(Op.Softmax.class, ReductionRules::softmax);
        RULES.put(Op.LogSoftmax.class, ReductionRules::logSoftmax);
        RULES.put(Op.LayerNorm.class, ReductionRules::layerNorm);
        RULES.put(Op.BatchNorm.class, ReductionRules::batchNorm);
        RULES.put(Op.L2Normalize.class, ReductionRules::l2Normalize);
        RULES.put(Op.CrossEntropy.class, ReductionRules::crossEntropy);
        RULES.put(Op.MatMul.class, ContractionRules::matmul);
        RULES.put(Op.Conv2d.class, ContractionRules::conv2d);
        RULES.put(Op.Reshape.class, MovementRules::reshape);
        RULES.put(Op.Permute.class, MovementRules::permute);
        RULES.put(Op.Expand.class, MovementRules::expand);
        RULES.put(Op.Slice.class, MovementRules::slice);
        RULES.put(Op.Concat.class, MovementRules::concat);
        RULES.put(Op.Roll.class, MovementRules::roll);
        RULES.put(Op.Pad.class, MovementRules::pad);
        RULES.put(Op.Gather.class, MovementRules::gather);
        RULES.put(Op.Attention.class, AttentionRules::attention);
    }

    /** The rule for an op, or null when no gradient flows through it (sources, random numbers, gradients of convs). */
    static Vjp of(Op op) { return RULES.get(op.getClass()); }
}
