package mobyc.compiler.ir;

/**
 * Analytic FLOP counts, the convention of fvcore/ptflops extended to every op: a multiply-add is 2 FLOPs,
 * elementwise ops 1 per output element, normalisations a few per element. Data movement is free.
 */
public final class Flops {
    private Flops() {}

    public static Dim of(Node n) {
        Dim out = n.shape().numel();
        return switch (n.op()) {
            case Op.MatMul m -> out.times(n.input(0).shape().dim(n.input(0).shape().rank() - (m.transA() ? 2 : 1))).times(Dim.of(2));
            case Op.Conv2d c -> conv(n.shape(), n.input(1).shape());
            case Op.Conv2dInputGrad c -> conv(n.input(0).shape(), n.input(1).shape());
            case Op.Conv2dWeightGrad c -> conv(n.input(1).shape(), n.shape());
            case Op.Unary u -> out;
            case Op.Binary b -> out;
            case Op.Where w -> out;
            case Op.Reduce r -> n.input(0).shape().numel();
            case Op.Softmax s -> out.times(Dim.of(3));
            case Op.LogSoftmax s -> out.times(Dim.of(3));
            case Op.LayerNorm l -> out.times(Dim.of(5));
            case Op.LayerNormGrad l -> out.times(Dim.of(11));
            case Op.LayerNormParamGrad l -> n.input(0).shape().numel().times(Dim.of(8));
            case Op.BatchNorm b -> out.times(Dim.of(4));
            case Op.L2Normalize l -> out.times(Dim.of(3));
            case Op.CrossEntropy c -> n.input(0).shape().numel().times(Dim.of(3));
            // as the unfused graph counts them: 2 matmuls and a softmax forward, 4 matmuls backward, a sum for the bias
            case Op.Attention a -> attentionScores(n.input(0).shape(), a.windows()).times(dim(n.input(0).shape()))
                    .times(Dim.of(4)).plus(attentionScores(n.input(0).shape(), a.windows()).times(Dim.of(a.heads() * 3L)));
            case Op.AttentionGrad a -> attentionScores(n.input(0).shape(), a.windows()).times(dim(n.input(0).shape())).times(Dim.of(8));
            case Op.AttentionBiasGrad a -> attentionScores(n.input(0).shape(), a.windows()).times(Dim.of(a.heads()));
            default -> Dim.of(0);
        };
    }

    /** Tokens times n of qkv [Bw, n, 3 * dim] (or the image [B, H, W, 3 * dim] of {@code windows}): the scores of one head. */
    private static Dim attentionScores(Shape qkv, Op.Windows windows) {
        Dim tokens = qkv.dim(0);
        for (int i = 1; i < qkv.rank() - 1; i++) tokens = tokens.times(qkv.dim(i));
        return tokens.times(windows == null ? qkv.dim(1) : Dim.of(windows.tokens()));
    }

    /** dim of qkv [..., 3 * dim]. */
    private static Dim dim(Shape qkv) { return qkv.dim(qkv.rank() - 1).dividedBy(Dim.of(3)); }

    /** 2 FLOPs per multiply-add: every output element of a conv takes C * KH * KW of them. */
    private static Dim conv(Shape out, Shape weight) {
        return out.numel().times(weight.dim(1)).times(weight.dim(2)).times(weight.dim(3)).times(Dim.of(2));
    }
}
