package mobyc.runtime.cpu;

import java.util.concurrent.RecursiveAction;

/**
 * Splits a range of work items over {@link CpuPool}. Ranges too small to be worth a task run inline on the
 * caller. Kernels that combine partial results split by fixed sizes, never by thread count, so their results do
 * not depend on the machine.
 */
final class Parallel {
    private Parallel() {}

    /** Elements of simple work below which splitting does not pay. */
    static final long GRAIN = 1 << 15;

    /** A body that handles items [from, to). */
    @FunctionalInterface
    interface Range {
        void run(long from, long to);
    }

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code minChunk} items, on the pool when there are
     * several chunks and several threads.
     */
    static void forRange(long n, long minChunk, Range body) {
        if (n <= 0) return;
        int threads = CpuPool.threads();
        long chunks = Math.min(ceilDiv(n, Math.max(1, minChunk)), 4L * threads);
        if (threads <= 1 || chunks <= 1) {
            body.run(0, n);
            return;
        }
        switch (Team.mode()) {
            case TEAM -> Team.forEach((int) chunks, c -> body.run(n * c / chunks, n * (c + 1) / chunks));
            case SERIAL -> body.run(0, n);
            case POOL -> CpuPool.pool().invoke(new Split(body, 0, n, chunks));
        }
    }

    /** Items of {@code itemCost} elements each, split so that every chunk has about {@link #GRAIN} elements. */
    static void forItems(long n, long itemCost, Range body) {
        forRange(n, Math.max(1, GRAIN / Math.max(1, itemCost)), body);
    }

    static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    private static final class Split extends RecursiveAction {
        private final Range body;
        private final long from, to, chunks;

        Split(Range body, long from, long to, long chunks) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (chunks <= 1) {
                body.run(from, to);
                return;
            }
            long left = chunks / 2, mid = from + (to - from) * left / chunks;
            invokeAll(new Split(body, from, mid, left), new Split(body, mid, to, chunks - left));
        }
    }
}
