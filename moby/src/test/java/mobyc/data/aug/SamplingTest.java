package mobyc.data.aug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The parameter draws: ranges respected and rates as torchvision's (fixed seeds, bounds of about 4.5 sigma). */
class SamplingTest {
    private static final int DRAWS = 20_000;

    @Test
    void resizedCropDrawsAreUniformInScaleAndLogUniformInRatio() {
        // a square image and scale <= 0.5: every first attempt fits, so the draws are not filtered
        RandomResizedCrop rrc = RandomResizedCrop.of(224, 0.08, 0.5);
        SplittableRandom r = new SplittableRandom(1);
        int h = 1000, w = 1000;
        double sumScale = 0, sumLogRatio = 0, sumTop = 0, sumLeft = 0;
        int wide = 0;
        for (int k = 0; k < DRAWS; k++) {
            RandomResizedCrop.Params p = rrc.sample(h, w, r);
            assertTrue(p.top() >= 0 && p.left() >= 0 && p.top() + p.height() <= h && p.left() + p.width() <= w, p.toString());
            double scale = (double) p.height() * p.width() / (h * w), ratio = (double) p.width() / p.height();
            assertTrue(scale >= 0.08 * 0.99 && scale <= 0.5 * 1.01, "scale " + scale);
            assertTrue(ratio >= 0.75 * 0.99 && ratio <= 4.0 / 3 * 1.01, "ratio " + ratio);
            sumScale += scale;
            sumLogRatio += Math.log(ratio);
            if (ratio > 1) wide++;
            sumTop += (double) p.top() / Math.max(1, h - p.height());
            sumLeft += (double) p.left() / Math.max(1, w - p.width());
        }
        assertEquals(0.29, sumScale / DRAWS, 0.004); // uniform in [0.08, 0.5]: mean 0.29, sd 0.12
        assertEquals(0, sumLogRatio / DRAWS, 0.006); // log-uniform in [-0.288, 0.288]: sd 0.166
        assertEquals(0.5, (double) wide / DRAWS, 0.016);
        assertEquals(0.5, sumTop / DRAWS, 0.01);
        assertEquals(0.5, sumLeft / DRAWS, 0.01);
    }

    @Test
    void resizedCropOfAPhotoStaysInsideWithDefaultRanges() {
        RandomResizedCrop rrc = RandomResizedCrop.of(224);
        SplittableRandom r = new SplittableRandom(2);
        double minScale = 1, maxScale = 0;
        for (int k = 0; k < DRAWS; k++) {
            RandomResizedCrop.Params p = rrc.sample(375, 500, r);
            assertTrue(p.top() >= 0 && p.left() >= 0 && p.top() + p.height() <= 375 && p.left() + p.width() <= 500, p.toString());
            double scale = (double) p.height() * p.width() / (375 * 500);
            minScale = Math.min(minScale, scale);
            maxScale = Math.max(maxScale, scale);
        }
        assertTrue(minScale < 0.09 && minScale > 0.079 && maxScale > 0.95 && maxScale <= 1, minScale + " .. " + maxScale);
    }

    @Test
    void resizedCropFallsBackToACentreCropWithTheRatioClamped() {
        RandomResizedCrop rrc = RandomResizedCrop.of(8, 0.9, 1.0);
        SplittableRandom r = new SplittableRandom(3);
        // 10 x 200: no crop of 90% of the area has a ratio within [3/4, 4/3] and fits, so the fallback
        assertEquals(new RandomResizedCrop.Params(0, 93, 10, 13), rrc.sample(10, 200, r));
        assertEquals(new RandomResizedCrop.Params(93, 0, 13, 10), rrc.sample(200, 10, r));
        // the image's own ratio in range: the whole image
        assertEquals(new RandomResizedCrop.Params(0, 0, 10, 12), rrc.fallback(10, 12));
        assertEquals(new RandomResizedCrop.Params(0, 93, 10, 13), rrc.fallback(10, 200));
    }

    @Test
    void flipGrayscaleAndRandomApplyRates() {
        SplittableRandom r = new SplittableRandom(4);
        Image x = new Image(3, 1, 2, new float[] {0, 1, 0.2f, 0.3f, 0.5f, 0.9f});
        int flips = 0, grays = 0, applied = 0;
        HorizontalFlip flip = new HorizontalFlip(0.5);
        Grayscale gray = new Grayscale(0.2);
        RandomApply apply = new RandomApply(0.8, (img, rnd) -> HorizontalFlip.flip(img));
        for (int k = 0; k < DRAWS; k++) {
            if (flip.apply(x, r).data()[0] == 1) flips++;
            if (gray.apply(x, r) != x) grays++;
            if (apply.apply(x, r) != x) applied++;
        }
        assertEquals(0.5, (double) flips / DRAWS, 0.016);
        assertEquals(0.2, (double) grays / DRAWS, 0.013);
        assertEquals(0.8, (double) applied / DRAWS, 0.013);
        assertTrue(new RandomApply(1.0, (img, rnd) -> null).apply(x, r) == null, "p = 1 always applies");
        assertTrue(new RandomApply(0.0, (img, rnd) -> null).apply(x, r) == x, "p = 0 never applies");
    }

    @Test
    void jitterDrawsEveryOrderAndFactorsInTheirRanges() {
        ColorJitter cj = new ColorJitter(0.4, 0.4, 0.2, 0.1);
        SplittableRandom r = new SplittableRandom(5);
        Map<String, Integer> orders = new HashMap<>();
        double sumHue = 0;
        for (int k = 0; k < 24_000; k++) {
            ColorJitter.Params p = cj.sample(r);
            orders.merge(java.util.Arrays.toString(p.order()), 1, Integer::sum);
            assertTrue(p.brightness() >= 0.6 && p.brightness() <= 1.4, "brightness " + p.brightness());
            assertTrue(p.contrast() >= 0.6 && p.contrast() <= 1.4, "contrast " + p.contrast());
            assertTrue(p.saturation() >= 0.8 && p.saturation() <= 1.2, "saturation " + p.saturation());
            assertTrue(p.hue() >= -0.1 && p.hue() <= 0.1, "hue " + p.hue());
            sumHue += p.hue();
        }
        assertEquals(24, orders.size(), orders.toString());
        for (int n : orders.values()) assertTrue(Math.abs(n - 1000) < 150, "an order drawn " + n + " times of 24000");
        assertEquals(0, sumHue / 24_000, 0.002);
        ColorJitter.Params gray = new ColorJitter(0.4, 0.4, 0, 0).sample(r);
        assertTrue(Double.isNaN(gray.saturation()) && Double.isNaN(gray.hue()) && !Double.isNaN(gray.brightness()), gray.toString());
        // a strength above 1 clamps the lower bound at 0
        ColorJitter strong = new ColorJitter(1.5, 0, 0, 0);
        for (int k = 0; k < 1000; k++) assertTrue(strong.sample(r).brightness() >= 0);
    }

    @Test
    void blurSigmaInRangeAndKernelSizes() {
        GaussianBlur b = GaussianBlur.moby(224);
        assertEquals(23, b.kernelSize());
        assertEquals(3, GaussianBlur.kernelFor(32));
        assertEquals(7, GaussianBlur.kernelFor(64));
        SplittableRandom r = new SplittableRandom(6);
        double sum = 0;
        for (int k = 0; k < DRAWS; k++) {
            double s = b.sample(r);
            assertTrue(s >= 0.1 && s <= 2.0, "sigma " + s);
            sum += s;
        }
        assertEquals(1.05, sum / DRAWS, 0.02);
    }
}
