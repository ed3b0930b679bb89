package mobyc.data.aug;

import java.util.random.RandomGenerator;

/**
 * One step of an augmentation pipeline: it draws whatever parameters it needs from {@code random} (the way
 * torchvision 0.14 draws them) and applies them. Each primitive also offers its math on explicit parameters, so
 * that tests can compare it with torchvision on fixed values. Implementations are immutable and thread-safe; the
 * generator belongs to one sample and one view (see {@code TwoViewLoader}), so results never depend on threads.
 */
@FunctionalInterface
public interface Transform {
    /** The transformed image; never writes into {@code img}. */
    Image apply(Image img, RandomGenerator random);
}
