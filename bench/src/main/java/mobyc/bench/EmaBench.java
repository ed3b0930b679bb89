package mobyc.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.fuse.ElementwiseFusion;
import mobyc.compiler.fuse.MultiTensorFusion;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Shape;
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
 * The EMA update of MoBY's momentum encoder and projector on the cpu backend, over the shapes of every EMA'd
 * parameter of examples/moby_small32.moby (taken from its training graph's target states): {@code t := t * m +
 * (1 - m) * stop_grad(p)} per tensor, as ema_update builds it, written back as state updates.
 * <ul>
 *   <li>{@code multi}: the backend passes as shipped (elementwise fusion, then the multi-tensor pass: one dispatch);</li>
 *   <li>{@code fused}: elementwise fusion only (one generated fused kernel per tensor);</li>
 *   <li>{@code unfused}: no passes (mul, sub, mul, add per tensor).</li>
 * </ul>
 * Run: bench/run-jmh EmaBench -f 1 -wi 2 -i 3
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class EmaBench {
    @Param({"multi", "fused", "unfused"}) String mode;

    Executable exe;
    ParameterStore store;
    final Map<String, Tensor> inputs = new LinkedHashMap<>();

    /** The shapes of the EMA'd parameters of moby_small32 (the states encoder_k.* / projector_k.* that mirror a parameter). */
    static List<Shape> small32Shapes() {
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(Path.of(System.getProperty("mobyc.home", "."), "examples/moby_small32.moby")), d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request("MoBYSmall32", "forward", Map.of(), true));
        if (b == null) throw new IllegalStateException(d.format());
        Graph g = b.graph();
        Map<String, Shape> params = new LinkedHashMap<>();
        for (Node p : g.params()) params.put(((mobyc.compiler.ir.Op.Param) p.op()).path(), p.shape());
        List<Shape> shapes = new ArrayList<>();
        for (Node s : g.states()) {
            String path = ((mobyc.compiler.ir.Op.State) s.op()).path();
            int dot = path.indexOf('.');
            if (dot < 0 || !path.substring(0, dot).endsWith("_k")) continue;
            Shape online = params.get(path.substring(0, dot - 2) + path.substring(dot));
            if (online != null && online.equals(s.shape())) shapes.add(s.shape());
        }
        return shapes;
    }

    static Graph emaGraph(List<Shape> shapes) {
        GraphBuilder b = new GraphBuilder("ema");
        Node m = b.input("m", DType.F32, Shape.SCALAR);
        for (int i = 0; i < shapes.size(); i++) {
            Node t = b.state("k" + i, DType.F32, shapes.get(i), new Init.Normal(0, 0.02));
            Node p = b.param("p" + i, DType.F32, shapes.get(i), new Init.Normal(0, 0.02));
            Node next = b.add(b.mul(m, t), b.mul(b.sub(b.constant(1, DType.F32), m), b.stopGradient(p)));
            b.update("k" + i, b.stopGradient(next));
        }
        return b.build();
    }

    @Setup(Level.Trial) public void setup() {
        List<Shape> shapes = small32Shapes();
        Graph g = emaGraph(shapes);
        Graph pre = switch (mode) {
            case "multi" -> MultiTensorFusion.run(ElementwiseFusion.run(g));
            case "fused" -> ElementwiseFusion.run(g);
            default -> g;
        };
        exe = Pipeline.with("none", () -> Backends.select("cpu").compile(Lower.lower(pre))); // the passes ran above, as chosen
        store = ParameterStore.initialise(g, 0);
        inputs.put("m", Tensor.of(new float[] {0.99f}));
        long n = shapes.stream().mapToLong(s -> s.numel().constant()).sum();
        System.out.printf("%nEMA over %d tensors, %d elements (%s)%n", shapes.size(), n, mode);
    }

    @Benchmark public Map<String, Tensor> run() { return exe.run(inputs, store, new RunContext(0, 0)); }
}
