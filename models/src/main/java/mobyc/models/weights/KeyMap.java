package mobyc.models.weights;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mobyc.runtime.Tensor;

/**
 * Maps the key names of the checkpoints users hold to mobyc's parameter paths and back. mobyc's Swin
 * (models/swin.moby) uses the official Swin/MoBY release's names and its ViT (models/deit.moby) timm's, so those
 * need no renaming; the other namings ({@link Naming}) have their rule tables in {@link TorchvisionSwinNames},
 * {@link TimmSwinNames}, {@link MmdetSwinNames} and {@link TorchvisionVitNames}.
 *
 * <p>Import ({@link #toMobyc}): keys outside the backbone's prefix are left out (MoBY's {@code encoder_k.},
 * {@code projector.}, queues, ...); the prefix is given or found ({@link #detectPrefix}); the naming is found
 * ({@link #detect}); Swin's relative_position_index buffers are checked against the computed index and left out
 * with the attn_mask buffers (mobyc computes both); the rest is renamed. Export ({@link #fromMobyc}) renames
 * mobyc's keys for a {@link Target}. Keys no rule takes are kept as they are and reported.
 */
public final class KeyMap {
    private KeyMap() {}

    /** What to export to. */
    public enum Target {
        /** mobyc's own names. */
        MOBYC,
        /** The official releases: Swin/MoBY for Swin (= mobyc), DeiT (= timm = mobyc) for ViT. */
        OFFICIAL,
        /** timm: its ViT names (= mobyc) or its Swin names (0.9 and later). */
        TIMM,
        /** torchvision's swin_transformer or vision_transformer. */
        TORCHVISION,
        /** mmdetection's Swin backbone (Swin only). */
        MMDET;

        /** The target named {@code name} (case-insensitive), or an error listing the targets. */
        public static Target parse(String name) {
            for (Target t : values()) if (t.name().equalsIgnoreCase(name)) return t;
            throw new KeyMapException("unknown naming '" + name + "'; expected one of mobyc, official, timm, torchvision, mmdet");
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** A key left out, and why. */
    public record Dropped(String key, String reason) {}

    /**
     * Imported weights: the naming found, the prefix stripped ("" for none), the tensors under mobyc's names,
     * the keys left out, and the keys kept under their own names because no rule took them.
     */
    public record Imported(Naming naming, String prefix, LinkedHashMap<String, Tensor> tensors, List<Dropped> dropped, List<String> unmapped) {}

    /** Exported weights: the naming written, the tensors under its names, the keys left out, and those kept as they were. */
    public record Exported(Naming naming, LinkedHashMap<String, Tensor> tensors, List<Dropped> dropped, List<String> unmapped) {}

    /** The keys ending in a patch embedding's weight: every supported naming has one, and it locates the backbone. */
    static final List<String> MARKERS = List.of("patch_embed.proj.weight", "patch_embed.projection.weight", "features.0.0.weight", "conv_proj.weight");

    /** What is left of a checkpoint when only the backbone under {@code prefix} is kept. */
    static final String OUTSIDE = "outside the prefix ";
    static final String INDEX_BUFFER = "relative_position_index buffers (checked; mobyc computes them)";
    static final String MASK_BUFFER = "attn_mask buffers (mobyc computes them)";

    private static final Pattern LAYER = Pattern.compile("layers\\.(\\d+)\\..+"), STAGE = Pattern.compile("stages\\.(\\d+)\\..+");

    /** The naming of {@code keys} (without a prefix), or a {@link KeyMapException} saying what was looked for. */
    public static Naming detect(Collection<String> keys) {
        TreeSet<String> k = new TreeSet<>(keys);
        if (k.stream().anyMatch(s -> s.contains("cpb_mlp") || s.endsWith("logit_scale")))
            throw new KeyMapException("these are Swin V2 weights (cpb_mlp, logit_scale); mobyc's swin.moby is the Swin Transformer V1");
        if (k.stream().anyMatch(s -> s.startsWith("features.0.0."))) return Naming.TORCHVISION_SWIN;
        if (k.contains("conv_proj.weight") || k.contains("class_token") || k.stream().anyMatch(s -> s.startsWith("encoder.layers.encoder_layer_")))
            return Naming.TORCHVISION_VIT;
        if (k.contains("patch_embed.projection.weight") || k.stream().anyMatch(s -> s.startsWith("stages.") && s.contains(".attn.w_msa.")))
            return Naming.MMDET;
        if (k.stream().anyMatch(s -> s.startsWith("layers."))) {
            boolean downsample = k.stream().anyMatch(s -> s.matches("layers\\.\\d+\\.downsample\\..+"));
            boolean first = k.stream().anyMatch(s -> s.startsWith("layers.0.downsample."));
            return k.contains("head.fc.weight") || (downsample && !first) ? Naming.TIMM_SWIN : Naming.OFFICIAL;
        }
        if (k.contains("cls_token") || k.stream().anyMatch(s -> s.startsWith("blocks."))) return Naming.TIMM;
        throw new KeyMapException("cannot tell whose names these are: expected keys such as patch_embed.proj.weight with layers.* "
                + "(official Swin/MoBY) or blocks.* (timm ViT/DeiT), features.0.0.weight (torchvision Swin), conv_proj.weight "
                + "(torchvision ViT) or patch_embed.projection.weight (mmdet Swin)");
    }

    /**
     * The prefix in front of the backbone's keys ("" for none), found from the keys ending in a patch embedding's
     * weight ({@link #MARKERS}). Several candidates are an error, except that MoBY's online encoder
     * ({@code encoder.}) is preferred to its momentum encoder ({@code encoder_k.}).
     */
    public static String detectPrefix(Collection<String> keys) {
        TreeSet<String> candidates = new TreeSet<>();
        for (String key : keys)
            for (String m : MARKERS)
                if (key.endsWith(m) && (key.length() == m.length() || key.charAt(key.length() - m.length() - 1) == '.'))
                    candidates.add(key.substring(0, key.length() - m.length()));
        if (candidates.isEmpty())
            throw new KeyMapException("no backbone found: no key ends with " + String.join(", ", MARKERS));
        if (candidates.contains("")) return "";
        if (candidates.size() == 1) return candidates.first();
        if (candidates.contains("encoder.")) return "encoder."; // MoBY: encoder. (online) beside encoder_k. (momentum)
        throw new KeyMapException("several backbones, under " + String.join(", ", candidates) + "; choose one with --prefix");
    }

    /** {@code weights} under mobyc's names, with the prefix found by {@link #detectPrefix}. */
    public static Imported toMobyc(Map<String, Tensor> weights) { return toMobyc(weights, null); }

    /** {@code weights} under mobyc's names; {@code prefix} (such as "encoder.") selects the backbone, null finds it. */
    public static Imported toMobyc(Map<String, Tensor> weights, String prefix) {
        String p = prefix != null ? prefix : detectPrefix(weights.keySet());
        List<Dropped> dropped = new ArrayList<>();
        LinkedHashMap<String, Tensor> inside = new LinkedHashMap<>();
        weights.forEach((k, t) -> {
            if (k.startsWith(p)) inside.put(k.substring(p.length()), t);
            else dropped.add(new Dropped(k, OUTSIDE + p));
        });
        if (inside.isEmpty()) throw new KeyMapException("no key starts with the prefix '" + p + "'");
        Naming naming = detect(inside.keySet());
        Names names = names(naming, inside.keySet());
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        List<String> unmapped = new ArrayList<>();
        for (var e : inside.entrySet()) {
            String key = e.getKey();
            if (naming.isSwin() && key.endsWith("relative_position_index")) {
                RelativePositionIndex.check(p + key, e.getValue());
                dropped.add(new Dropped(p + key, INDEX_BUFFER));
                continue;
            }
            if (naming.isSwin() && (key.equals("attn_mask") || key.endsWith(".attn_mask"))) {
                dropped.add(new Dropped(p + key, MASK_BUFFER));
                continue;
            }
            RenameRule.Result r = names.toMobyc(key);
            if (r != null && r.dropReason() != null) {
                dropped.add(new Dropped(p + key, r.dropReason()));
                continue;
            }
            String name = r == null ? key : r.name();
            if (r == null) unmapped.add(p + key);
            put(out, name, names.valueToMobyc(name, e.getValue()), p + key);
        }
        return new Imported(naming, p, out, List.copyOf(dropped), List.copyOf(unmapped));
    }

    /** mobyc's {@code weights} (a Swin or a ViT, by their names) under the names of {@code target}. */
    public static Exported fromMobyc(Map<String, Tensor> weights, Target target) {
        Naming own = detect(weights.keySet());
        if (own != Naming.OFFICIAL && own != Naming.TIMM)
            throw new KeyMapException("these weights are in " + own.label() + " names, not mobyc's; import them first");
        boolean swin = own.isSwin();
        Naming naming = switch (target) {
            case MOBYC, OFFICIAL -> own;
            case TIMM -> swin ? Naming.TIMM_SWIN : Naming.TIMM;
            case TORCHVISION -> swin ? Naming.TORCHVISION_SWIN : Naming.TORCHVISION_VIT;
            case MMDET -> {
                if (!swin) throw new KeyMapException("mmdet names are for Swin backbones; these weights are a ViT");
                yield Naming.MMDET;
            }
        };
        Names names = names(naming, weights.keySet());
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        List<Dropped> dropped = new ArrayList<>();
        List<String> unmapped = new ArrayList<>();
        for (var e : weights.entrySet()) {
            String key = e.getKey();
            RenameRule.Result r = names.fromMobyc(key);
            if (r != null && r.dropReason() != null) {
                dropped.add(new Dropped(key, r.dropReason()));
                continue;
            }
            String name = r == null ? key : r.name();
            if (r == null) unmapped.add(key);
            put(out, name, names.valueFromMobyc(key, e.getValue()), key);
            if (names.exportsFlatRelativePositionIndex() && key.endsWith("attn.relative_position_bias_table")) {
                int window = RelativePositionIndex.windowOfTable(e.getValue().dim(0));
                if (window < 0) throw new KeyMapException(key + ": " + e.getValue().dim(0) + " rows, not the (2w-1)^2 of a w x w window");
                put(out, name.replace("relative_position_bias_table", "relative_position_index"), RelativePositionIndex.flat(window), key);
            }
        }
        return new Exported(naming, out, List.copyOf(dropped), List.copyOf(unmapped));
    }

    /** The rule tables of {@code naming}, for these keys (mmdet's depend on the number of stages). */
    static Names names(Naming naming, Collection<String> keys) {
        return switch (naming) {
            case OFFICIAL, TIMM -> Names.IDENTITY;
            case TORCHVISION_SWIN -> TorchvisionSwinNames.NAMES;
            case TORCHVISION_VIT -> TorchvisionVitNames.NAMES;
            case TIMM_SWIN -> TimmSwinNames.NAMES;
            case MMDET -> new MmdetSwinNames(stages(keys));
        };
    }

    /** 1 + the largest stage index among layers.{i}.* (mobyc) or stages.{i}.* (mmdet) keys. */
    private static int stages(Collection<String> keys) {
        int max = -1;
        for (String k : keys) {
            Matcher m = LAYER.matcher(k);
            if (!m.matches()) m = STAGE.matcher(k);
            if (m.matches()) max = Math.max(max, RenameRule.index(m.group(1)));
        }
        if (max < 0) throw new KeyMapException("no layers.{i}.* or stages.{i}.* keys: cannot count the Swin stages");
        return max + 1;
    }

    private static void put(LinkedHashMap<String, Tensor> out, String name, Tensor t, String from) {
        if (out.putIfAbsent(name, t) != null) throw new KeyMapException("two keys map to " + name + " (the second is " + from + ")");
    }
}
