package mobyc.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.Initializers;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Elementwise chains of the MoBY step at small32 shapes ([64, 16, 16, 192]) on the cpu backend, fused into one
 * generated kernel or run op by op ({@code -Dmobyc.fuse=none} while compiling):
 * <ul>
 *   <li>{@code bias_gelu}: gelu(x + b), b [192] (the MLP's first Linear bias and activation);</li>
 *   <li>{@code residual_scale}: x + y * gamma, gamma [192] (a residual add with a per-channel scale);</li>
 *   <li>{@code gelu_grad}: dy * (0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)) (GELU's backward).</li>
 * </ul>
 * Each chain ends in a sum over the channels (the same reduction kernel in both variants).
 * Run: bench/run-jmh FusionBench -f 1 -wi 2 -i 3
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class FusionBench {
    @Param({"bias_gelu", "residual_scale", "gelu_grad"}) String chain;
    @Param({"true", "false"}) boolean fused;

    Executable exe;
    ParameterStore store;
    final Map<String, Tensor> inputs = new LinkedHashMap<>();

    static Graph graph(String chain) {
        GraphBuilder b = new GraphBuilder(chain);
        Shape s = Shape.of(64, 16, 16, 192);
        Node x = b.input("x", DType.F32, s), y = b.input("y", DType.F32, s);
        Node c = b.param("c", DType.F32, Shape.of(192), new Init.Normal(0, 1));
        Node out = switch (chain) {
            case "bias_gelu" -> b.unary(Op.UnaryFn.GELU, b.add(x, c));
            case "residual_scale" -> b.add(x, b.mul(y, c));
            case "gelu_grad" -> {
                Node cdf = b.mul(b.constant(0.5, DType.F32), b.add(b.constant(1, DType.F32),
                        b.unary(Op.UnaryFn.ERF, b.mul(x, b.constant(Math.sqrt(0.5), DType.F32)))));
                Node pdf = b.mul(b.unary(Op.UnaryFn.EXP, b.mul(b.mul(x, x), b.constant(-0.5, DType.F32))), b.constant(1 / Math.sqrt(2 * Math.PI), DType.F32));
                yield b.mul(y, b.add(cdf, b.mul(x, pdf)));
            }
            default -> throw new IllegalArgumentException(chain);
        };
        // consumed by a row sum, as the step's chains feed a GEMM or a norm: the benchmark then times the kernels and
        // not the allocation of a 50 MB output per run (outputs are fresh tensors, temporaries are pooled)
        b.output("out", b.reduce(Op.ReduceFn.SUM, out, new int[] {3}, false));
        return b.build();
    }

    @Setup(Level.Trial) public void setup() {
        Graph g = graph(chain);
        exe = Pipeline.with(fused ? "all" : "none", () -> Backends.select("cpu").compile(Lower.lower(g)));
        store = ParameterStore.initialise(g, 0);
        for (String name : new String[] {"x", "y"}) {
            Tensor t = Tensor.zeros(DType.F32, 64, 16, 16, 192);
            Initializers.fill(t, new Init.Normal(0, 1), 0, "bench/" + name);
            inputs.put(name, t);
        }
    }

    @Benchmark public Map<String, Tensor> run() { return exe.run(inputs, store, new RunContext(0, 0)); }
}
