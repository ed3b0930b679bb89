package mobyc.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.ir.Shape;
import mobyc.runtime.Tensor;
import mobyc.runtime.optim.AdamW;
import mobyc.runtime.optim.GradClip;
import mobyc.runtime.optim.ParamGroups;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One AdamW step (and GradClip's global norm) over the online parameters' shapes of examples/moby_small32.moby
 * (the EMA'd ones, {@link EmaBench#small32Shapes}): the multi-tensor step (one parallel dispatch, Vector API)
 * against the per-tensor scalar loop the optimiser had before (written out here: one tensor after another, one
 * thread), and the global norm likewise against a sequential double sum.
 * Run: bench/run-jmh OptimizerBench -f 1 -wi 2 -i 3
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss16m"})
public class OptimizerBench {
    List<Tensor> params = new ArrayList<>(), grads = new ArrayList<>();
    List<float[]> m = new ArrayList<>(), v = new ArrayList<>();
    AdamW adamw;
    ParamGroups groups;
    long t;

    @Setup(Level.Trial) public void setup() {
        List<String> paths = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        java.util.Random r = new java.util.Random(1);
        int i = 0;
        for (Shape s : EmaBench.small32Shapes()) {
            long[] shape = s.concrete();
            paths.add("p" + i++ + (shape.length == 1 ? ".bias" : ".weight"));
            shapes.add(shape);
            int n = (int) Tensor.checkedNumel(shape);
            float[] p = new float[n], g = new float[n];
            for (int j = 0; j < n; j++) { p[j] = (float) r.nextGaussian() * 0.02f; g[j] = (float) r.nextGaussian() * 1e-3f; }
            params.add(Tensor.of(p, shape));
            grads.add(Tensor.of(g, shape));
            m.add(new float[n]);
            v.add(new float[n]);
        }
        groups = ParamGroups.of(paths, shapes);
        adamw = AdamW.moby(groups);
        System.out.printf("%nAdamW over %d tensors, %d elements%n", params.size(), params.stream().mapToLong(Tensor::numel).sum());
    }

    @Benchmark public void adamwMultiTensor() { adamw.step(params, grads, 1e-4); }

    /** The per-tensor scalar step AdamW had before (same formulas, one tensor after another). */
    @Benchmark public void adamwPerTensor() {
        t++;
        double lr = 1e-4, bc1 = 1 - StrictMath.pow(0.9, t), bc2 = 1 - StrictMath.pow(0.999, t);
        float negStep = (float) -(lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2);
        for (int i = 0; i < params.size(); i++) {
            float keep = (float) (1 - lr * (groups.decays(i) ? 0.05 : 0.0));
            var p = params.get(i).segment();
            var g = grads.get(i).segment();
            float[] mi = m.get(i), vi = v.get(i);
            for (int j = 0; j < mi.length; j++) {
                float gj = g.getAtIndex(F32, j), pj = p.getAtIndex(F32, j) * keep;
                float mj = Math.fma(gj, 0.1f, mi[j] * 0.9f);
                float vj = Math.fma(0.001f * gj, gj, vi[j] * 0.999f);
                mi[j] = mj;
                vi[j] = vj;
                p.setAtIndex(F32, j, pj + negStep * mj / ((float) Math.sqrt(vj) / bc2Sqrt + 1e-8f));
            }
        }
    }

    @Benchmark public double normMultiTensor() { return GradClip.globalNorm(grads); }

    @Benchmark public double normPerTensor() {
        double sum = 0;
        for (Tensor t : grads) {
            var g = t.segment();
            for (long j = 0, n = t.numel(); j < n; j++) {
                double x = g.getAtIndex(F32, j);
                sum += x * x;
            }
        }
        return Math.sqrt(sum);
    }

    private static final java.lang.foreign.ValueLayout.OfFloat F32 =
            java.lang.foreign.ValueLayout.JAVA_FLOAT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
}
