package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.dsl.eval.Value;
import mobyc.runtime.cpu.codegen.KernelCompiler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Elementwise fusion on the shipped programs: {@code mobyc compile --emit kernels|java} shows the fused kernels, and
 * the Swin-T MoBY training step's fused kernels compile in one javac task and come from the disk cache the next time.
 */
class FusionCompileTest {
    @Test
    void compileEmitsFusedKernelsAndTheirJava() {
        Cli k = Cli.run("compile", CliTest.MLP, "--train", "--backward", "--emit", "kernels");
        assertEquals(0, k.status(), k::toString);
        assertTrue(k.out().contains("= fused(b") && k.out().contains("kernel f32[") && k.out().contains("    out[i0"), k::toString);
        Cli j = Cli.run("compile", CliTest.MLP, "--train", "--backward", "--emit", "java");
        assertEquals(0, j.status(), j::toString);
        assertTrue(j.out().contains("implements FusedCode") && j.out().contains("FloatVector.fromMemorySegment"), j::toString);
    }

    @Test
    void swinTinyMobyStepCompilesItsKernelsInOneBatchThenFromDisk(@TempDir Path cache) {
        Graph g = Programs.build(Golden.repo("examples/moby_swin_tiny.moby"), "MoBYSwinTiny", Map.of("batch", new Value.IntV(8)), true);
        long t0 = System.nanoTime();
        Graph step = Pipeline.backend(Autodiff.differentiate(g, "out"));
        long t1 = System.nanoTime();
        Set<FusedKernel> kernels = new LinkedHashSet<>();
        long fusedNodes = 0;
        for (Node n : step.nodes()) if (n.op() instanceof Op.Fused f) { kernels.add(f.kernel()); fusedNodes++; }
        assertTrue(fusedNodes > 60, "the step fuses its elementwise chains: " + fusedNodes); // 82 since cse: a repeated chain is one node
        KernelCompiler cold = new KernelCompiler(cache);
        cold.compileAll(kernels);
        long t2 = System.nanoTime();
        assertEquals(1, cold.javacRuns(), "one javac task for the whole program");
        KernelCompiler warm = new KernelCompiler(cache);
        warm.compileAll(kernels);
        long t3 = System.nanoTime();
        assertEquals(0, warm.javacRuns());
        assertEquals(cold.compiledCount(), warm.diskHits());
        System.out.printf("swin_t moby step: %d fused nodes, %d kernels, %d classes; passes %.2f s, javac %.2f s, from disk %.2f s%n",
                fusedNodes, kernels.size(), cold.compiledCount(), (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    }
}
