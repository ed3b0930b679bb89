package mobyc.data.aug;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * torchvision's {@code ColorJitter(brightness, contrast, saturation, hue)} with its tensor formulas, in float32 step
 * by step as torchvision computes them:
 * <ul>
 *   <li>brightness {@code f}: {@code clamp(f * x, 0, 1)} (a blend with black);
 *   <li>contrast {@code f}: {@code clamp(f * x + (1 - f) * m, 0, 1)}, {@code m} the mean of the luma
 *       ({@link Grayscale#luma}) over the image, or of the single channel;
 *   <li>saturation {@code f}: a blend with the luma per pixel;
 *   <li>hue {@code f}: RGB to HSV, {@code h = (h + f) mod 1}, back to RGB (torchvision's {@code _rgb2hsv} and
 *       {@code _hsv2rgb}).
 * </ul>
 * A factor range is {@code [max(0, 1 - v), 1 + v]} for brightness, contrast and saturation and {@code [-v, v]} for hue;
 * {@code v = 0} turns that adjustment off. {@link #sample} draws as {@code get_params}: an order of the four
 * ({@code randperm(4)}: 0 brightness, 1 contrast, 2 saturation, 3 hue), then the four factors. On a 1-channel image
 * saturation and hue change nothing (as torchvision).
 */
public record ColorJitter(double brightness, double contrast, double saturation, double hue) implements Transform {
    /**
     * The drawn order and factors; {@code NaN} marks an adjustment that is off. {@code order} is a permutation of
     * {@code 0..3} (0 brightness, 1 contrast, 2 saturation, 3 hue).
     */
    public record Params(int[] order, double brightness, double contrast, double saturation, double hue) {
        public Params {
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            if (!Arrays.equals(sorted, new int[] {0, 1, 2, 3})) throw new IllegalArgumentException("order " + Arrays.toString(order) + " is not a permutation of 0..3");
            order = order.clone();
        }

        @Override public int[] order() { return order.clone(); }

        @Override public String toString() {
            return "ColorJitter.Params(order=" + Arrays.toString(order) + ", b=" + brightness + ", c=" + contrast + ", s=" + saturation + ", h=" + hue + ")";
        }
    }

    public ColorJitter {
        for (double v : new double[] {brightness, contrast, saturation})
            if (!(v >= 0 && Double.isFinite(v))) throw new IllegalArgumentException("jitter strength " + v + " must be finite and >= 0");
        if (!(hue >= 0 && hue <= 0.5)) throw new IllegalArgumentException("hue jitter " + hue + " must lie in [0, 0.5]");
    }

    /** Draws the order and the factors as torchvision's {@code ColorJitter.get_params}. */
    public Params sample(RandomGenerator random) {
        int[] order = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = random.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new Params(order, factor(random, brightness), factor(random, contrast), factor(random, saturation),
                hue == 0 ? Double.NaN : RandomResizedCrop.uniform(random, -hue, hue));
    }

    private static double factor(RandomGenerator random, double v) {
        return v == 0 ? Double.NaN : RandomResizedCrop.uniform(random, Math.max(0, 1 - v), 1 + v);
    }

    /** The four adjustments in {@code p}'s order, skipping those that are off. */
    public static Image apply(Image img, Params p) {
        for (int fn : p.order) {
            img = switch (fn) {
                case 0 -> Double.isNaN(p.brightness) ? img : brightness(img, p.brightness);
                case 1 -> Double.isNaN(p.contrast) ? img : contrast(img, p.contrast);
                case 2 -> Double.isNaN(p.saturation) ? img : saturation(img, p.saturation);
                default -> Double.isNaN(p.hue) ? img : hue(img, p.hue);
            };
        }
        return img;
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return apply(img, sample(random)); }

    /** {@code F.adjust_brightness}: {@code clamp(f * x, 0, 1)}. */
    public static Image brightness(Image img, double factor) {
        checkFactor(factor, "brightness");
        float f = (float) factor, g = (float) (1.0 - factor);
        float[] s = img.data(), d = new float[s.length];
        for (int p = 0; p < s.length; p++) d[p] = clamp(f * s[p] + g * 0f);
        return like(img, d);
    }

    /** {@code F.adjust_contrast}: a blend with the mean luma (or the mean of a single channel). */
    public static Image contrast(Image img, double factor) {
        checkFactor(factor, "contrast");
        float[] gray = img.channels() == 1 ? img.data() : Grayscale.luma(img);
        double sum = 0;
        for (float v : gray) sum += v;
        float mean = (float) (sum / gray.length), f = (float) factor, g = (float) (1.0 - factor);
        float[] s = img.data(), d = new float[s.length];
        for (int p = 0; p < s.length; p++) d[p] = clamp(f * s[p] + g * mean);
        return like(img, d);
    }

    /** {@code F.adjust_saturation}: a blend with the luma per pixel; a 1-channel image unchanged. */
    public static Image saturation(Image img, double factor) {
        checkFactor(factor, "saturation");
        if (img.channels() == 1) return img;
        float[] gray = Grayscale.luma(img), s = img.data(), d = new float[s.length];
        float f = (float) factor, g = (float) (1.0 - factor);
        int n = gray.length;
        for (int p = 0; p < s.length; p++) d[p] = clamp(f * s[p] + g * gray[p % n]);
        return like(img, d);
    }

    /** {@code F.adjust_hue}: hue shifted by {@code factor} turns ({@code [-0.5, 0.5]}); a 1-channel image unchanged. */
    public static Image hue(Image img, double factor) {
        if (!(factor >= -0.5 && factor <= 0.5)) throw new IllegalArgumentException("hue factor " + factor + " is outside [-0.5, 0.5]");
        if (img.channels() == 1) return img;
        Grayscale.requireRgb(img, "hue");
        int n = img.plane();
        float[] s = img.data(), d = new float[s.length];
        float shift = (float) factor;
        for (int p = 0; p < n; p++) {
            float r = s[p], g = s[n + p], b = s[2 * n + p];
            // _rgb2hsv
            float maxc = Math.max(r, Math.max(g, b)), minc = Math.min(r, Math.min(g, b));
            boolean eqc = maxc == minc;
            float cr = maxc - minc;
            float sat = cr / (eqc ? 1f : maxc);
            float crDivisor = eqc ? 1f : cr;
            float rc = (maxc - r) / crDivisor, gc = (maxc - g) / crDivisor, bc = (maxc - b) / crDivisor;
            float h;
            if (maxc == r) h = bc - gc;
            else if (maxc == g) h = 2f + rc - bc;
            else h = 4f + gc - rc;
            h = (h / 6f + 1f) % 1f;
            // the shift: torch.remainder(h + f, 1)
            h = (h + shift) % 1f;
            if (h != 0 && h < 0) h += 1f;
            // _hsv2rgb
            float i = (float) Math.floor(h * 6f), frac = h * 6f - i;
            float pv = clamp(maxc * (1f - sat)), qv = clamp(maxc * (1f - sat * frac)), tv = clamp(maxc * (1f - sat * (1f - frac)));
            float v = maxc, ro, go, bo;
            switch (Math.floorMod((int) i, 6)) {
                case 0 -> { ro = v; go = tv; bo = pv; }
                case 1 -> { ro = qv; go = v; bo = pv; }
                case 2 -> { ro = pv; go = v; bo = tv; }
                case 3 -> { ro = pv; go = qv; bo = v; }
                case 4 -> { ro = tv; go = pv; bo = v; }
                default -> { ro = v; go = pv; bo = qv; }
            }
            d[p] = ro;
            d[n + p] = go;
            d[2 * n + p] = bo;
        }
        return like(img, d);
    }

    private static void checkFactor(double f, String what) {
        if (!(f >= 0 && Double.isFinite(f))) throw new IllegalArgumentException(what + " factor " + f + " must be finite and >= 0");
    }

    private static float clamp(float x) { return Math.min(Math.max(x, 0f), 1f); }

    private static Image like(Image img, float[] d) { return new Image(img.channels(), img.height(), img.width(), d); }

    @Override public String toString() {
        return "ColorJitter(brightness=" + brightness + ", contrast=" + contrast + ", saturation=" + saturation + ", hue=" + hue + ")";
    }
}
