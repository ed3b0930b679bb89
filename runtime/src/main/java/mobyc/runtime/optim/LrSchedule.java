package mobyc.runtime.optim;

/**
 * A learning rate per training step t (0-based, counted over the whole run).
 *
 * <p>{@link #warmupCosine} is the MoBY reference's schedule, timm's {@code CosineLRScheduler} as Swin/MoBY
 * configure it (per step, one cycle, no warmup prefix):
 * <pre>
 *   t &lt; W:       warmup_lr + t * ((lr_max - warmup_lr) / W)
 *   W &lt;= t &lt; T:  min_lr + 0.5 * (lr_max - min_lr) * (1 + cos(pi * t / T))
 *   t &gt;= T:      min_lr                       (timm's cycle limit of 1)
 * </pre>
 * The warmup term is evaluated in timm's order (the per-step increment first), which can differ from
 * {@code t * (lr_max - warmup_lr) / W} in the last bit. Learning rates are scaled with {@link #scaled}.
 */
public sealed interface LrSchedule permits LrSchedule.Constant, LrSchedule.WarmupCosine {
    /** The reference batch size of MoBY's linear scaling rule. */
    int REFERENCE_BATCH = 512;

    /** The learning rate of step {@code t >= 0}. */
    double at(long t);

    /** The linear scaling rule: {@code base * globalBatch / 512} (also for the warmup and minimum rates). */
    static double scaled(double base, int globalBatch) {
        if (globalBatch <= 0) throw new IllegalArgumentException("global batch must be positive: " + globalBatch);
        return base * globalBatch / (double) REFERENCE_BATCH;
    }

    static LrSchedule constant(double lr) { return new Constant(lr); }

    /** Linear warmup over {@code warmupSteps} steps from {@code warmupLr}, then cosine from {@code lrMax} to {@code minLr} at {@code totalSteps}. */
    static LrSchedule warmupCosine(double lrMax, double warmupLr, double minLr, long warmupSteps, long totalSteps) {
        return new WarmupCosine(lrMax, warmupLr, minLr, warmupSteps, totalSteps);
    }

    /** The same rate at every step. */
    record Constant(double lr) implements LrSchedule {
        public Constant {
            if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0: " + lr);
        }

        @Override public double at(long t) {
            checkStep(t);
            return lr;
        }
    }

    /** Linear warmup then half a cosine, as documented on {@link LrSchedule}. */
    record WarmupCosine(double lrMax, double warmupLr, double minLr, long warmupSteps, long totalSteps)
            implements LrSchedule {
        public WarmupCosine {
            for (double v : new double[] {lrMax, warmupLr, minLr})
                if (!(v >= 0) || Double.isInfinite(v))
                    throw new IllegalArgumentException("learning rates must be finite and >= 0: " + lrMax + ", " + warmupLr + ", " + minLr);
            if (totalSteps <= 0 || warmupSteps < 0 || warmupSteps > totalSteps)
                throw new IllegalArgumentException("need 0 <= warmup steps <= total steps and total steps > 0: "
                        + warmupSteps + ", " + totalSteps);
        }

        @Override public double at(long t) {
            checkStep(t);
            if (t < warmupSteps) return warmupLr + t * ((lrMax - warmupLr) / warmupSteps);
            if (t >= totalSteps) return minLr;
            return minLr + 0.5 * (lrMax - minLr) * (1 + Math.cos(Math.PI * t / totalSteps));
        }
    }

    private static void checkStep(long t) {
        if (t < 0) throw new IllegalArgumentException("step must be >= 0: " + t);
    }
}
