package mobyc.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.ir.Init;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.Initializers;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
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
 * Forward of the example Swin block (dim 32, 8x8, window 4, shifted) on the reference executor, and the time to
 * compile it from source: the baseline later backends and the fusing compiler are measured against.
 * Run: bench/run-jmh InterpForwardBench
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class InterpForwardBench {
    @Param({"2"}) int batch;

    static final Map<String, Value> SWIN = Map.of("dim", new Value.IntV(32), "heads", new Value.IntV(2),
            "window", new Value.IntV(4), "shift", new Value.IntV(2),
            "resolution", new Value.ListV(List.of(new Value.IntV(8), new Value.IntV(8))));

    Executable exe;
    ParameterStore store;
    Map<String, Tensor> inputs;

    static Frontend.Built compile() {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(Path.of(System.getProperty("mobyc.home", "."), "models/swin.moby")), d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, Frontend.Request.forward("SwinBlock", SWIN));
        if (b == null) throw new IllegalStateException(d.format());
        return b;
    }

    @Setup public void setup() {
        Frontend.Built b = compile();
        exe = Backends.select("interp").compile(Lower.lower(b.graph()));
        store = ParameterStore.initialise(b.graph(), 0);
        Tensor x = Tensor.zeros(mobyc.compiler.ir.DType.F32, batch, 8, 8, 32);
        Initializers.fill(x, new Init.Normal(0, 1), 0, "bench/x");
        inputs = Map.of("x", x);
    }

    @Benchmark public Map<String, Tensor> swinBlockForward() { return exe.run(inputs, store, new RunContext(0, 0)); }

    @Benchmark public Object compileSwinBlock() { return compile().graph(); }
}
