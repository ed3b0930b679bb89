package mobyc.data.aug;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmentTest {
    static Image random(int c, int h, int w, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[c * h * w];
        for (int i = 0; i < d.length; i++) d[i] = r.nextInt(256) / 255f;
        return new Image(c, h, w, d);
    }

    @Test
    void mobyRgbIsTheReferencePipeline() {
        Augment.Views v = Augment.mobyRgb(224);
        RandomResizedCrop crop = new RandomResizedCrop(224, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, false);
        ColorJitter jitter = new ColorJitter(0.4, 0.4, 0.2, 0.1);
        GaussianBlur blur = new GaussianBlur(23, 0.1, 2.0);
        assertEquals(List.of(crop, new HorizontalFlip(0.5), new RandomApply(0.8, jitter), new Grayscale(0.2), new RandomApply(1.0, blur)),
                v.view1().steps());
        assertEquals(List.of(crop, new HorizontalFlip(0.5), new RandomApply(0.8, jitter), new Grayscale(0.2), new RandomApply(0.1, blur),
                new RandomApply(0.2, new Solarize(0.5))), v.view2().steps());
        Normalize imagenet = new Normalize(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
        assertEquals(imagenet, v.view1().normalize());
        assertEquals(imagenet, v.view2().normalize());
        assertEquals(224, v.view1().size());
    }

    @Test
    void mobyGrayIsTheDocumentedAdaptation() {
        Augment.Views v = Augment.mobyGray(28, 0.2860f, 0.3530f);
        RandomResizedCrop crop = RandomResizedCrop.of(28, 0.2, 1.0);
        ColorJitter jitter = new ColorJitter(0.4, 0.4, 0, 0);
        assertEquals(List.of(crop, new HorizontalFlip(0.5), new RandomApply(0.8, jitter)), v.view1().steps());
        assertEquals(List.of(crop, new HorizontalFlip(0.5), new RandomApply(0.8, jitter), new RandomApply(0.2, Solarize.MOBY)), v.view2().steps());
        assertEquals(Normalize.of(0.2860f, 0.3530f), v.view1().normalize());
    }

    @Test
    void viewsHaveTheirSizeAndTheSameGeneratorGivesTheSameView() {
        Image rgb = random(3, 45, 61, 1);
        Augment.Views v = Augment.mobyRgb(32);
        for (Augment a : List.of(v.view1(), v.view2())) {
            Image once = a.apply(rgb, new SplittableRandom(9)), again = a.apply(rgb, new SplittableRandom(9));
            assertEquals("3x32x32", once.sizeString());
            assertArrayEquals(once.data(), again.data());
            assertFalse(Arrays.equals(once.data(), a.apply(rgb, new SplittableRandom(10)).data()));
        }
        Image gray = random(1, 28, 28, 2);
        for (Augment a : List.of(Augment.mobyGray(28, 0.286f, 0.353f).view1(), Augment.mobyGray(28, 0.286f, 0.353f).view2()))
            assertEquals("1x28x28", a.apply(gray, new SplittableRandom(3)).sizeString());
    }

    @Test
    void augmentedValuesStayInTheUnitRangeBeforeNormalising() {
        Image rgb = random(3, 40, 40, 4);
        Augment v2 = Augment.mobyRgb(24).view2();
        SplittableRandom r = new SplittableRandom(5);
        for (int k = 0; k < 50; k++)
            for (float f : v2.augment(rgb, r).data()) assertTrue(f >= 0 && f <= 1, "value " + f);
    }

    @Test
    void evalTransforms() {
        Image photo = random(3, 300, 400, 6);
        Image e = Augment.evalRgb(224).apply(photo, null);
        assertEquals("3x224x224", e.sizeString());
        assertEquals(256, ResizeCenterCrop.forSize(224).resize());
        // resize 300x400 -> 256x341, centre crop 224: rows 16.., columns 58..
        Image resized = Resize.shorterSide(photo, 256, true);
        assertEquals("3x256x341", resized.sizeString());
        Image expected = Normalize.IMAGENET.apply(Resize.crop(resized, 16, 58, 224, 224));
        assertArrayEquals(expected.data(), e.data());
        Image small = random(1, 28, 28, 7);
        Image g = Augment.evalGray(0.5f, 0.25f).apply(small, null);
        for (int i = 0; i < g.data().length; i++) assertEquals((small.data()[i] - 0.5f) / 0.25f, g.data()[i]);
    }

    @Test
    void singleChannelImagesIgnoreColourAdjustments() {
        Image x = random(1, 5, 6, 8);
        assertSame(x, ColorJitter.saturation(x, 1.3));
        assertSame(x, ColorJitter.hue(x, 0.2));
        assertSame(x, Grayscale.apply(x));
        assertFalse(Arrays.equals(x.data(), ColorJitter.brightness(x, 1.3).data()));
        assertFalse(Arrays.equals(x.data(), ColorJitter.contrast(x, 0.5).data()));
    }

    @Test
    void blurReflectsBeyondSmallImagesAndKeepsConstants() {
        float[] ones = new float[3 * 4 * 5];
        Arrays.fill(ones, 0.25f);
        Image flat = new Image(3, 4, 5, ones);
        Image b = GaussianBlur.blur(flat, 23, 2.0); // padding 11 > 4: torch refuses, here reflection continues
        for (float f : b.data()) assertEquals(0.25f, f, 1e-6f);
        assertEquals(0, GaussianBlur.reflect(0, 5));
        assertEquals(1, GaussianBlur.reflect(-1, 5));
        assertEquals(3, GaussianBlur.reflect(5, 5));
        assertEquals(2, GaussianBlur.reflect(-6, 5));
        assertEquals(0, GaussianBlur.reflect(7, 1));
    }

    @Test
    void badParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new GaussianBlur(4, 0.1, 2));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(8, 0.5, 0.2, 0.75, 1.33, false));
        assertThrows(IllegalArgumentException.class, () -> new ColorJitter(0.4, 0.4, 0.2, 0.6));
        assertThrows(IllegalArgumentException.class, () -> ColorJitter.hue(random(3, 2, 2, 1), 0.7));
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new float[] {0.5f}, new float[] {0}));
        assertThrows(IllegalArgumentException.class, () -> Normalize.IMAGENET.apply(random(2, 2, 2, 1)));
        assertThrows(IllegalArgumentException.class, () -> new ColorJitter.Params(new int[] {0, 1, 1, 3}, 1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Image(3, 2, 2, new float[11]));
    }
}
