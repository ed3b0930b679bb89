package mobyc.data.aug;

import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * An augmentation pipeline: transforms applied in order to an image in {@code [0, 1]}, then a {@link Normalize}.
 * Immutable and thread-safe; each call takes the generator of one sample and view.
 *
 * <p>The pipelines of MoBY (see {@code MOBY.md}, "Augmentations"):
 * <ul>
 *   <li>{@link #mobyRgb}: the reference's BYOL-style views on RGB images, exactly: RandomResizedCrop(size, scale
 *       (0.08, 1), ratio (3/4, 4/3)), flip p=0.5, ColorJitter(0.4, 0.4, 0.2, 0.1) p=0.8, grayscale p=0.2, then view 1
 *       Gaussian blur p=1.0, view 2 blur p=0.1 and solarize p=0.2; ImageNet mean and std. Deviations from the
 *       reference, which augments Pillow images: the math is torchvision's tensor path on floats (no byte rounding
 *       between steps), the crop is resized bilinearly without antialiasing (torchvision's tensor default), the blur
 *       is a {@link GaussianBlur#kernelFor 23-tap} Gaussian (BYOL's) instead of Pillow's, and solarize uses
 *       threshold 0.5.
 *   <li>{@link #mobyGray}: this project's adaptation to small grayscale images (28x28 Fashion-MNIST): RandomResizedCrop
 *       with scale (0.2, 1) (a 0.08 crop of 28 pixels is about 8 pixels, too little to recognise), flip p=0.5,
 *       brightness and contrast 0.4 with p=0.8 (saturation, hue and grayscale mean nothing on one channel), no blur
 *       (a blur of a 28-pixel image erases most of it), view 2 solarize p=0.2, view 1 none; normalised with the
 *       data set's mean and std.
 * </ul>
 * {@link #evalRgb} and {@link #evalGray} are the matching deterministic test transforms; {@link #linearRgb} the
 * reference's linear-evaluation training transform.
 */
public final class Augment {
    /** The two views of a two-view method. */
    public record Views(Augment view1, Augment view2) {
        public Views {
            Objects.requireNonNull(view1, "view1");
            Objects.requireNonNull(view2, "view2");
        }
    }

    private final String name;
    private final int size;
    private final List<Transform> steps;
    private final Normalize normalize;

    /**
     * A pipeline called {@code name} whose {@code steps} end in {@code size x size} images ({@code size = 0}: they keep
     * the input's size), normalised by {@code normalize}.
     */
    public Augment(String name, int size, List<Transform> steps, Normalize normalize) {
        if (size < 0) throw new IllegalArgumentException("size " + size + " must be >= 0");
        this.name = Objects.requireNonNull(name, "name");
        this.size = size;
        this.steps = List.copyOf(steps);
        this.normalize = Objects.requireNonNull(normalize, "normalize");
    }

    /** MoBY's two views of RGB images at {@code size x size} (see the class comment). */
    public static Views mobyRgb(int size) {
        return new Views(
                new Augment("moby-rgb view 1", size, List.of(RandomResizedCrop.of(size), new HorizontalFlip(0.5),
                        new RandomApply(0.8, new ColorJitter(0.4, 0.4, 0.2, 0.1)), new Grayscale(0.2),
                        new RandomApply(1.0, GaussianBlur.moby(size))), Normalize.IMAGENET),
                new Augment("moby-rgb view 2", size, List.of(RandomResizedCrop.of(size), new HorizontalFlip(0.5),
                        new RandomApply(0.8, new ColorJitter(0.4, 0.4, 0.2, 0.1)), new Grayscale(0.2),
                        new RandomApply(0.1, GaussianBlur.moby(size)), new RandomApply(0.2, Solarize.MOBY)), Normalize.IMAGENET));
    }

    /** This project's two views of small grayscale images (see the class comment), normalised with {@code mean} and {@code std}. */
    public static Views mobyGray(int size, float mean, float std) {
        return new Views(
                new Augment("moby-gray view 1", size, List.of(RandomResizedCrop.of(size, 0.2, 1.0), new HorizontalFlip(0.5),
                        new RandomApply(0.8, new ColorJitter(0.4, 0.4, 0, 0))), Normalize.of(mean, std)),
                new Augment("moby-gray view 2", size, List.of(RandomResizedCrop.of(size, 0.2, 1.0), new HorizontalFlip(0.5),
                        new RandomApply(0.8, new ColorJitter(0.4, 0.4, 0, 0)), new RandomApply(0.2, Solarize.MOBY)),
                        Normalize.of(mean, std)));
    }

    /**
     * The reference's test transform for RGB images: shorter side to {@code int(256 / 224 * size)} (antialiased
     * bilinear), centre crop {@code size}, ImageNet mean and std.
     */
    public static Augment evalRgb(int size) {
        return new Augment("eval-rgb", size, List.of(ResizeCenterCrop.forSize(size)), Normalize.IMAGENET);
    }

    /** The test transform of small grayscale images: normalisation only, the size unchanged. */
    public static Augment evalGray(float mean, float std) {
        return new Augment("eval-gray", 0, List.of(), Normalize.of(mean, std));
    }

    /** The reference's linear-evaluation training transform: RandomResizedCrop(size) (scale (0.08, 1)), flip, ImageNet normalisation. */
    public static Augment linearRgb(int size) {
        return new Augment("linear-rgb", size, List.of(RandomResizedCrop.of(size), new HorizontalFlip(0.5)), Normalize.IMAGENET);
    }

    public String name() { return name; }

    /** The output height and width, or 0 when the output keeps the input's size. */
    public int size() { return size; }

    public List<Transform> steps() { return steps; }

    public Normalize normalize() { return normalize; }

    /** The steps without the normalisation: an image in {@code [0, 1]}. */
    public Image augment(Image img, RandomGenerator random) {
        for (Transform t : steps) img = t.apply(img, random);
        return img;
    }

    /** The augmented and normalised image. */
    public Image apply(Image img, RandomGenerator random) { return normalize.apply(augment(img, random)); }

    @Override public String toString() {
        return name + ": " + steps.stream().map(Object::toString).collect(Collectors.joining(", ")) + (steps.isEmpty() ? "" : ", ") + normalize;
    }
}
