package mobyc.runtime.cpu.gemm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses the kernel family of a DYNAMIC_ARCH OpenBLAS before it loads, through its {@code OPENBLAS_CORETYPE}
 * environment variable. OpenBLAS picks its kernels by CPU model, and a release older than the CPU does not know it:
 * 0.3.21 (Debian 12) runs a Zen 5 with AVX-512 on its Haswell (AVX2) kernels, at about half the sgemm rate
 * (measured here, 2 threads: 1024^3 at 170 GFLOP/s on Haswell kernels, 260-310 on SkylakeX kernels; the
 * [16384 x 48] x [48 x 192] product of small32's MLP at 110-160 against 200-270). So where the CPU has the AVX-512
 * subsets SkylakeX's kernels use (F, CD, BW, DQ, VL), this asks for them; an OpenBLAS that knows the CPU picks the
 * same or better AVX-512 kernels anyway, and one built for a single target ignores the variable.
 * <p>{@code -Dmobyc.openblas.coretype=auto} (the default) does that; {@code =none} leaves OpenBLAS to choose;
 * any other value is passed as it is (OpenBLAS names: Haswell, SkylakeX, Cooperlake, Zen, ...). A variable already
 * set in the environment always wins: the user set it.
 */
final class OpenBlasCore {
    static final String PROPERTY = "mobyc.openblas.coretype";
    static final String VARIABLE = "OPENBLAS_CORETYPE";
    /** The AVX-512 subsets OpenBLAS's SkylakeX kernels need. */
    static final Set<String> SKYLAKEX_FLAGS = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

    private static final System.Logger LOG = System.getLogger(OpenBlasCore.class.getName());

    private OpenBlasCore() {}

    /** The core type to ask for, given the property's value and the CPU's flags; empty to leave OpenBLAS alone. */
    static Optional<String> choose(String property, Set<String> cpuFlags) {
        String p = property == null ? "auto" : property.strip();
        if (p.isEmpty() || p.equalsIgnoreCase("auto"))
            return cpuFlags.containsAll(SKYLAKEX_FLAGS) ? Optional.of("SkylakeX") : Optional.empty();
        if (p.equalsIgnoreCase("none")) return Optional.empty();
        return Optional.of(p);
    }

    /** The flags of the first processor in {@code /proc/cpuinfo}; empty where there is none (not Linux, x86). */
    static Set<String> cpuFlags(Path cpuinfo) {
        try {
            List<String> lines = Files.readAllLines(cpuinfo);
            for (String line : lines) {
                if (!line.startsWith("flags")) continue;
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                return Set.of(line.substring(colon + 1).strip().split("\\s+"));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "openblas: {0} not read: {1}", cpuinfo, e.toString());
        }
        return Set.of();
    }

    /**
     * Sets {@code OPENBLAS_CORETYPE} for this process (libc {@code setenv}, never overwriting) when {@link #choose}
     * says so; call before the library is first loaded. Returns what the variable holds afterwards, if anything.
     */
    @SuppressWarnings("restricted") // setenv through the FFM API: OpenBLAS reads the variable when it loads
    static Optional<String> apply() {
        String already = System.getenv(VARIABLE);
        if (already != null) return Optional.of(already);
        Optional<String> core = choose(System.getProperty(PROPERTY), cpuFlags(Path.of("/proc/cpuinfo")));
        if (core.isEmpty()) return core;
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> setenv = linker.defaultLookup().find("setenv");
        if (setenv.isEmpty()) return Optional.empty();
        MethodHandle h = linker.downcallHandle(setenv.get(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) h.invokeExact(arena.allocateFrom(VARIABLE), arena.allocateFrom(core.get()), 0);
            if (rc != 0) return Optional.empty();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, "openblas: setenv {0} failed: {1}", VARIABLE, t.toString());
            return Optional.empty();
        }
        LOG.log(System.Logger.Level.DEBUG, "openblas: {0}={1} (CPU has AVX-512)", VARIABLE, core.get());
        return core;
    }
}
