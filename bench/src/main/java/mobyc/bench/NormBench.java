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
 * The cpu backend's LayerNorm (forward, input and parameter gradients), GELU/erf and bias-gradient kernels, one op
 * each, at the MoBY small32 step's shapes: layer_norm, layer_norm_grad and layer_norm_param_grad on
 * [64, 16, 16, 48], gelu and erf on [64, 16, 16, 192], and the column sums of [64, 16, 16, 48] and [64, 16, 16, 144]
 * that Linear's bias gradients are ({@code bias_grad48}, {@code bias_grad144}; {@code -Dmobyc.fuse=none} while
 * compiling, so the op runs as its own kernel). Each op feeds a sum over its last axis so that the run does not
 * allocate a fresh output; {@code sum48} and {@code sum192} time an add (x + g) feeding the same sum, as a floor.
 * Run: bench/run-jmh NormBench -f 1 -wi 3 -i 5
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class NormBench {
    @Param({"layer_norm", "layer_norm_grad", "layer_norm_param_grad", "gelu", "erf", "bias_grad48", "bias_grad144", "sum48", "sum192"})
    String op;

    Executable exe;
    ParameterStore store;
    final Map<String, Tensor> inputs = new LinkedHashMap<>();

    static int channels(String op) {
        return switch (op) {
            case "gelu", "erf", "sum192" -> 192;
            case "bias_grad144" -> 144;
            default -> 48;
        };
    }

    static Graph graph(String op) {
        GraphBuilder b = new GraphBuilder(op);
        int c = channels(op);
        Shape s = Shape.of(64, 16, 16, c);
        Node x = b.input("x", DType.F32, s), g = b.input("g", DType.F32, s);
        Node w = b.param("w", DType.F32, Shape.of(c), new Init.Normal(1, 0.1)), bias = b.param("b", DType.F32, Shape.of(c), new Init.Normal(0, 0.1));
        Node out = switch (op) {
            case "layer_norm" -> b.layerNorm(x, w, bias, 1e-5);
            case "layer_norm_grad" -> b.add(new Op.LayerNormGrad(1e-5), java.util.List.of(x, w, g), DType.F32, s);
            case "gelu" -> b.unary(Op.UnaryFn.GELU, x);
            case "erf" -> b.unary(Op.UnaryFn.ERF, x);
            case "layer_norm_param_grad" -> b.add(new Op.LayerNormParamGrad(1e-5), java.util.List.of(x, g), DType.F32, Shape.of(2, c));
            case "bias_grad48", "bias_grad144" -> b.reduce(Op.ReduceFn.SUM, x, new int[] {0, 1, 2}, false);
            case "sum48", "sum192" -> b.add(x, g);
            default -> throw new IllegalArgumentException(op);
        };
        b.output("out", b.reduce(Op.ReduceFn.SUM, out, new int[] {out.shape().rank() - 1}, false));
        return b.build();
    }

    @Setup(Level.Trial) public void setup() {
        Graph graph = graph(op);
        exe = Pipeline.with("none", () -> Backends.select("cpu").compile(Lower.lower(graph)));
        store = ParameterStore.initialise(graph, 0);
        for (String name : new String[] {"x", "g"}) {
            Tensor t = Tensor.zeros(DType.F32, 64, 16, 16, channels(op));
            Initializers.fill(t, new Init.Normal(0, 1), 0, "bench/" + name);
            inputs.put(name, t);
        }
    }

    @Benchmark public Map<String, Tensor> run() { return exe.run(inputs, store, new RunContext(0, 0)); }
}
