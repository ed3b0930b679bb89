package mobyc.runtime.cpu;

import java.util.Arrays;
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
     * several chunks and several threads. On a team the chunks shrink as the range is used up ({@link #guided}).
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
            case TEAM -> {
                long[] at = guided(n, Math.max(1, minChunk / TAIL), threads);
                Team.forEach(at.length - 1, c -> body.run(at[c], at[c + 1]));
            }
            case SERIAL -> body.run(0, n);
            case POOL -> CpuPool.pool().invoke(new Split(body, 0, n, chunks));
        }
    }

    /** How much smaller than {@code minChunk} the last chunks of a guided schedule may be. */
    static final int TAIL = 4;

    /**
     * Bounds of chunks of [0, n) taken in order by {@code threads} threads: each is a {@code 1 / (2 threads)} share
     * of what is left, and never under {@code floor} items. Equal chunks leave the thread that finishes first
     * waiting, on average, half a chunk for the other's last one (5-12% of a small32 step's loops, measured);
     * shrinking chunks end the loop on a small one, and the first ones are large so that there are few.
     */
    static long[] guided(long n, long floor, int threads) {
        long[] at = new long[8];
        int count = 0;
        for (long from = 0; from < n; ) {
            long size = Math.max(floor, ceilDiv(n - from, 2L * threads));
            if (count + 2 > at.length) at = Arrays.copyOf(at, at.length * 2);
            at[++count] = from = Math.min(n, from + size);
        }
        return Arrays.copyOf(at, count + 1);
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
