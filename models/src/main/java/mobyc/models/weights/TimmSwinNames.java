package mobyc.models.weights;

import java.util.List;

/**
 * timm's Swin Transformer from version 0.9 on (timm/models/swin_transformer.py) against mobyc's (= the official
 * release's) names. timm moved each PatchMerging to the start of the next stage and the classifier into
 * {@code head.fc}; its checkpoint_filter_fn converts official checkpoints the same way. Everything else is named
 * alike, and timm's PatchMerging concatenates the 2x2 neighbourhood in the official order. timm does not save
 * relative_position_index or attn_mask (non-persistent buffers).
 * <pre>
 *   layers.{i+1}.downsample.*   layers.{i}.downsample.*
 *   head.fc.*                   head.*
 *   anything else               the same
 * </pre>
 */
final class TimmSwinNames {
    private TimmSwinNames() {}

    static final List<RenameRule> IN = List.of(
            RenameRule.of("layers\\.(\\d+)\\.downsample\\.(.+)", m -> {
                int i = RenameRule.group(m, 1);
                return i >= 1 ? "layers." + (i - 1) + ".downsample." + m.group(2) : null;
            }),
            RenameRule.of("head\\.fc\\.(.+)", "head.$1"),
            RenameRule.of("(?!layers\\.\\d+\\.downsample\\.).+", "$0"));

    static final List<RenameRule> OUT = List.of(
            RenameRule.of("layers\\.(\\d+)\\.downsample\\.(.+)", m -> "layers." + (RenameRule.group(m, 1) + 1) + ".downsample." + m.group(2)),
            RenameRule.of("head\\.(.+)", "head.fc.$1"),
            RenameRule.of(".+", "$0"));

    static final Names NAMES = Names.rules(IN, OUT);
}
