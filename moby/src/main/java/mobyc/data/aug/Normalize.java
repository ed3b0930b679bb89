package mobyc.data.aug;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * torchvision's {@code Normalize(mean, std)}: channel {@code c} becomes {@code (x - mean[c]) / std[c]} in float32.
 * {@code mean} and {@code std} hold one value per channel, or one value for all channels.
 */
public record Normalize(float[] mean, float[] std) implements Transform {
    /** ImageNet's per-channel mean and std (RGB), as the reference and timm use them. */
    public static final Normalize IMAGENET = new Normalize(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

    public Normalize {
        if (mean.length == 0 || mean.length != std.length)
            throw new IllegalArgumentException("mean and std need the same, positive number of values, not " + mean.length + " and " + std.length);
        for (int i = 0; i < mean.length; i++)
            if (!Float.isFinite(mean[i]) || !(std[i] > 0) || !Float.isFinite(std[i]))
                throw new IllegalArgumentException("mean " + mean[i] + " and std " + std[i] + " must be finite, std positive");
        mean = mean.clone();
        std = std.clone();
    }

    /** The same mean and std for every channel. */
    public static Normalize of(float mean, float std) { return new Normalize(new float[] {mean}, new float[] {std}); }

    @Override public float[] mean() { return mean.clone(); }

    @Override public float[] std() { return std.clone(); }

    /** Writes the normalised {@code img} into {@code out} from {@code offset} on ({@code C*H*W} values). */
    public void into(Image img, float[] out, int offset) {
        int c = img.channels(), n = img.plane();
        if (mean.length != 1 && mean.length != c)
            throw new IllegalArgumentException("normalising a " + c + "-channel image with " + mean.length + " means");
        float[] s = img.data();
        for (int ch = 0; ch < c; ch++) {
            float m = mean[mean.length == 1 ? 0 : ch], sd = std[std.length == 1 ? 0 : ch];
            for (int p = ch * n, end = p + n; p < end; p++) out[offset + p] = (s[p] - m) / sd;
        }
    }

    public Image apply(Image img) {
        Image out = Image.zeros(img.channels(), img.height(), img.width());
        into(img, out.data(), 0);
        return out;
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return apply(img); }

    @Override public boolean equals(Object o) {
        return o instanceof Normalize n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override public int hashCode() { return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std); }

    @Override public String toString() { return "Normalize(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")"; }
}
