package mobyc.runtime.cpu.gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ForkJoinTask;
import mobyc.runtime.cpu.CpuPool;
import mobyc.runtime.cpu.Gemm;

/**
 * {@code cblas_sgemm} of OpenBLAS through the FFM API. The library is looked up as {@code -Dmobyc.openblas=PATH}
 * when set, else by the loader's names {@code libopenblas.so.0} and {@code libopenblas.so}. OpenBLAS is set to one
 * thread at load ({@code openblas_set_num_threads(1)}): the backend has one pool, {@link CpuPool}, and a large
 * product called from outside it is split here into row (or column) blocks over that pool, one single-threaded
 * sgemm per block; a product called from a pool worker (one of a batch) runs whole. OpenBLAS's own threads would
 * spin between calls and take the cores from the pool's elementwise kernels. Before the first load,
 * {@link OpenBlasCore} asks a DYNAMIC_ARCH build for its AVX-512 kernels where the CPU has them and the library
 * might not know the CPU. Heap segments are passed through a
 * critical downcall (no copy); off-heap ones through an ordinary one.
 */
public final class OpenBlasGemm implements Gemm {
    public static final String PROPERTY = "mobyc.openblas";
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final System.Logger LOG = System.getLogger(OpenBlasGemm.class.getName());

    private final String library;
    private final MethodHandle sgemm;
    private final MethodHandle sgemmHeap;

    private OpenBlasGemm(String library, MethodHandle sgemm, MethodHandle sgemmHeap) {
        this.library = library;
        this.sgemm = sgemm;
        this.sgemmHeap = sgemmHeap;
    }

    /** OpenBLAS when the library and its {@code cblas_sgemm} are found; empty otherwise, never an exception. */
    @SuppressWarnings("restricted") // library lookup and downcall: the point of this class
    public static Optional<OpenBlasGemm> load() {
        Optional<String> coreType = OpenBlasCore.apply();
        for (String candidate : candidates()) {
            try {
                SymbolLookup lookup = candidate.contains("/")
                        ? SymbolLookup.libraryLookup(Path.of(candidate), Arena.global())
                        : SymbolLookup.libraryLookup(candidate, Arena.global());
                Optional<MemorySegment> symbol = lookup.find("cblas_sgemm");
                if (symbol.isEmpty()) continue;
                ValueLayout I = ValueLayout.JAVA_INT, F = ValueLayout.JAVA_FLOAT, P = ValueLayout.ADDRESS;
                FunctionDescriptor d = FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, P, I, P, I, F, P, I);
                Linker linker = Linker.nativeLinker();
                singleThreaded(lookup, linker, candidate);
                return Optional.of(new OpenBlasGemm(candidate + coreType.map(c -> " (" + OpenBlasCore.VARIABLE + "=" + c + ")").orElse(""),
                        linker.downcallHandle(symbol.get(), d),
                        linker.downcallHandle(symbol.get(), d, Linker.Option.critical(true))));
            } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
                LOG.log(System.Logger.Level.DEBUG, "openblas: {0} not loaded: {1}", candidate, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Calls openblas_set_num_threads(1) where the library has it (a reference BLAS has no threads to set). */
    private static void singleThreaded(SymbolLookup lookup, Linker linker, String library) {
        Optional<MemorySegment> set = lookup.find("openblas_set_num_threads");
        if (set.isEmpty()) return;
        try {
            linker.downcallHandle(set.get(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(1);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "openblas: {0}: openblas_set_num_threads failed: {1}", library, t.toString());
        }
    }

    private static List<String> candidates() {
        List<String> names = new ArrayList<>();
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            String p = property.strip();
            // A bare name goes to the loader; a path must exist, or libraryLookup throws.
            if (!p.contains("/") || Files.isRegularFile(Path.of(p))) names.add(p);
            return names;
        }
        names.add("libopenblas.so.0");
        names.add("libopenblas.so");
        return names;
    }

    /** The library name or path that was loaded. */
    public String library() { return library; }

    @Override public String name() { return "openblas"; }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        GemmArgs.check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0) return;
        int threads = CpuPool.threads();
        if (threads > 1 && (double) m * n * k >= SPLIT_FLOPS && !ForkJoinTask.inForkJoinPool()) {
            int slices = KSplit.slices(m, n, k);
            if (slices > 1) {
                splitK(slices, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
                return;
            }
            boolean byRows = m >= n || n < 2 * BLOCK;
            int extent = byRows ? m : n, blocks = Math.min(4 * threads, Math.max(1, extent / BLOCK));
            if (blocks > 1) {
                List<ForkJoinTask<?>> parts = new ArrayList<>(blocks);
                for (int i = 0; i < blocks; i++) {
                    int from = (int) ((long) extent * i / blocks), to = (int) ((long) extent * (i + 1) / blocks);
                    parts.add(ForkJoinTask.adapt(byRows
                            ? () -> call(transA, transB, to - from, n, k, alpha, a, aOffset + (long) from * (transA ? 1 : lda), lda,
                                    b, bOffset, ldb, beta, c, cOffset + (long) from * ldc, ldc)
                            : () -> call(transA, transB, m, to - from, k, alpha, a, aOffset, lda,
                                    b, bOffset + (long) from * (transB ? ldb : 1), ldb, beta, c, cOffset + from, ldc)));
                }
                CpuPool.pool().invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(parts)));
                return;
            }
        }
        call(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    private static final ThreadLocal<MemorySegment[]> PARTIALS = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    /**
     * C = alpha op(A) op(B) + beta C with k cut into {@code slices} equal slices over the pool: slice 0 goes into C
     * with beta, the others into dense scratch products, which are then added to C in slice order.
     */
    private void splitK(int slices, boolean transA, boolean transB, int m, int n, int k, float alpha,
                        MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                        float beta, MemorySegment c, long cOffset, int ldc) {
        long cells = (long) m * n;
        MemorySegment[] holder = PARTIALS.get();
        if (holder[0].byteSize() < (slices - 1) * cells * Float.BYTES)
            holder[0] = Arena.ofAuto().allocate((slices - 1) * cells * Float.BYTES, 64);
        MemorySegment partial = holder[0];
        List<ForkJoinTask<?>> parts = new ArrayList<>(slices);
        for (int s = 0; s < slices; s++) {
            int from = (int) ((long) k * s / slices), to = (int) ((long) k * (s + 1) / slices);
            long aAt = aOffset + (long) from * (transA ? lda : 1), bAt = bOffset + (long) from * (transB ? 1 : ldb);
            long at = (s - 1) * cells;
            parts.add(ForkJoinTask.adapt(s == 0
                    ? () -> call(transA, transB, m, n, to - from, alpha, a, aAt, lda, b, bAt, ldb, beta, c, cOffset, ldc)
                    : () -> call(transA, transB, m, n, to - from, alpha, a, aAt, lda, b, bAt, ldb, 0f, partial, at, n)));
        }
        CpuPool.pool().invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(parts)));
        for (int i = 0; i < m; i++) {
            long row = cOffset + (long) i * ldc;
            for (int j = 0; j < n; j++) {
                float sum = c.getAtIndex(ValueLayout.JAVA_FLOAT, row + j);
                for (int s = 1; s < slices; s++) sum += partial.getAtIndex(ValueLayout.JAVA_FLOAT, (s - 1) * cells + (long) i * n + j);
                c.setAtIndex(ValueLayout.JAVA_FLOAT, row + j, sum);
            }
        }
    }

    /** Products below this many multiply-adds run as one call. */
    private static final double SPLIT_FLOPS = 1 << 18;
    /** The smallest block of rows (or columns) worth a call of its own. */
    private static final int BLOCK = 16;

    private void call(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        MemorySegment as = a.asSlice(aOffset * Float.BYTES), bs = b.asSlice(bOffset * Float.BYTES);
        MemorySegment cs = c.asSlice(cOffset * Float.BYTES);
        boolean heap = !a.isNative() || !b.isNative() || !c.isNative();
        try {
            (heap ? sgemmHeap : sgemm).invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS,
                    m, n, k, alpha, as, lda, bs, ldb, beta, cs, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }
}
