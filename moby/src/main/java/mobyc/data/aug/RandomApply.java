package mobyc.data.aug;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * torchvision's {@code RandomApply([t], p)}: applies {@code transform} with probability {@code p}. One uniform draw
 * {@code u} in [0, 1) decides; the transform runs when {@code u < p} (torchvision skips when {@code p < u}: the same
 * but for {@code u == p}, so {@code p = 0} never and {@code p = 1} always applies here). The transform draws its own
 * parameters only when it runs.
 */
public record RandomApply(double p, Transform transform) implements Transform {
    public RandomApply {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("probability " + p + " is outside [0, 1]");
        Objects.requireNonNull(transform, "transform");
    }

    @Override
    public Image apply(Image img, RandomGenerator random) {
        return random.nextDouble() < p ? transform.apply(img, random) : img;
    }

    @Override public String toString() { return "RandomApply(p=" + p + ", " + transform + ")"; }
}
