package mobyc.data.aug;

import java.util.random.RandomGenerator;

/**
 * torchvision's {@code RandomResizedCrop(size, scale, ratio)} on tensors: a crop of random area and aspect ratio,
 * resized bilinearly to {@code size x size} ({@link Resize#resizedCrop}, without antialiasing as torchvision 0.14
 * does on tensors by default).
 *
 * <p>{@link #sample} is torchvision's {@code get_params}: up to 10 attempts drawing an area fraction uniform in
 * {@code [scaleMin, scaleMax]} and an aspect ratio log-uniform in {@code [ratioMin, ratioMax]}; the first whose
 * {@code w = round(sqrt(area * ratio))}, {@code h = round(sqrt(area / ratio))} fit gets a uniform position. Otherwise
 * the fallback: a centre crop of the whole image with its aspect ratio clamped into the range.
 */
public record RandomResizedCrop(int size, double scaleMin, double scaleMax, double ratioMin, double ratioMax, boolean antialias)
        implements Transform {
    /** The crop: rows {@code [top, top + height)}, columns {@code [left, left + width)}. */
    public record Params(int top, int left, int height, int width) {}

    private static final int ATTEMPTS = 10;

    public RandomResizedCrop {
        if (size < 1) throw new IllegalArgumentException("size " + size + " must be positive");
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1))
            throw new IllegalArgumentException("scale range [" + scaleMin + ", " + scaleMax + "] must satisfy 0 < min <= max <= 1");
        if (!(ratioMin > 0 && ratioMin <= ratioMax && Double.isFinite(ratioMax)))
            throw new IllegalArgumentException("ratio range [" + ratioMin + ", " + ratioMax + "] must satisfy 0 < min <= max");
    }

    /** torchvision's defaults: scale {@code (0.08, 1)}, ratio {@code (3/4, 4/3)}. */
    public static RandomResizedCrop of(int size) { return of(size, 0.08, 1.0); }

    /** Ratio {@code (3/4, 4/3)}, no antialiasing. */
    public static RandomResizedCrop of(int size, double scaleMin, double scaleMax) {
        return new RandomResizedCrop(size, scaleMin, scaleMax, 3.0 / 4.0, 4.0 / 3.0, false);
    }

    /** Draws a crop of an {@code height x width} image as torchvision's {@code get_params}. */
    public Params sample(int height, int width, RandomGenerator random) {
        double area = (double) height * width;
        double logMin = Math.log(ratioMin), logMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * uniform(random, scaleMin, scaleMax);
            double ratio = Math.exp(uniform(random, logMin, logMax));
            int w = (int) Math.rint(Math.sqrt(target * ratio)), h = (int) Math.rint(Math.sqrt(target / ratio));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int top = random.nextInt(height - h + 1), left = random.nextInt(width - w + 1);
                return new Params(top, left, h, w);
            }
        }
        return fallback(height, width);
    }

    /** torchvision's fallback: the whole image, cropped in the middle to the nearest ratio in range. */
    Params fallback(int height, int width) {
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < ratioMin) {
            w = width;
            h = (int) Math.rint(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = height;
            w = (int) Math.rint(h * ratioMax);
        } else {
            w = width;
            h = height;
        }
        return new Params((height - h) / 2, (width - w) / 2, h, w);
    }

    /** The crop {@code p} of {@code img}, resized to {@code size x size}. */
    public Image apply(Image img, Params p) {
        return Resize.resizedCrop(img, p.top(), p.left(), p.height(), p.width(), size, size, antialias);
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return apply(img, sample(img.height(), img.width(), random)); }

    /** Uniform in {@code [lo, hi)}; {@code lo} when the range is empty. */
    static double uniform(RandomGenerator random, double lo, double hi) { return lo + (hi - lo) * random.nextDouble(); }

    @Override public String toString() {
        return "RandomResizedCrop(" + size + ", scale=(" + scaleMin + ", " + scaleMax + "), ratio=(" + ratioMin + ", " + ratioMax + ")"
                + (antialias ? ", antialias" : "") + ")";
    }
}
