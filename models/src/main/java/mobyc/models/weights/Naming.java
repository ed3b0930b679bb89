package mobyc.models.weights;

/**
 * The key namings of the checkpoints users hold. {@link #OFFICIAL} (Swin) and {@link #TIMM} (ViT/DeiT) are
 * mobyc's own names: models/swin.moby follows the official Swin release, models/deit.moby timm.
 */
public enum Naming {
    /** The official Swin Transformer and MoBY releases (microsoft/Swin-Transformer, SwinTransformer/Transformer-SSL). */
    OFFICIAL("official", true),
    /** timm's VisionTransformer, which the official DeiT release (facebookresearch/deit) also uses. */
    TIMM("timm", false),
    /** torchvision.models.swin_transformer.SwinTransformer (swin_t, swin_s, swin_b). */
    TORCHVISION_SWIN("torchvision-swin", true),
    /** torchvision.models.vision_transformer.VisionTransformer (vit_b_16, ...). */
    TORCHVISION_VIT("torchvision-vit", false),
    /** timm's SwinTransformer from version 0.9 on (layers.{i}.downsample opens stage i; head.fc). */
    TIMM_SWIN("timm-swin", true),
    /** mmdetection's SwinTransformer backbone (mmdet/models/backbones/swin.py), under "backbone.". */
    MMDET("mmdet", true);

    private final String label;
    private final boolean swin;

    Naming(String label, boolean swin) {
        this.label = label;
        this.swin = swin;
    }

    /** A short lower-case name, as printed by {@code mobyc convert}. */
    public String label() { return label; }

    /** Whether the naming is of a Swin Transformer (else of a ViT). */
    public boolean isSwin() { return swin; }
}
