package mobyc.runtime.cpu.gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight's gradient with fewer rows than columns, C = A^T B (A stored k x m, B stored k x n, m &lt; n, k
 * long), computed as its transpose C^T = B^T A into scratch and written into C transposed. The blocked loops pack
 * B into micro-panels of NR columns (a re-layout, several copies a k step) and reuse each panel for only m / MR
 * tiles; swapped, the wide operand is the k-major A block, packed as it lies (one copy a k step, or one for the
 * block), and each B panel serves n / MR tiles. Every element of C is the same sum in the same order either way (the
 * micro-kernel's multiply-adds are symmetric in a and b, and the k blocks and slices depend on k alone), so the
 * bits do not change. Measured in one JVM alternating the two (2 threads, 36 pairs): C = [32768 x 48]^T [32768 x 192]
 * 143 -> 239 GFLOP/s, [8192 x 96]^T [8192 x 384] 203 -> 237; in the MoBY small32 step, one JVM alternating steps with and without (30 pairs), the step 2% faster.
 * The transposition is m n scalar moves, so only products with a long k go this way (at k = 2048, 192 x 768 gained
 * nothing).
 */
final class TransposedProduct {
    private TransposedProduct() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Shortest k worth the transposition (m n moves against m n k multiply-adds). */
    static final int MIN_K = 4096;

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /**
     * Whether {@code o} goes through its transpose: A^T B into a fresh C (no alpha, which the packed A carries, so
     * that the products round alike; no bias, epilogue or beta), m &lt; n, k long.
     */
    static boolean pays(Operands o) {
        return o.transA() && !o.transB() && o.m() < o.n() && o.k() >= MIN_K && o.alpha() == 1f && o.beta() == 0f
                && o.bias() == null && o.then() == null;
    }

    /** The product C^T = B^T A of {@code o} into dense scratch [n][m] of the calling thread. */
    static Operands transposed(Operands o) {
        int m = o.m(), n = o.n();
        MemorySegment t = BUFFERS.get().segment((long) m * n);
        return new Operands(true, false, n, m, o.k(), o.alpha(), o.b(), o.bOffset(), o.ldb(), o.a(), o.aOffset(), o.lda(),
                0f, t, 0, m, null, null, o.sums() == null ? null : new KSums(o.sums().acc(), !o.sums().ofB()));
    }

    /** C[i][j] = t[j][i]: the transposed product {@code t} (from {@link #transposed}) into o's C. */
    static void store(Operands t, Operands o) {
        int m = o.m(), n = o.n();
        Buffers b = BUFFERS.get();
        float[] all = b.floats(m * n), row = b.row(n);
        MemorySegment.copy(t.c(), F, 0, all, 0, m * n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) row[j] = all[j * m + i];
            MemorySegment.copy(row, 0, o.c(), F, (o.cOffset() + (long) i * o.ldc()) * Float.BYTES, n);
        }
    }

    /** One thread's scratch, grown to the largest product it has transposed. */
    private static final class Buffers {
        private MemorySegment segment = MemorySegment.NULL;
        private float[] floats = new float[0], row = new float[0];

        MemorySegment segment(long floats) {
            if (segment.byteSize() < floats * Float.BYTES) segment = Arena.ofAuto().allocate(floats * Float.BYTES, 64);
            return segment;
        }

        float[] floats(int n) { return floats = Grow.floats(floats, n); }

        float[] row(int n) { return row = Grow.floats(row, n); }
    }
}
