package mobyc.data.aug;

import java.util.random.RandomGenerator;

/**
 * The reference's test transform: {@code Resize(resize)} (shorter side to {@code resize}, {@link Resize#shorterSide})
 * then {@code CenterCrop(crop)}. The reference resizes Pillow images, which is always antialiased; {@code antialias}
 * chooses between that ({@code true}, PyTorch's antialiased bilinear, close to Pillow's) and plain bilinear.
 */
public record ResizeCenterCrop(int resize, int crop, boolean antialias) implements Transform {
    public ResizeCenterCrop {
        if (resize < 1 || crop < 1) throw new IllegalArgumentException("sizes " + resize + " and " + crop + " must be positive");
    }

    /** The reference's evaluation of {@code size x size} images: resize to {@code int(256 / 224 * size)}, crop {@code size}. */
    public static ResizeCenterCrop forSize(int size) { return new ResizeCenterCrop((int) ((256.0 / 224) * size), size, true); }

    public Image apply(Image img) { return Resize.centerCrop(Resize.shorterSide(img, resize, antialias), crop, crop); }

    @Override
    public Image apply(Image img, RandomGenerator random) { return apply(img); }

    @Override public String toString() { return "Resize(" + resize + (antialias ? ", antialias" : "") + ") + CenterCrop(" + crop + ")"; }
}
