package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenBlasCoreTest {
    private static final Set<String> ZEN5 = Set.of("fma", "avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16");
    private static final Set<String> AVX2_ONLY = Set.of("fma", "avx", "avx2");

    @Test void autoAsksForSkylakeXKernelsOnlyWhereTheCpuHasTheirAvx512Subsets() {
        assertEquals(Optional.of("SkylakeX"), OpenBlasCore.choose(null, ZEN5));
        assertEquals(Optional.of("SkylakeX"), OpenBlasCore.choose(" auto ", ZEN5));
        assertEquals(Optional.empty(), OpenBlasCore.choose("auto", AVX2_ONLY));
        assertEquals(Optional.empty(), OpenBlasCore.choose(null, Set.of("avx512f", "avx512cd"))); // no BW/DQ/VL
        assertEquals(Optional.empty(), OpenBlasCore.choose(null, Set.of()));
    }

    @Test void noneLeavesOpenBlasAloneAndANameIsPassedThrough() {
        assertEquals(Optional.empty(), OpenBlasCore.choose("none", ZEN5));
        assertEquals(Optional.of("Haswell"), OpenBlasCore.choose("Haswell", ZEN5));
        assertEquals(Optional.of("Zen"), OpenBlasCore.choose(" Zen", AVX2_ONLY));
    }

    @Test void readsTheFlagsOfProcCpuinfo(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                flags\t\t: fpu sse2 avx2 avx512f avx512cd avx512bw avx512dq avx512vl
                bugs\t\t: sysret_ss_attrs

                processor\t: 1
                flags\t\t: fpu
                """);
        assertEquals(Set.of("fpu", "sse2", "avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"),
                OpenBlasCore.cpuFlags(cpuinfo));
        assertEquals(Set.of(), OpenBlasCore.cpuFlags(dir.resolve("absent")));
    }
}
