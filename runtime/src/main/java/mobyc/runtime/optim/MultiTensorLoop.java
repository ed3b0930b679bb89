package mobyc.runtime.optim;

import java.util.List;
import mobyc.runtime.Tensor;
import mobyc.runtime.cpu.CpuPool;
import mobyc.runtime.cpu.Team;

/**
 * One parallel dispatch over the elements of many tensors, as if they were laid end to end: the concatenated range
 * is cut into chunks of {@link #CHUNK} elements (a fixed size, never the thread count, so anything combined per
 * chunk is the same on every machine), chunks run over {@link CpuPool}, and each chunk calls the body once for
 * every piece of a tensor it covers. Small steps (one chunk, or one thread) run inline on the caller.
 */
final class MultiTensorLoop {
    /** Elements per chunk: large enough to amortise a task, small enough to balance a few big tensors. */
    static final long CHUNK = 1 << 16;

    /** Elements [from, to) of tensor {@code tensor}. */
    @FunctionalInterface
    interface Piece {
        void run(int tensor, long from, long to);
    }

    /** A piece that returns a partial sum. */
    @FunctionalInterface
    interface SumPiece {
        double run(int tensor, long from, long to);
    }

    private final long[] start;

    MultiTensorLoop(List<Tensor> tensors) { this(tensors.stream().mapToLong(Tensor::numel).toArray()); }

    /** Over tensors of {@code sizes[i]} elements. */
    MultiTensorLoop(long[] sizes) {
        start = new long[sizes.length + 1];
        for (int i = 0; i < sizes.length; i++) start[i + 1] = start[i] + sizes[i];
    }

    /** Over the parameters of {@code groups}, in step order. */
    static MultiTensorLoop of(ParamGroups groups) {
        long[] sizes = new long[groups.size()];
        for (int i = 0; i < sizes.length; i++) sizes[i] = Tensor.checkedNumel(groups.entry(i).shapeRef());
        return new MultiTensorLoop(sizes);
    }

    long total() { return start[start.length - 1]; }

    int chunks() { return (int) ((total() + CHUNK - 1) / CHUNK); }

    /** Runs {@code body} on every piece of every tensor, chunks in parallel. */
    void forEach(Piece body) { forEachChunk(c -> chunk(c, body)); }

    /** The sum of {@code body} over every piece: partial sums per chunk, added in chunk order (deterministic). */
    double sum(SumPiece body) {
        double[] partial = new double[chunks()];
        forEachChunk(c -> {
            double[] s = {0};
            chunk(c, (t, from, to) -> s[0] += body.run(t, from, to));
            partial[c] = s[0];
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    private void forEachChunk(java.util.function.IntConsumer chunk) {
        int n = chunks();
        if (n <= 1 || CpuPool.threads() <= 1) {
            for (int c = 0; c < n; c++) chunk.accept(c);
            return;
        }
        Team.run(n, chunk);
    }

    /** The pieces of chunk {@code c}, in tensor order. */
    private void chunk(int c, Piece body) {
        long from = c * CHUNK, to = Math.min(total(), from + CHUNK);
        int t = java.util.Arrays.binarySearch(start, from);
        t = t >= 0 ? t : -t - 2;
        for (long at = from; at < to; t++) {
            if (start[t + 1] <= at) continue; // empty tensor
            long end = Math.min(to, start[t + 1]);
            body.run(t, at - start[t], end - start[t]);
            at = end;
        }
    }
}
