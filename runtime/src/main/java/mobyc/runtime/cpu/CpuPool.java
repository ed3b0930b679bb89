package mobyc.runtime.cpu;

import java.util.concurrent.ForkJoinPool;

/**
 * The one worker pool of the cpu backend, sized to the machine ({@code -Dmobyc.threads=N} overrides). Kernels
 * split work over it; nothing creates threads per op.
 */
public final class CpuPool {
    public static final String PROPERTY = "mobyc.threads";

    private CpuPool() {}

    private static final class Holder {
        static final ForkJoinPool POOL = new ForkJoinPool(threadsFromProperty());
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

    public static int threads() { return pool().getParallelism(); }
}
