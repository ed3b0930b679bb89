package mobyc.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import mobyc.runtime.cpu.CpuMath;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cpu backend's transcendental loops ({@link CpuMath}) on one thread over the 3.1M floats of small32's
 * largest GELU ([64, 16, 16, 192]), inputs N(0, 1): the kernel alone, without the op's output allocation or its
 * split across threads. Run: bench/run-jmh CpuMathBench -f 1 -wi 3 -i 5
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class CpuMathBench {
    @Param({"gelu", "erf", "tanh", "exp"}) String fn;

    static final int N = 64 * 16 * 16 * 192;
    MemorySegment x, y;

    @Setup
    public void setup() {
        Arena arena = Arena.ofAuto();
        x = arena.allocate(4L * N, 64);
        y = arena.allocate(4L * N, 64);
        Random r = new Random(1);
        for (int i = 0; i < N; i++) x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
    }

    @Benchmark
    public long run() {
        return switch (fn) {
            case "gelu" -> CpuMath.gelu(x, y, 0, N);
            case "erf" -> CpuMath.erf(x, y, 0, N);
            case "tanh" -> CpuMath.tanh(x, y, 0, N);
            default -> CpuMath.exp(x, y, 0, N);
        };
    }
}
