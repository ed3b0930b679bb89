package mobyc.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Gemms;

/**
 * This machine's sgemm rate as the cpu backend gets it, measured in the process that asks: n x n x n products on
 * {@link Gemms#best()} (the GEMM the cpu backend uses, on its pool) over shared-arena operands, so that a benchmark
 * can quote its rate against the machine's in one run (a shared, noisy machine changes both from minute to minute).
 */
record SgemmPeak(int n, double gflops, int runs) {
    /** Median GFLOP/s of n^3 products run back to back for about {@code seconds} (at least 5), after up to a second of warm-up. */
    static SgemmPeak measure(int n, double seconds) {
        try (Meter m = new Meter(n)) {
            m.burst(Math.min(1, seconds), 1);
            return m.burst(seconds, 5);
        }
    }

    /**
     * n^3 products on operands prepared once, run in bursts: a benchmark interleaves them with its own steps, so that
     * each step is compared with the sgemm of the same moment.
     */
    static final class Meter implements AutoCloseable {
        private final Gemm g = Gemms.best();
        private final Arena arena = Arena.ofShared();
        private final int n;
        private final MemorySegment a, b, c;

        Meter(int n) {
            this.n = n;
            long cells = (long) n * n;
            a = arena.allocate(cells * Float.BYTES, 64);
            b = arena.allocate(cells * Float.BYTES, 64);
            c = arena.allocate(cells * Float.BYTES, 64);
            for (long i = 0; i < cells; i++) {
                a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.25f - 0.75f);
                b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 5) * 0.5f - 1f);
            }
        }

        /** Median GFLOP/s of products run back to back for about {@code seconds}, at least {@code atLeast} of them. */
        SgemmPeak burst(double seconds, int atLeast) {
            List<Double> rates = new ArrayList<>();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (rates.size() < atLeast || System.nanoTime() < end) {
                long t = System.nanoTime();
                g.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                rates.add(2.0 * n * n * n / (System.nanoTime() - t));
            }
            Collections.sort(rates);
            return new SgemmPeak(n, rates.get(rates.size() / 2), rates.size());
        }

        @Override public void close() { arena.close(); }
    }
}
