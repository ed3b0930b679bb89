package mobyc.data.aug;

import java.util.random.RandomGenerator;

/** torchvision's {@code RandomHorizontalFlip(p)}: mirrors the columns with probability {@code p} (one uniform draw). */
public record HorizontalFlip(double p) implements Transform {
    public HorizontalFlip {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("probability " + p + " is outside [0, 1]");
    }

    /** {@code F.hflip}: column {@code x} becomes column {@code W - 1 - x}. */
    public static Image flip(Image img) {
        int w = img.width(), rows = img.channels() * img.height();
        Image out = Image.zeros(img.channels(), img.height(), w);
        float[] s = img.data(), d = out.data();
        for (int r = 0; r < rows; r++) {
            int at = r * w;
            for (int x = 0; x < w; x++) d[at + x] = s[at + w - 1 - x];
        }
        return out;
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return random.nextDouble() < p ? flip(img) : img; }

    @Override public String toString() { return "HorizontalFlip(p=" + p + ")"; }
}
