package mobyc.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.lower.Lower;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.train.ClassifierProgram;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step (forward, loss, backward; no optimiser) of the Fashion-MNIST Swin classifier
 * (examples/fmnist_swin.moby) on a backend. Reports img/s and GFLOP/s, with FLOPs counted analytically over every
 * node of the differentiated graph (compiler/ir/Flops). Run: bench/run-jmh TrainStepBench -p backend=cpu
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class TrainStepBench {
    @Param({"interp", "cpu"}) String backend;
    @Param({"32"}) int batch;
    /** "default" (embed 48, depths 2-2, patch 2) or "tiny" (embed 16, depths 1-1, patch 4). */
    @Param({"default"}) String config;

    Executable exe;
    ParameterStore store;
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    double flopsPerStep;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rates {
        public double images;
        public double gflop;
    }

    @Setup(Level.Trial) public void setup() {
        Map<String, Value> sets = config.equals("tiny")
                ? Map.of("embed_dim", new Value.IntV(16), "depths", new Value.ListV(List.of(new Value.IntV(1), new Value.IntV(1))),
                        "heads", new Value.ListV(List.of(new Value.IntV(1), new Value.IntV(2))), "patch", new Value.IntV(4))
                : Map.of();
        Diagnostics d = new Diagnostics();
        Compilation c = Frontend.load(List.of(Path.of(System.getProperty("mobyc.home", "."), "examples/fmnist_swin.moby")), d);
        Frontend.Built b = d.hasErrors() ? null : Frontend.build(c, new Frontend.Request("FashionSwin", "forward", sets, true));
        if (b == null) throw new IllegalStateException(d.format());
        Graph g = ClassifierProgram.training(b.graph());
        flopsPerStep = g.flops().evaluate(Map.of("B", (long) batch));
        exe = Backends.select(backend).compile(Lower.lower(g));
        store = ParameterStore.initialise(g, 0);
        Batches.Batch x = new Batches(ImageDataset.fashionMnistSample("train"), batch, true, true, 0).get(0, 0);
        inputs.put(ClassifierProgram.imageInput(b.graph()), x.images().copy());
        inputs.put(ClassifierProgram.LABELS, x.labels().copy());
    }

    @Benchmark public Map<String, Tensor> step(Rates rates) {
        Map<String, Tensor> out = exe.run(inputs, store, new RunContext(0, 0));
        rates.images += batch;
        rates.gflop += flopsPerStep / 1e9;
        return out;
    }
}
