package mobyc.data.aug;

import java.util.random.RandomGenerator;

/**
 * torchvision's {@code RandomGrayscale(p)}: with probability {@code p}, every channel becomes the luma
 * {@code 0.2989 R + 0.587 G + 0.114 B}: torchvision's tensor coefficients (ITU-R 601 rounds the first to 0.299;
 * 0.2989 is what the tensor path computes and what the goldens check). A 1-channel image is left as it is.
 */
public record Grayscale(double p) implements Transform {
    public static final float R = 0.2989f, G = 0.587f, B = 0.114f;

    public Grayscale {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("probability " + p + " is outside [0, 1]");
    }

    /** {@code F.rgb_to_grayscale(img, 3)}: the luma in all three channels; a 1-channel image unchanged. */
    public static Image apply(Image img) {
        if (img.channels() == 1) return img;
        requireRgb(img, "grayscale");
        float[] l = luma(img);
        int n = l.length;
        float[] d = new float[3 * n];
        for (int c = 0; c < 3; c++) System.arraycopy(l, 0, d, c * n, n);
        return new Image(3, img.height(), img.width(), d);
    }

    /** {@code F.rgb_to_grayscale(img, 1)} of an RGB image: one plane, {@code (0.2989 r + 0.587 g) + 0.114 b} in float. */
    public static float[] luma(Image img) {
        requireRgb(img, "luma");
        int n = img.plane();
        float[] s = img.data(), l = new float[n];
        for (int p = 0; p < n; p++) l[p] = R * s[p] + G * s[n + p] + B * s[2 * n + p];
        return l;
    }

    static void requireRgb(Image img, String what) {
        if (img.channels() != 3) throw new IllegalArgumentException(what + " needs 1 or 3 channels, not " + img.channels());
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return random.nextDouble() < p ? apply(img) : img; }

    @Override public String toString() { return "RandomGrayscale(p=" + p + ")"; }
}
