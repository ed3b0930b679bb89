package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * The one worker pool of the cpu backend, sized to the machine ({@code -Dmobyc.threads=N} overrides). Kernels
 * split work over it; nothing creates threads per op. The pool never grows past its parallelism: a plain
 * {@code ForkJoinPool(n)} adds a spare worker whenever one waits in a join it cannot help with (it did so at once
 * here, 3 workers for n = 2), and a spare that runs kernels next to the others puts more threads than cores on
 * a kernel whose parts all have to finish.
 */
public final class CpuPool {
    public static final String PROPERTY = "mobyc.threads";

    private CpuPool() {}

    private static final class Holder {
        static final ForkJoinPool POOL = bounded(threadsFromProperty());
    }

    /** A pool of exactly {@code n} workers: no spares (a join that cannot help waits), idle workers kept 60 s. */
    static ForkJoinPool bounded(int n) {
        return new ForkJoinPool(n, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, false, 0, n, 1, pool -> true,
                60, TimeUnit.SECONDS);
    }

    static int threadsFromProperty() {
        String s = System.getProperty(PROPERTY);
        int n = Runtime.getRuntime().availableProcessors();
        if (s != null) {
            try {
                n = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + s + " is not a thread count");
            }
            if (n <= 0) throw new IllegalArgumentException("-D" + PROPERTY + " must be positive, got " + n);
        }
        return n;
    }

    public static ForkJoinPool pool() { return Holder.POOL; }

    /** Whether the pool's workers may read and write {@code s}: not so for a segment of a confined arena. */
    public static boolean reachable(MemorySegment s) { return s.isAccessibleBy(ANY_OTHER_THREAD); }

    /** A thread that never runs: a segment it may access is one the pool's workers may access too. */
    private static final Thread ANY_OTHER_THREAD = Thread.ofPlatform().unstarted(() -> {});

    public static int threads() { return pool().getParallelism(); }
}
