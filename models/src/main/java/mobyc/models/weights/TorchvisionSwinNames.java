package mobyc.models.weights;

import java.util.List;

/**
 * torchvision's Swin Transformer (torchvision/models/swin_transformer.py, v1: swin_t/s/b) against mobyc's
 * (= the official release's) names. torchvision keeps everything in one Sequential {@code features}: [0] the patch
 * embedding (conv, permute, LayerNorm), then for each stage i the blocks at [2i+1] and, after every stage but
 * the last, the PatchMerging at [2i+2]; the official release holds that PatchMerging as stage i's downsample.
 * <pre>
 *   features.0.0.{weight,bias}                 patch_embed.proj.{weight,bias}
 *   features.0.2.{weight,bias}                 patch_embed.norm.{weight,bias}
 *   features.{2i+1}.{j}.norm1|attn.*|norm2.*   layers.{i}.blocks.{j}.(same)
 *   features.{2i+1}.{j}.mlp.0.*                layers.{i}.blocks.{j}.mlp.fc1.*
 *   features.{2i+1}.{j}.mlp.3.*                layers.{i}.blocks.{j}.mlp.fc2.*
 *   features.{2i+2}.reduction.weight           layers.{i}.downsample.reduction.weight
 *   features.{2i+2}.norm.{weight,bias}         layers.{i}.downsample.norm.{weight,bias}
 *   norm.*, head.*                             norm.*, head.*
 *   features.{2i+1}.{j}.attn.relative_position_index   (dropped after a check; recomputed on export, flat [n*n])
 * </pre>
 * Both concatenate the 2x2 neighbourhood in the same order (x0 = (0,0), x1 = (1,0), x2 = (0,1), x3 = (1,1)), so
 * no value changes.
 */
final class TorchvisionSwinNames {
    private TorchvisionSwinNames() {}

    private static final List<RenameRule> BLOCK_IN = List.of(
            RenameRule.of("mlp\\.0\\.(.+)", "mlp.fc1.$1"),
            RenameRule.of("mlp\\.3\\.(.+)", "mlp.fc2.$1"),
            RenameRule.of("(norm1|norm2|attn)\\.(.+)", "$0"));

    private static final List<RenameRule> BLOCK_OUT = List.of(
            RenameRule.of("mlp\\.fc1\\.(.+)", "mlp.0.$1"),
            RenameRule.of("mlp\\.fc2\\.(.+)", "mlp.3.$1"),
            RenameRule.of("(norm1|norm2|attn)\\.(.+)", "$0"));

    static final List<RenameRule> IN = List.of(
            RenameRule.of("features\\.0\\.0\\.(.+)", "patch_embed.proj.$1"),
            RenameRule.of("features\\.0\\.2\\.(.+)", "patch_embed.norm.$1"),
            RenameRule.of("features\\.(\\d+)\\.(\\d+)\\.(.+)", m -> {
                int f = RenameRule.group(m, 1);
                String rest = RenameRule.rename(BLOCK_IN, m.group(3));
                return f % 2 == 1 && rest != null ? "layers." + (f - 1) / 2 + ".blocks." + m.group(2) + "." + rest : null;
            }),
            RenameRule.of("features\\.(\\d+)\\.((?:reduction|norm)\\..+)", m -> {
                int f = RenameRule.group(m, 1);
                return f % 2 == 0 && f >= 2 ? "layers." + (f / 2 - 1) + ".downsample." + m.group(2) : null;
            }),
            RenameRule.of("(norm|head)\\.(.+)", "$0"));

    static final List<RenameRule> OUT = List.of(
            RenameRule.of("patch_embed\\.proj\\.(.+)", "features.0.0.$1"),
            RenameRule.of("patch_embed\\.norm\\.(.+)", "features.0.2.$1"),
            RenameRule.of("layers\\.(\\d+)\\.blocks\\.(\\d+)\\.(.+)", m -> {
                String rest = RenameRule.rename(BLOCK_OUT, m.group(3));
                return rest == null ? null : "features." + (2 * RenameRule.group(m, 1) + 1) + "." + m.group(2) + "." + rest;
            }),
            RenameRule.of("layers\\.(\\d+)\\.downsample\\.(.+)", m -> "features." + (2 * RenameRule.group(m, 1) + 2) + "." + m.group(2)),
            RenameRule.of("(norm|head)\\.(.+)", "$0"));

    static final Names NAMES = new Names() {
        @Override public RenameRule.Result toMobyc(String key) { return RenameRule.apply(IN, key); }
        @Override public RenameRule.Result fromMobyc(String key) { return RenameRule.apply(OUT, key); }
        @Override public boolean exportsFlatRelativePositionIndex() { return true; }
    };
}
