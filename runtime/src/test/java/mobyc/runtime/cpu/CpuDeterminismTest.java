package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.ir.Op;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The cpu kernels give the same bits whether the JIT has compiled them or not: the same kernels and a training
 * step of the transformer block, run warm in this JVM and in a fresh one with {@code -Xint} (the Vector API's
 * Java fallbacks), must agree bit for bit. This is what lets a resumed run repeat an uninterrupted one exactly;
 * the Vector API's own EXP and {@code reduceLanes(ADD)} would fail it.
 */
class CpuDeterminismTest {
    /** A digest of every result, one line per kernel. */
    static List<String> results() {
        long n = 4098;
        Tensor x = Diff.randn(1, 3.0, 2, n), w = Diff.randn(2, n), b = Diff.randn(3, n);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Op.UnaryFn fn : Op.UnaryFn.values()) out.put(fn.name(), Diff.cpu(new Op.Unary(fn), DType.F32, Diff.shape(2, n), x));
        out.put("softmax", Diff.cpu(new Op.Softmax(-1), DType.F32, Diff.shape(2, n), x));
        out.put("softmax axis 0", Diff.cpu(new Op.Softmax(0), DType.F32, Diff.shape(2, n), x));
        out.put("log_softmax", Diff.cpu(new Op.LogSoftmax(-1), DType.F32, Diff.shape(2, n), x));
        out.put("log_softmax axis 0", Diff.cpu(new Op.LogSoftmax(0), DType.F32, Diff.shape(2, n), x));
        out.put("layer_norm", Diff.cpu(new Op.LayerNorm(1e-5), DType.F32, Diff.shape(2, n), x, w, b));
        out.put("l2_normalize", Diff.cpu(new Op.L2Normalize(-1, 1e-12), DType.F32, Diff.shape(2, n), x));
        out.put("cross_entropy", Diff.cpu(new Op.CrossEntropy(), DType.F32, Diff.shape(2), x, Tensor.ofInts(new int[] {5, 4000}, 2)));
        out.put("sum rows", Diff.cpu(new Op.Reduce(Op.ReduceFn.SUM, new int[] {1}, false), DType.F32, Diff.shape(2), x));
        out.put("sum all", Diff.cpu(new Op.Reduce(Op.ReduceFn.MEAN, new int[] {0, 1}, false), DType.F32, Diff.shape(), x));
        out.put("sum columns", Diff.cpu(new Op.Reduce(Op.ReduceFn.SUM, new int[] {0}, false), DType.F32, Diff.shape(n), x));
        out.put("matmul", Diff.cpu(new Op.MatMul(), DType.F32, Diff.shape(2, 2), x, x.reinterpret(DType.F32, n, 2)));
        Graph g = CpuExecutableTest.training();
        ParameterStore store = ParameterStore.initialise(g, 1);
        Map<String, Tensor> step = new CpuBackend(Gemms.best()).compile(Lower.lower(g))
                .run(Map.of("x", Diff.randn(4, 2, 13, 24), "labels", Diff.randint(4, 5, 2)), store, new RunContext(3, 1));
        step.forEach((name, t) -> out.put("block " + name, t));
        List<String> lines = new ArrayList<>();
        out.forEach((name, t) -> {
            long h = 1;
            for (long i = 0; i < t.numel(); i++) h = h * 1_000_003 + t.getBits(i);
            lines.add(name + " " + Long.toHexString(h));
        });
        return lines;
    }

    /** Run by the test in a fresh JVM: prints {@link #results()}. */
    public static void main(String[] args) {
        results().forEach(System.out::println);
    }

    @Test
    void compiledAndInterpretedKernelsGiveTheSameBits() throws IOException, InterruptedException {
        List<String> warm = null;
        for (int i = 0; i < 40; i++) warm = results();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xint",
                "-D" + Gemms.PROPERTY + "=" + Gemms.best().name(), "-D" + CpuPool.PROPERTY + "=" + CpuPool.threads(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), CpuDeterminismTest.class.getName());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(true, p.waitFor(300, TimeUnit.SECONDS), "the -Xint run finished");
        assertEquals(0, p.exitValue(), output);
        assertEquals(String.join("\n", warm), output.strip());
    }
}
