package mobyc.data.aug;

import java.util.random.RandomGenerator;

/**
 * Solarisation, {@code F.solarize} on tensors: every value {@code x >= threshold} becomes {@code 1 - x}. The
 * reference applies Pillow's {@code ImageOps.solarize} to bytes with threshold 128, which is {@code x >= 128/255}
 * (0.50196) on {@code [0, 1]}; {@link #MOBY} uses 0.5, which picks the same pixels among byte values
 * {@code k / 255} ({@code k >= 128} either way) and differs only for the non-byte values the float jitter and blur
 * of the tensor path make between the two thresholds.
 * Always applies: wrap it in {@link RandomApply} for a probability.
 */
public record Solarize(double threshold) implements Transform {
    /** The threshold of MoBY's view 2. */
    public static final Solarize MOBY = new Solarize(0.5);

    public static Image apply(Image img, double threshold) {
        float t = (float) threshold;
        float[] s = img.data(), d = new float[s.length];
        for (int p = 0; p < s.length; p++) d[p] = s[p] >= t ? 1f - s[p] : s[p];
        return new Image(img.channels(), img.height(), img.width(), d);
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return apply(img, threshold); }

    @Override public String toString() { return "Solarize(" + threshold + ")"; }
}
