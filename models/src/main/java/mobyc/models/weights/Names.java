package mobyc.models.weights;

import java.util.List;
import mobyc.runtime.Tensor;

/**
 * One foreign naming's translation to mobyc's names and back: two rule lists, and where a layout differs (mmdet's
 * patch merging), a change of the tensor's values. A key no rule takes is kept as it is (and reported).
 */
interface Names {
    /** What the import rules make of a foreign key, or null when none takes it. */
    RenameRule.Result toMobyc(String key);

    /** What the export rules make of a mobyc key, or null when none takes it. */
    RenameRule.Result fromMobyc(String key);

    /** The value under mobyc's name {@code mobycKey} of the foreign tensor {@code t}. */
    default Tensor valueToMobyc(String mobycKey, Tensor t) { return t; }

    /** The foreign value of mobyc's tensor {@code t} named {@code mobycKey}. */
    default Tensor valueFromMobyc(String mobycKey, Tensor t) { return t; }

    /** Whether an export adds each block's relative_position_index buffer, flattened (torchvision loads strictly). */
    default boolean exportsFlatRelativePositionIndex() { return false; }

    /** Names identical to mobyc's (the official Swin release; timm's ViT). */
    Names IDENTITY = rules(List.of(RenameRule.of(".+", "$0")), List.of(RenameRule.of(".+", "$0")));

    /** Names given by two rule lists. */
    static Names rules(List<RenameRule> in, List<RenameRule> out) {
        return new Names() {
            @Override public RenameRule.Result toMobyc(String key) { return RenameRule.apply(in, key); }
            @Override public RenameRule.Result fromMobyc(String key) { return RenameRule.apply(out, key); }
        };
    }
}
