package mobyc.models.weights;

import java.util.List;

/**
 * torchvision's VisionTransformer (torchvision/models/vision_transformer.py) against mobyc's (= timm's) names.
 * torchvision's attention is nn.MultiheadAttention, whose packed in_proj is timm's qkv: the same [3 * dim, dim]
 * matrix, q, k and v rows in that order, heads in contiguous row blocks; so no value changes.
 * <pre>
 *   conv_proj.*                                          patch_embed.proj.*
 *   class_token                                          cls_token
 *   encoder.pos_embedding                                pos_embed
 *   encoder.layers.encoder_layer_{i}.ln_1.*              blocks.{i}.norm1.*
 *   encoder.layers.encoder_layer_{i}.self_attention.in_proj_weight   blocks.{i}.attn.qkv.weight
 *   encoder.layers.encoder_layer_{i}.self_attention.in_proj_bias     blocks.{i}.attn.qkv.bias
 *   encoder.layers.encoder_layer_{i}.self_attention.out_proj.*       blocks.{i}.attn.proj.*
 *   encoder.layers.encoder_layer_{i}.ln_2.*              blocks.{i}.norm2.*
 *   encoder.layers.encoder_layer_{i}.mlp.0.* (linear_1)  blocks.{i}.mlp.fc1.*
 *   encoder.layers.encoder_layer_{i}.mlp.3.* (linear_2)  blocks.{i}.mlp.fc2.*
 *   encoder.ln.*                                         norm.*
 *   heads.head.*                                         head.*
 * </pre>
 * Exports use mlp.0 / mlp.3 (torchvision 0.13 and later; its MLPBlock still reads the older linear_1 / linear_2).
 */
final class TorchvisionVitNames {
    private TorchvisionVitNames() {}

    private static final List<RenameRule> BLOCK_IN = List.of(
            RenameRule.of("ln_1\\.(.+)", "norm1.$1"),
            RenameRule.of("ln_2\\.(.+)", "norm2.$1"),
            RenameRule.of("self_attention\\.in_proj_(weight|bias)", "attn.qkv.$1"),
            RenameRule.of("self_attention\\.out_proj\\.(.+)", "attn.proj.$1"),
            RenameRule.of("mlp\\.(?:0|linear_1)\\.(.+)", "mlp.fc1.$1"),
            RenameRule.of("mlp\\.(?:3|linear_2)\\.(.+)", "mlp.fc2.$1"));

    private static final List<RenameRule> BLOCK_OUT = List.of(
            RenameRule.of("norm1\\.(.+)", "ln_1.$1"),
            RenameRule.of("norm2\\.(.+)", "ln_2.$1"),
            RenameRule.of("attn\\.qkv\\.(weight|bias)", "self_attention.in_proj_$1"),
            RenameRule.of("attn\\.proj\\.(.+)", "self_attention.out_proj.$1"),
            RenameRule.of("mlp\\.fc1\\.(.+)", "mlp.0.$1"),
            RenameRule.of("mlp\\.fc2\\.(.+)", "mlp.3.$1"));

    static final List<RenameRule> IN = List.of(
            RenameRule.of("conv_proj\\.(.+)", "patch_embed.proj.$1"),
            RenameRule.of("class_token", "cls_token"),
            RenameRule.of("encoder\\.pos_embedding", "pos_embed"),
            RenameRule.of("encoder\\.layers\\.encoder_layer_(\\d+)\\.(.+)", m -> {
                String rest = RenameRule.rename(BLOCK_IN, m.group(2));
                return rest == null ? null : "blocks." + m.group(1) + "." + rest;
            }),
            RenameRule.of("encoder\\.ln\\.(.+)", "norm.$1"),
            RenameRule.of("heads\\.head\\.(.+)", "head.$1"));

    static final List<RenameRule> OUT = List.of(
            RenameRule.of("patch_embed\\.proj\\.(.+)", "conv_proj.$1"),
            RenameRule.of("cls_token", "class_token"),
            RenameRule.of("pos_embed", "encoder.pos_embedding"),
            RenameRule.of("blocks\\.(\\d+)\\.(.+)", m -> {
                String rest = RenameRule.rename(BLOCK_OUT, m.group(2));
                return rest == null ? null : "encoder.layers.encoder_layer_" + m.group(1) + "." + rest;
            }),
            RenameRule.of("norm\\.(.+)", "encoder.ln.$1"),
            RenameRule.of("head\\.(.+)", "heads.head.$1"));

    static final Names NAMES = Names.rules(IN, OUT);
}
