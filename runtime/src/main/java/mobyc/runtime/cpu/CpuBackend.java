package mobyc.runtime.cpu;

import java.util.Objects;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Backend;
import mobyc.runtime.Executable;

/**
 * The default backend (rank 10): the program kernel by kernel like interp, each kernel a Vector API loop split
 * over {@link CpuPool}, contractions on the {@link Gemm} of {@link Gemms#best()}, results within a few ulps of
 * interp's and the same bits on every run (see {@link Simd} for how). It is always available: without the
 * {@code jdk.incubator.vector} module (the launcher and the build add it) every kernel runs on the interp kernels,
 * its scalar twin, and the executable says so in one log line at compile time; so do the few kernels with no cpu
 * form (i32 reductions and matmul, see {@link CpuKernels#fast}). Select interp instead with
 * {@code -Dmobyc.backend=interp} or {@code --backend interp}. Before lowering it runs the compiler's backend
 * passes ({@link Pipeline#backend}: transposes folded into GEMMs, fused kernels), which interp never sees.
 */
public final class CpuBackend implements Backend {
    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    private final Gemm gemm;

    /** The backend ServiceLoader makes: the GEMM is {@link Gemms#best()}, chosen at the first compile. */
    public CpuBackend() { this.gemm = null; }

    /** A backend on a given GEMM (tests use the scalar one as an oracle). */
    public CpuBackend(Gemm gemm) { this.gemm = Objects.requireNonNull(gemm, "gemm"); }

    @Override public String name() { return "cpu"; }

    @Override public int rank() { return 10; }

    @Override public boolean isAvailable() { return true; }

    /** Whether the Vector API is in this JVM, so that the vectorised kernels can run. */
    static boolean vectorApiPresent() { return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent(); }

    @Override
    public Executable compile(Program p) {
        for (Program.Buffer b : p.buffers())
            if (!b.dtype().isExecutable())
                throw new IllegalArgumentException("cpu runs f32 and i32 tensors; buffer " + b.id()
                        + (b.name() != null ? " (" + b.name() + ")" : "") + " is " + b.dtype());
        Graph fused = Pipeline.backend(p.graph());
        Program q = fused == p.graph() ? p : Lower.lower(fused);
        if (vectorApiPresent()) CpuFused.prepare(q); // all fused kernels of the program in one javac task, or from the caches
        return new CpuExecutable(q, gemm != null ? gemm : Gemms.best(), vectorApiPresent());
    }
}
