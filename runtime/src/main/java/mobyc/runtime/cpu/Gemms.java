package mobyc.runtime.cpu;

import java.util.Optional;
import mobyc.runtime.cpu.gemm.OpenBlasGemm;
import mobyc.runtime.cpu.gemm.ScalarGemm;
import mobyc.runtime.cpu.gemm.VectorGemm;

/**
 * Finds the sgemm to use, once: {@code -Dmobyc.gemm=vector|openblas|scalar} when set; else the Vector API kernel
 * when it can run ({@code jdk.incubator.vector} in the boot layer, preferred vector of 128 bits or more); else
 * OpenBLAS when it loads; else the scalar loop. One log line (DEBUG) says which and why.
 */
public final class Gemms {
    public static final String PROPERTY = "mobyc.gemm";
    private static final System.Logger LOG = System.getLogger(Gemms.class.getName());
    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    private static volatile Gemm best;

    private Gemms() {}

    /** The sgemm chosen at first use, by {@value #PROPERTY} or by what this JVM and machine offer. */
    public static Gemm best() {
        Gemm g = best;
        if (g != null) return g;
        synchronized (Gemms.class) {
            if (best == null) {
                String property = System.getProperty(PROPERTY);
                String why;
                Gemm chosen;
                if (property != null && !property.isBlank()) {
                    chosen = named(property.strip());
                    why = "from -D" + PROPERTY;
                } else {
                    // The Vector API kernel wherever it runs: in a small32 MoBY step it beat OpenBLAS on every product
                    // shape (forward 105-213 against 70-130 GFLOP/s; weight gradients, both cut along k, 102-152
                    // against 96-107), and it adds a bias as it stores C. OpenBLAS where the Vector API cannot run.
                    String vectorWhy = vectorUnusable();
                    Optional<Gemm> blas = vectorWhy == null ? Optional.empty() : openblas();
                    if (vectorWhy == null) {
                        chosen = vector();
                        why = "Vector API " + VectorGemm.describe();
                    } else if (blas.isPresent()) {
                        chosen = blas.get();
                        why = "OpenBLAS found (" + ((OpenBlasGemm) chosen).library() + "); " + vectorWhy;
                    } else {
                        chosen = scalar();
                        why = "no OpenBLAS; " + vectorWhy;
                    }
                }
                LOG.log(System.Logger.Level.DEBUG, "sgemm: {0} ({1})", chosen.name(), why);
                best = chosen;
            }
            return best;
        }
    }

    /** The sgemm called {@code name}; an unknown or unavailable one is an error saying what exists. */
    public static Gemm named(String name) {
        return switch (name) {
            case "vector" -> vector();
            case "scalar" -> scalar();
            case "openblas" -> openblas().orElseThrow(() -> new IllegalArgumentException(
                    "-D" + PROPERTY + "=openblas: libopenblas was not found (set -D" + OpenBlasGemm.PROPERTY
                            + "=PATH)"));
            default -> throw new IllegalArgumentException(
                    "unknown sgemm '" + name + "' (-D" + PROPERTY + "); known: vector, openblas, scalar");
        };
    }

    /** The Vector API kernel on {@link CpuPool}; needs {@code --add-modules jdk.incubator.vector}. */
    public static Gemm vector() {
        String why = vectorUnusable();
        if (why != null) throw new UnsupportedOperationException("vector sgemm: " + why);
        return VectorHolder.GEMM;
    }

    public static Gemm scalar() { return ScalarHolder.GEMM; }

    /** OpenBLAS's cblas_sgemm when the library loads; looked up once. */
    public static Optional<Gemm> openblas() { return OpenBlasHolder.GEMM; }

    /** Why the Vector API kernel cannot run here, or null when it can. */
    private static String vectorUnusable() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty())
            return "module " + VECTOR_MODULE + " absent (add --add-modules " + VECTOR_MODULE + ")";
        int bits = VectorBits.preferred();
        if (bits < 128) return "preferred vector is " + bits + " bits, too narrow to beat the scalar loop";
        return null;
    }

    /** Touches jdk.incubator.vector only when the module is known to be present. */
    private static final class VectorBits {
        static int preferred() { return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(); }
    }

    private static final class VectorHolder { static final Gemm GEMM = new VectorGemm(); }

    private static final class ScalarHolder { static final Gemm GEMM = new ScalarGemm(); }

    private static final class OpenBlasHolder {
        static final Optional<Gemm> GEMM = OpenBlasGemm.load().map(g -> g);
    }
}
