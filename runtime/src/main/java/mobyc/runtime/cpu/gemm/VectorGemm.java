package mobyc.runtime.cpu.gemm;

import static mobyc.runtime.cpu.gemm.MicroKernel.MR;
import static mobyc.runtime.cpu.gemm.MicroKernel.NR;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import mobyc.runtime.cpu.CpuPool;
import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Team;

/**
 * Blocked sgemm on the Vector API, after BLIS/GotoBLAS. Loops, outermost first:
 * <pre>
 *   jc over N by NC        B panel (KC x NC) packed once per (jc, pc), lives in L3
 *     pc over K by KC
 *       ic over M by MC    A block (MC x KC) packed, lives in L2
 *         jr over NC by NR B micro-panel (KC x NR) stays in L1 across the ir loop
 *           ir over MC by MR   {@link MicroKernel}: MR x NR tile of C in registers
 * </pre>
 * Transposed operands and alpha are absorbed by {@link Packing}; a beta other than 0 or 1 scales C up front, so C
 * is only ever overwritten (first k block, beta 0) or added to. The packed blocks and the tile the kernel writes are
 * Java arrays, and C is written by bulk copies from the tile (see {@link MicroKernel} for why). The C output is
 * split into rectangles for the workers of {@link CpuPool} (along M or N, whichever wastes less; by rows, up to
 * {@link #ROW_PARTS} per thread, taken by whoever is free), and each runs the loops above on its rectangle with its
 * own packing buffers, allocated once per thread and reused. A product with a small C and a long k (a weight's
 * gradient) is cut along k instead ({@link #splitK}); one with fewer rows than columns is computed as its transpose
 * ({@link TransposedProduct}). Small products, and operands in a confined arena, run on the
 * calling thread.
 * <p>Block sizes default to values measured on a 2-core AMD EPYC (Zen 5, AVX-512); {@code -Dmobyc.gemm.kc},
 * {@code .mc} and {@code .nc} override them.
 */
public final class VectorGemm implements Gemm {
    static final int KC = blockSize("kc", 512, 1);
    static final int MC = blockSize("mc", 192, MR);
    static final int NC = blockSize("nc", 3072, NR);
    /** Below this many multiply-adds (m*n*k) the call stays on the calling thread. */
    static final long PARALLEL_MIN = 1L << 21;
    /**
     * Columns of C the kernel's tiles are gathered in before they are stored (a whole number of micro-panels): one
     * bulk copy a row of the strip instead of one a row of every tile (a tile of a k = 48 product is a few hundred
     * nanoseconds of arithmetic, and a copy costs tens).
     */
    static final int STRIP = 8 * NR;
    /** Row parts per thread, at most, when C is split by rows. */
    static final int ROW_PARTS = 8;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final ForkJoinPool pool;

    public VectorGemm() { this(CpuPool.pool()); }

    /** A VectorGemm splitting its work over {@code pool} (tests use a pool of one to check the serial path). */
    public VectorGemm(ForkJoinPool pool) { this.pool = pool; }

    @Override public String name() { return "vector"; }

    /** Human-readable kernel and block sizes, for logs and benchmark reports. */
    public static String describe() {
        return "kernel " + MR + "x" + NR + " (" + MicroKernel.S.vectorBitSize() + "-bit), KC=" + KC + " MC=" + MC
                + " NC=" + NC;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        GemmArgs.check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0) return;
        run(new Operands(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, null));
    }

    /** The kernel starts each tile of the first k block from the bias: C is written once. */
    @Override
    public void sgemmBias(boolean transA, boolean transB, int m, int n, int k,
                          MemorySegment a, long aOffset, int lda,
                          MemorySegment b, long bOffset, int ldb,
                          MemorySegment bias, long biasOffset, MemorySegment c, long cOffset, int ldc) {
        GemmArgs.checkBias(n, bias, biasOffset);
        GemmArgs.check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0) return;
        float[] row = new float[roundUp(n, NR)]; // whole tiles: the kernel starts its accumulators from it
        MemorySegment.copy(bias, F, biasOffset * Float.BYTES, row, 0, n);
        run(new Operands(transA, transB, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, 0f, c, cOffset, ldc, row));
    }

    /** {@code then} is applied to each block of C right after its last k block is stored (on the worker that stored it). */
    @Override
    public void sgemmThen(boolean transA, boolean transB, int m, int n, int k, float alpha,
                          MemorySegment a, long aOffset, int lda,
                          MemorySegment b, long bOffset, int ldb,
                          MemorySegment bias, long biasOffset, float beta, MemorySegment c, long cOffset, int ldc,
                          Epilogue then) {
        GemmArgs.check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0) return;
        float[] row = null;
        if (bias != null) {
            GemmArgs.checkBias(n, bias, biasOffset);
            row = new float[roundUp(n, NR)];
            MemorySegment.copy(bias, F, biasOffset * Float.BYTES, row, 0, n);
            alpha = 1f;
            beta = 0f;
        }
        run(new Operands(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, row, then));
    }

    /** The sums of A's columns are added up from A's packed blocks ({@link KSums}): A is read once for both. */
    @Override
    public void sgemmColumnSums(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                MemorySegment c, long cOffset, int ldc, MemorySegment sums, long sumsOffset) {
        GemmArgs.check(true, false, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (n == 0 || k == 0) { // no blocks to add up
            Gemm.super.sgemmColumnSums(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, sums, sumsOffset);
            return;
        }
        if (m == 0) return;
        KSums s = new KSums(new double[m], false);
        run(new Operands(true, false, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, 0f, c, cOffset, ldc, null, null, s));
        for (int i = 0; i < m; i++) sums.setAtIndex(F, sumsOffset + i, (float) s.acc()[i]);
    }

    private void run(Operands o) {
        if (TransposedProduct.pays(o)) {
            Operands t = TransposedProduct.transposed(o);
            run(t);
            TransposedProduct.store(t, o);
            return;
        }
        int m = o.m(), n = o.n(), k = o.k();
        if (o.then() != null && (k == 0 || o.alpha() == 0f || KSplit.slices(m, n, k) > 1)) { // no last k block to store it with
            run(o.withoutEpilogue());
            o.then().apply(o.c(), o.cOffset(), m, n, o.ldc());
            return;
        }
        if (k == 0 || o.alpha() == 0f) {
            scale(o, 0, m, 0, n);
            return;
        }
        MemorySegment a = o.a(), b = o.b(), c = o.c();
        int threads = pool.getParallelism();
        boolean serial = threads == 1 || confined(a) || confined(b) || confined(c);
        int slices = KSplit.slices(m, n, k);
        if (slices > 1) { // by shape alone, on one thread too: the same sums whatever the thread count
            splitK(o, slices, serial ? 1 : threads);
            return;
        }
        if (serial || (long) m * n * k < PARALLEL_MIN) {
            rectangle(o, 0, m, 0, n);
            return;
        }
        List<Part> parts = split(o, threads);
        if (parts.size() == 1) rectangle(o, 0, m, 0, n);
        else runAll(sharingB(o, parts, ownScratch()), threads);
    }

    /**
     * Whether the calling thread may pack a shared B into its own scratch: not when it is a worker of this GEMM's pool
     * that will wait on the parts by ForkJoin's join (runAll's pool path), which may run another of the pool's tasks,
     * another product, on this thread meanwhile.
     */
    private boolean ownScratch() {
        boolean poolPath = pool != CpuPool.pool() || Team.mode() == Team.Mode.POOL;
        return !(poolPath && Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool);
    }

    /**
     * Parts that split C by rows alone all pack the same blocks of B: when op(B) packed is at most
     * {@link #SHARED_B_FLOATS}, the calling thread packs it once and every part reads that copy. Row parts number up
     * to 8 per thread, so a forward Linear's weight was otherwise packed (and, stored transposed, transposed) 16 times.
     */
    private static List<Part> sharingB(Operands o, List<Part> parts, boolean ownScratch) {
        for (Part p : parts) if (p.j0 != 0 || p.j1 != o.n()) return parts;
        if ((long) roundUp(o.n(), NR) * o.k() > SHARED_B_FLOATS) return parts;
        Scratch s = SCRATCH.get();
        int floats = 0;
        for (int jc = 0; jc < o.n(); jc += NC) floats += roundUp(Math.min(NC, o.n() - jc), NR) * o.k();
        // this thread's scratch (the parts are done before it packs the next product's), or a fresh array (ownScratch)
        float[] packed = ownScratch ? s.shared(floats) : new float[floats];
        float[] stage = s.stage(Packing.stageFloats(Math.min(KC, o.k()), Math.min(NC, o.n())));
        int at = 0;
        for (int jc = 0; jc < o.n(); jc += NC) {
            int nc = Math.min(NC, o.n() - jc);
            for (int pc = 0; pc < o.k(); pc += KC) {
                int kc = Math.min(KC, o.k() - pc);
                Packing.packB(o, pc, kc, jc, nc, packed, at, stage);
                if (o.sums() != null && o.sums().ofB()) o.sums().addPanels(packed, at, kc, nc, jc);
                at += roundUp(nc, NR) * kc;
            }
        }
        List<Part> shared = new ArrayList<>(parts.size());
        for (Part p : parts) shared.add(new Part(o, p.i0, p.i1, p.j0, p.j1, packed));
        return shared;
    }

    /** The most floats of packed B that row parts share (8 MB): beyond, B's own blocks outweigh packing them per part. */
    static final int SHARED_B_FLOATS = 1 << 21;

    /** Runs every part, on the pool's workers and the calling thread. */
    private void runAll(List<Part> parts, int threads) {
        Team.Mode mode = pool == CpuPool.pool() ? Team.mode() : Team.Mode.POOL;
        if (mode == Team.Mode.SERIAL) {
            parts.forEach(Part::compute);
        } else if (mode == Team.Mode.TEAM) {
            Team.forEach(parts.size(), i -> parts.get(i).compute());
        } else if (Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool) {
            ForkJoinTask.invokeAll(parts);
        } else {
            // The caller would only wait: it takes rectangles too, so one fewer worker must wake. Rectangles are
            // taken in order by whoever is free, so a worker held up (by the GC, the JIT) costs only its own share.
            AtomicInteger next = new AtomicInteger();
            Runnable drain = () -> {
                for (int i; (i = next.getAndIncrement()) < parts.size(); ) parts.get(i).compute();
            };
            List<ForkJoinTask<?>> helpers = new ArrayList<>(threads - 1);
            for (int t = 1; t < Math.min(threads, parts.size()); t++) helpers.add(pool.submit(drain));
            drain.run();
            for (ForkJoinTask<?> h : helpers) h.join();
        }
    }

    private static final ThreadLocal<MemorySegment[]> PARTIALS = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    /**
     * A product with a small C and a long k (a weight's gradient) cut into {@code slices} slices of k
     * ({@link KSplit}, from the shape alone): slice 0 goes into C with beta and the bias, the others
     * into dense scratch products, which are then added to C in slice order, so the sums do not depend on the
     * thread count. Split along C instead, every thread would read all of A and B.
     */
    private void splitK(Operands o, int slices, int threads) {
        int m = o.m(), n = o.n(), k = o.k();
        long cells = (long) m * n;
        MemorySegment[] holder = PARTIALS.get();
        if (holder[0].byteSize() < (slices - 1) * cells * Float.BYTES)
            holder[0] = Arena.ofAuto().allocate((slices - 1) * cells * Float.BYTES, 64);
        MemorySegment partial = holder[0];
        List<Part> parts = new ArrayList<>(slices);
        KSums[] sums = new KSums[slices]; // slice 0 adds into the product's own, the others each into fresh ones
        for (int s = 0; s < slices; s++) {
            sums[s] = o.sums() == null || s == 0 ? o.sums() : o.sums().fresh();
            int from = (int) ((long) k * s / slices), to = (int) ((long) k * (s + 1) / slices);
            long aAt = o.aOffset() + from * o.aColStride(), bAt = o.bOffset() + from * o.bRowStride();
            Operands slice = s == 0
                    ? new Operands(o.transA(), o.transB(), m, n, to - from, o.alpha(), o.a(), aAt, o.lda(), o.b(), bAt, o.ldb(),
                            o.beta(), o.c(), o.cOffset(), o.ldc(), o.bias(), null, sums[s])
                    : new Operands(o.transA(), o.transB(), m, n, to - from, o.alpha(), o.a(), aAt, o.lda(), o.b(), bAt, o.ldb(),
                            0f, partial, (s - 1) * cells, n, null, null, sums[s]);
            parts.add(new Part(slice, 0, m, 0, n));
        }
        if (threads == 1) parts.forEach(Part::compute);
        else runAll(parts, threads);
        for (int s = 1; s < slices && o.sums() != null; s++) o.sums().addAll(sums[s]);
        float[] row = new float[n], add = new float[n];
        for (int i = 0; i < m; i++) {
            long at = (o.cOffset() + (long) i * o.ldc()) * Float.BYTES;
            MemorySegment.copy(o.c(), F, at, row, 0, n);
            for (int s = 1; s < slices; s++) {
                MemorySegment.copy(partial, F, ((s - 1) * cells + (long) i * n) * Float.BYTES, add, 0, n);
                int j = 0;
                for (; j <= n - MicroKernel.S.length(); j += MicroKernel.S.length())
                    FloatVector.fromArray(MicroKernel.S, row, j).add(FloatVector.fromArray(MicroKernel.S, add, j)).intoArray(row, j);
                for (; j < n; j++) row[j] += add[j];
            }
            MemorySegment.copy(row, 0, o.c(), F, at, n);
        }
    }

    /** Segments of a confined arena are only readable by their owner: such calls stay on the calling thread. */
    private static boolean confined(MemorySegment s) { return !CpuPool.reachable(s); }

    /** One worker's rectangle of C: rows [i0, i1), columns [j0, j1). */
    private static final class Part extends RecursiveAction {
        final Operands o;
        final int i0, i1, j0, j1;
        /** All of op(B) packed, shared by parts that span every column ({@link #sharingB}), or null: the part packs its own. */
        final float[] packedB;

        Part(Operands o, int i0, int i1, int j0, int j1) { this(o, i0, i1, j0, j1, null); }

        Part(Operands o, int i0, int i1, int j0, int j1, float[] packedB) {
            this.o = o;
            this.i0 = i0;
            this.i1 = i1;
            this.j0 = j0;
            this.j1 = j1;
            this.packedB = packedB;
        }

        @Override protected void compute() { rectangle(o, i0, i1, j0, j1, packedB); }
    }

    /**
     * Splits C into {@code tm x tn} rectangles, {@code tm * tn <= threads}, choosing the grid whose largest
     * rectangle (rounded up to whole micro-tiles, plus its share of packing) is smallest. A split by rows alone
     * is cut further, into up to {@link #ROW_PARTS} parts per thread of at least MC rows each: the parts are
     * shared out as threads come free, so one slow thread does not hold up the whole product.
     */
    static List<Part> split(Operands o, int threads) {
        int mTiles = ceilDiv(o.m(), MR), nTiles = ceilDiv(o.n(), NR);
        long best = Long.MAX_VALUE;
        int bestM = 1, bestN = 1;
        for (int tm = 1; tm <= threads; tm++) {
            int tn = Math.min(threads / tm, nTiles);
            if (tm > mTiles) break;
            long rows = (long) ceilDiv(mTiles, tm) * MR, cols = (long) ceilDiv(nTiles, tn) * NR;
            long cost = rows * cols * o.k() + (rows + cols) * o.k();
            if (cost < best) {
                best = cost;
                bestM = tm;
                bestN = tn;
            }
        }
        if (bestN == 1) bestM = Math.max(bestM, Math.min(ROW_PARTS * threads, o.m() / MC));
        List<Part> parts = new ArrayList<>(bestM * bestN);
        int mPer = ceilDiv(mTiles, bestM) * MR, nPer = ceilDiv(nTiles, bestN) * NR;
        for (int i = 0; i < o.m(); i += mPer)
            for (int j = 0; j < o.n(); j += nPer)
                parts.add(new Part(o, i, Math.min(o.m(), i + mPer), j, Math.min(o.n(), j + nPer)));
        return parts;
    }

    /** The blocked loops over one rectangle of C, on the calling thread's packing buffers. */
    static void rectangle(Operands o, int i0, int i1, int j0, int j1) { rectangle(o, i0, i1, j0, j1, null); }

    /**
     * The blocked loops over one rectangle of C; B's blocks from {@code sharedB} (every column of op(B) packed, the
     * (jc, pc) blocks in loop order) when not null.
     */
    static void rectangle(Operands o, int i0, int i1, int j0, int j1, float[] sharedB) {
        Scratch s = SCRATCH.get();
        int kcMax = Math.min(KC, o.k()), mcMax = Math.min(MC, i1 - i0), ncMax = Math.min(NC, j1 - j0);
        float[] packedA = s.a(Packing.aFloats(mcMax, kcMax));
        float[] packedB = sharedB != null ? sharedB : s.b(roundUp(ncMax, NR) * kcMax);
        float[] stage = sharedB != null ? null : s.stage(Packing.stageFloats(kcMax, ncMax));
        int bAt = 0; // where the current block of B starts in packedB
        int width = Math.min(roundUp(ncMax, NR), STRIP);
        float[] strip = s.strip(roundUp(mcMax, MR) * width);
        // The kernel only adds to C or overwrites it: other betas scale C first. Alpha goes into the packed A.
        boolean overwrite = o.beta() == 0f;
        if (!overwrite && o.beta() != 1f) scale(o, i0, i1, j0, j1);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < o.k(); pc += KC) {
                int kc = Math.min(KC, o.k() - pc);
                boolean accumulate = pc > 0 || !overwrite;
                if (sharedB == null) {
                    Packing.packB(o, pc, kc, jc, nc, packedB, stage);
                    if (o.sums() != null && o.sums().ofB() && i0 == 0) o.sums().addPanels(packedB, 0, kc, nc, jc);
                }
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    Packing.packA(o, ic, mc, pc, kc, packedA);
                    if (o.sums() != null && !o.sums().ofB() && j0 == 0 && jc == j0) o.sums().addRuns(packedA, kc, mc, ic);
                    Packing.ALayout la = Packing.aLayout(o, mc, kc);
                    // Strips of up to STRIP columns: every tile of a strip, then the strip into C, a row at a time.
                    for (int jw = 0; jw < nc; jw += width) {
                        int cols = Math.min(width, nc - jw);
                        for (int jr = jw; jr < jw + cols; jr += NR) {
                            int bPanel = bAt + (jr / NR) * kc * NR;
                            for (int ir = 0; ir < mc; ir += MR)
                                MicroKernel.kernel(packedA, (ir / MR) * la.panel(), la.step(), la.row(), packedB, bPanel, kc,
                                        strip, ir * width + jr - jw, width, accumulate ? null : o.bias(), jc + jr);
                        }
                        long corner = o.cOffset() + (long) ic * o.ldc() + jc + jw;
                        MicroKernel.store(strip, width, mc, cols, o.c(), corner, o.ldc(), accumulate, s.row);
                        if (o.then() != null && pc + kc >= o.k()) o.then().apply(o.c(), corner, mc, cols, o.ldc());
                    }
                }
                if (sharedB != null) bAt += roundUp(nc, NR) * kc;
            }
        }
    }

    /**
     * {@code C = beta*C} over rows [i0, i1) and columns [j0, j1); zero when beta is 0 (NaN in C does not survive),
     * or the bias when there is one.
     */
    private static void scale(Operands o, int i0, int i1, int j0, int j1) {
        float beta = o.beta();
        for (int i = i0; i < i1; i++) {
            long row = o.cOffset() + (long) i * o.ldc();
            for (int j = j0; j < j1; j++) {
                long at = row + j;
                o.c().setAtIndex(F, at, o.bias() != null ? o.bias()[j] : beta == 0f ? 0f : beta * o.c().getAtIndex(F, at));
            }
        }
    }
    /**
     * One thread's packing buffers, grown to the largest blocks this thread has packed (at most MC x KC and
     * KC x NC, and B shared by its row parts) and then reused; collected with the thread.
     */
    private static final class Scratch {
        private final float[] row = new float[STRIP];
        private float[] a = new float[0], b = new float[0], stage = new float[0], strip = new float[0], shared = new float[0];

        float[] shared(int floats) { return shared = Grow.floats(shared, floats); }

        float[] strip(int floats) { return strip = Grow.floats(strip, floats); }
        float[] a(int floats) { return a = Grow.floats(a, floats); }
        float[] b(int floats) { return b = Grow.floats(b, floats); }
        float[] stage(int floats) { return stage = Grow.floats(stage, floats); }
    }

    private static int blockSize(String key, int fallback, int multiple) {
        String s = System.getProperty("mobyc.gemm." + key);
        int v = fallback;
        if (s != null) {
            try {
                v = Integer.parseInt(s.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-Dmobyc.gemm." + key + "=" + s + " is not a block size");
            }
        }
        if (v <= 0) throw new IllegalArgumentException("-Dmobyc.gemm." + key + " must be positive, got " + v);
        return roundUp(v, multiple);
    }

    private static int ceilDiv(int x, int y) { return (x + y - 1) / y; }

    private static int roundUp(int x, int y) { return ceilDiv(x, y) * y; }
}
