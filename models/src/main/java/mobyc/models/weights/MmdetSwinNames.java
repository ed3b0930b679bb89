package mobyc.models.weights;

import java.util.List;
import mobyc.runtime.Tensor;

/**
 * mmdetection's Swin Transformer backbone (mmdet/models/backbones/swin.py, mmdet 2.x and 3.x) against mobyc's
 * (= the official release's) names, following mmdetection's own converter of official checkpoints
 * (swin_converter in mmdet/models/utils/ckpt_convert.py) with one difference noted below.
 * <pre>
 *   backbone.patch_embed.projection.*                     patch_embed.proj.*
 *   backbone.patch_embed.norm.*                           patch_embed.norm.*
 *   backbone.stages.{i}.blocks.{j}.norm1.*, norm2.*       layers.{i}.blocks.{j}.norm1.*, norm2.*
 *   backbone.stages.{i}.blocks.{j}.attn.w_msa.*           layers.{i}.blocks.{j}.attn.*
 *   backbone.stages.{i}.blocks.{j}.ffn.layers.0.0.*       layers.{i}.blocks.{j}.mlp.fc1.*
 *   backbone.stages.{i}.blocks.{j}.ffn.layers.1.*         layers.{i}.blocks.{j}.mlp.fc2.*
 *   backbone.stages.{i}.downsample.reduction.weight       layers.{i}.downsample.reduction.weight (columns reordered)
 *   backbone.stages.{i}.downsample.norm.*                 layers.{i}.downsample.norm.* (reordered)
 *   backbone.norm{S-1}.*                                  norm.*   (S stages)
 *   backbone.norm{i}.*, i &lt; S-1                          dropped on import (outputs of inner stages)
 *   (none)                                                head.* (dropped on export: the backbone has no classifier)
 * </pre>
 * mmdet's PatchMerging gathers each 2x2 neighbourhood with nn.Unfold, which orders the 4C features channel-major
 * (index {@code 4c + k}, k over (0,0), (0,1), (1,0), (1,1)), where the official release concatenates the four
 * positions x0 = (0,0), x1 = (1,0), x2 = (0,1), x3 = (1,1) (index {@code bC + c}); the downsample's reduction
 * columns and norm entries are permuted accordingly, as swin_converter does. Unlike swin_converter, which
 * leaves the final LayerNorm under {@code backbone.norm} (a key mmdet ignores), the export puts it in
 * {@code backbone.norm{S-1}}, the LayerNorm mmdet applies to the same last-stage features. The
 * relative_position_index buffers are not exported (mmdet recomputes them; its double_step_seq index equals the
 * official one, and imports check it).
 */
final class MmdetSwinNames implements Names {
    private static final int[] UNFOLD_TO_CONCAT = {0, 2, 1, 3}; // unfold position k holds official block UNFOLD_TO_CONCAT[k]

    private static final List<RenameRule> BLOCK_IN = List.of(
            RenameRule.of("attn\\.w_msa\\.(.+)", "attn.$1"),
            RenameRule.of("ffn\\.layers\\.0\\.0\\.(.+)", "mlp.fc1.$1"),
            RenameRule.of("ffn\\.layers\\.1\\.(.+)", "mlp.fc2.$1"),
            RenameRule.of("(norm1|norm2)\\.(.+)", "$0"));

    private static final List<RenameRule> BLOCK_OUT = List.of(
            RenameRule.of("attn\\.(.+)", "attn.w_msa.$1"),
            RenameRule.of("mlp\\.fc1\\.(.+)", "ffn.layers.0.0.$1"),
            RenameRule.of("mlp\\.fc2\\.(.+)", "ffn.layers.1.$1"),
            RenameRule.of("(norm1|norm2)\\.(.+)", "$0"));

    private final List<RenameRule> in, out;

    /** The names of a backbone of {@code stages} stages (the index of the final norm depends on it). */
    MmdetSwinNames(int stages) {
        int last = stages - 1;
        in = List.of(
                RenameRule.of("patch_embed\\.projection\\.(.+)", "patch_embed.proj.$1"),
                RenameRule.of("patch_embed\\.norm\\.(.+)", "$0"),
                RenameRule.of("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.(.+)", m -> {
                    String rest = RenameRule.rename(BLOCK_IN, m.group(3));
                    return rest == null ? null : "layers." + m.group(1) + ".blocks." + m.group(2) + "." + rest;
                }),
                RenameRule.of("stages\\.(\\d+)\\.downsample\\.(.+)", "layers.$1.downsample.$2"),
                RenameRule.of("norm" + last + "\\.(.+)", "norm.$1"),
                RenameRule.drop("norm\\d+\\..+", "mmdet's LayerNorms of inner stage outputs (mobyc's Swin normalises the last stage only)"),
                RenameRule.of("norm\\.(.+)", "$0"));
        out = List.of(
                RenameRule.of("patch_embed\\.proj\\.(.+)", "backbone.patch_embed.projection.$1"),
                RenameRule.of("patch_embed\\.norm\\.(.+)", "backbone.$0"),
                RenameRule.of("layers\\.(\\d+)\\.blocks\\.(\\d+)\\.(.+)", m -> {
                    String rest = RenameRule.rename(BLOCK_OUT, m.group(3));
                    return rest == null ? null : "backbone.stages." + m.group(1) + ".blocks." + m.group(2) + "." + rest;
                }),
                RenameRule.of("layers\\.(\\d+)\\.downsample\\.(.+)", "backbone.stages.$1.downsample.$2"),
                RenameRule.of("norm\\.(.+)", "backbone.norm" + last + ".$1"),
                RenameRule.drop("head\\..+", "the classifier (mmdet's Swin backbone has none)"));
    }

    @Override public RenameRule.Result toMobyc(String key) { return RenameRule.apply(in, key); }

    @Override public RenameRule.Result fromMobyc(String key) { return RenameRule.apply(out, key); }

    @Override public Tensor valueToMobyc(String mobycKey, Tensor t) { return mergingKey(mobycKey) ? reorder(t, false) : t; }

    @Override public Tensor valueFromMobyc(String mobycKey, Tensor t) { return mergingKey(mobycKey) ? reorder(t, true) : t; }

    private static boolean mergingKey(String key) {
        return key.matches("layers\\.\\d+\\.downsample\\.(reduction\\.weight|norm\\.(weight|bias))");
    }

    /**
     * The last axis (4C features) of {@code t} in the other order: official {@code bC + c} to unfold
     * {@code 4c + k} when {@code toUnfold}, else back. The permutation swaps blocks 1 and 2, so it is its own inverse
     * as a table; only the direction of the index change differs.
     */
    static Tensor reorder(Tensor t, boolean toUnfold) {
        long features = t.dim(t.rank() - 1);
        if (features % 4 != 0) throw new KeyMapException("a patch-merging tensor " + t + " whose last axis is not 4C");
        int c = (int) (features / 4);
        long rows = t.numel() / Math.max(1, features);
        Tensor out = Tensor.zeros(t.dtype(), t.shape());
        for (long r = 0; r < rows; r++) {
            long base = r * features;
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < 4; k++) {
                    long unfold = base + 4L * ch + k, concat = base + (long) UNFOLD_TO_CONCAT[k] * c + ch;
                    if (toUnfold) out.setBits(unfold, t.getBits(concat));
                    else out.setBits(concat, t.getBits(unfold));
                }
            }
        }
        return out;
    }
}
