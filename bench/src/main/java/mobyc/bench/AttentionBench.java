package mobyc.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Lower;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
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
 * Swin's WindowAttention (qkv Linear, attention with relative position bias, proj Linear), forward and backward
 * (gradients in every parameter and the input) on the cpu backend, with the front end's attention pass
 * ({@code fused}: one attention op and its gradient ops) and without it ({@code unfused}: the permute, batched
 * matmuls and softmax of the primitive graph). Shapes: {@code small32} is MoBY small32's stage 1 (batch 64, 16 x 16
 * tokens, window 4: 1024 windows of 16 tokens, dim 48, 3 heads); {@code swin_t} is Swin-T's stage 1 at batch 8
 * (56 x 56 tokens, window 7: 512 windows of 49 tokens, dim 96, 3 heads).
 * Run: bench/run-jmh AttentionBench -f 1 -wi 2 -i 3
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class AttentionBench {
    @Param({"small32", "swin_t"}) String shape;
    @Param({"fused", "unfused"}) String variant;

    Executable exe;
    ParameterStore store;
    Map<String, Tensor> inputs = new LinkedHashMap<>();

    @Setup(Level.Trial) public void setup() {
        boolean small = shape.equals("small32");
        int windows = small ? 64 * 16 : 8 * 64, window = small ? 4 : 7, dim = small ? 48 : 96, heads = 3;
        String src = "import \"swin.moby\";\nmodule M = WindowAttention(dim=%d, heads=%d, window=%d);\n".formatted(dim, heads, window);
        Graph g = training(build(src, variant.equals("unfused")));
        long attention = g.nodes().stream().filter(n -> n.op() instanceof Op.Attention).count();
        if ((attention == 1) != variant.equals("fused")) throw new IllegalStateException(variant + " graph has " + attention + " attention ops");
        exe = Backends.select("cpu").compile(Lower.lower(g));
        store = ParameterStore.initialise(g, 0);
        Random r = new Random(0);
        long n = (long) window * window;
        for (String name : new String[] {"x", "w"}) {
            float[] data = new float[Math.toIntExact(windows * n * dim)];
            for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
            inputs.put(name, Tensor.of(data, windows, n, dim));
        }
    }

    /** The front end's graph of {@code src}, with its passes off ({@code -Dmobyc.fuse=none}) when {@code unfused}. */
    private static Graph build(String src, boolean unfused) {
        return Pipeline.with(unfused ? "none" : System.getProperty(Pipeline.PROPERTY, "all"), () -> {
            Diagnostics d = new Diagnostics();
            Compilation c = Frontend.loadSource("attention.moby", src, d);
            Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request("M", "forward", Map.of(), true));
            if (b == null) throw new IllegalStateException(d.format());
            return b.graph();
        });
    }

    /** loss = sum(out * w); gradients in every parameter and in x. */
    private static Graph training(Graph g) {
        GraphBuilder b = new GraphBuilder(g.name());
        Map<Node, Node> copy = b.copyAll(g);
        Node out = copy.get(g.outputs().get("out"));
        Node w = b.input("w", DType.F32, out.shape());
        b.output("out", out);
        b.output("loss", b.reduce(Op.ReduceFn.SUM, b.mul(out, w), new int[] {0, 1, 2}, false));
        return Autodiff.differentiate(b.build(), "loss", Set.of("x"));
    }

    @Benchmark public Map<String, Tensor> forwardBackward() {
        return exe.run(inputs, store, new RunContext(0, 0));
    }
}
