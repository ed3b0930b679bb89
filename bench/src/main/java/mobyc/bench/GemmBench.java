package mobyc.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Gemms;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * sgemm of the Vector API kernel against OpenBLAS, {@code C = A * B} (no transposes, beta 0), at square sizes and at
 * the linears of Swin-T blocks. A shape {@code MxKxN} is A of M x K times B of K x N:
 * <ul>
 *   <li>stage 1, 56x56 = 3136 tokens, dim 96: qkv {@code 3136x96x288}, fc1 {@code 3136x96x384},
 *       fc2 {@code 3136x384x96};</li>
 *   <li>stage 3, 14x14 = 196 tokens per image, dim 384, batch 1 and 8 (1568 tokens): qkv {@code 196x384x1152},
 *       fc1 {@code 196x384x1536}, fc2 {@code 196x1536x384}, and the same with 1568 rows.</li>
 * </ul>
 * The score is calls per second; the {@code gflop} secondary result is GFLOP/s directly, counting {@code 2*M*N*K}
 * floating-point operations per call: {@code GFLOP/s = 2*M*N*K * (calls/s) / 1e9}. Both run with all the machine's
 * threads (the vector kernel on {@code CpuPool}, OpenBLAS on its own), each in its own fork so that neither one's
 * idle spinning threads disturb the other.
 * <p>Run: {@code bench/run-jmh GemmBench} or {@code bench/gemm-vs-openblas}. Where libopenblas is absent the
 * openblas rows fail in setup saying so; {@code -p impl=vector} leaves them out (the script does that itself).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class GemmBench {
    @Param({"vector", "openblas"}) public String impl;

    @Param({"256x256x256", "512x512x512", "1024x1024x1024",
            "3136x96x288", "3136x96x384", "3136x384x96",
            "196x384x1152", "196x384x1536", "196x1536x384",
            "1568x384x1152", "1568x384x1536", "1568x1536x384"})
    public String shape;

    private int m, n, k;
    private double gflopPerCall;
    private Gemm gemm;
    private Arena arena;
    private MemorySegment a, b, c;

    /** GFLOP/s as a secondary result: JMH divides the per-iteration sum by the iteration's time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;

        @Setup(Level.Iteration) public void reset() { gflop = 0; }
    }

    @Setup public void setup() {
        String[] mkn = shape.split("x");
        m = Integer.parseInt(mkn[0]);
        k = Integer.parseInt(mkn[1]);
        n = Integer.parseInt(mkn[2]);
        gflopPerCall = 2.0 * m * n * k / 1e9;
        gemm = switch (impl) {
            case "openblas" -> Gemms.openblas().orElseThrow(() -> new IllegalStateException(
                    "openblas: libopenblas not found (-Dmobyc.openblas=PATH); run with -p impl=vector to skip it"));
            default -> Gemms.named(impl);
        };
        arena = Arena.ofShared();
        a = random(arena, (long) m * k, 1);
        b = random(arena, (long) k * n, 2);
        c = arena.allocate((long) m * n * Float.BYTES, 64);
    }

    private static MemorySegment random(Arena arena, long count, long seed) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        Random r = new Random(seed);
        for (long i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, r.nextFloat() - 0.5f);
        return s;
    }

    @TearDown public void tearDown() { arena.close(); }

    @Benchmark public MemorySegment sgemm(Flops flops) {
        gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        flops.gflop += gflopPerCall;
        return c;
    }
}
