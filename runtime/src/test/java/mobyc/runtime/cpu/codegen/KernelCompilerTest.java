package mobyc.runtime.cpu.codegen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.kernel.Expr;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.compiler.kernel.KernelInput;
import mobyc.runtime.Tensor;
import mobyc.runtime.interp.FusedKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel compiler's caches: one javac task per batch, the disk cache on later runs, damaged entries rebuilt. */
class KernelCompilerTest {
    private static final DType F = DType.F32;

    /** x * c then fn, over a 1-D output of {@code n}. */
    private static FusedKernel chain(long n, double c, Op.UnaryFn fn) {
        Shape s = Shape.of(n);
        return new FusedKernel(s, List.of(KernelInput.of(F, s, s)), List.of(
                new Expr.Load(0, F), new Expr.Const(c, F), new Expr.Binary(Op.BinaryFn.MUL, 0, 1, F), new Expr.Unary(fn, 2, F)));
    }

    private static void assertRunsLikeInterp(FusedCode code, FusedKernel k) {
        int n = (int) k.shape().dim(0).constant();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2f) / 7f;
        Tensor x = Tensor.of(v, n), expected = Tensor.zeros(F, n), actual = Tensor.zeros(F, n);
        FusedKernels.run(k, new Tensor[] {x}, expected);
        code.run(new java.lang.foreign.MemorySegment[] {x.segment()}, new long[] {0}, actual.segment(), 0, n);
        for (int i = 0; i < n; i++)
            assertEquals(expected.getFloat(i), actual.getFloat(i), 1e-6 * Math.max(1, Math.abs(expected.getFloat(i))), "element " + i);
    }

    @Test
    void secondCompilerLoadsFromDiskAndDamagedEntriesAreRebuilt(@TempDir Path dir) throws IOException {
        FusedKernel a = chain(300, 0.5, Op.UnaryFn.EXP), b = chain(41, 2, Op.UnaryFn.TANH);
        KernelCompiler first = new KernelCompiler(dir);
        Map<FusedKernel, FusedCode> codes = first.compileAll(List.of(a, b, chain(300, 0.5, Op.UnaryFn.EXP)));
        assertEquals(2, first.compiledCount());
        assertEquals(1, first.javacRuns(), "one javac task for the batch");
        assertRunsLikeInterp(codes.get(a), a);
        assertRunsLikeInterp(codes.get(b), b);
        first.compileAll(List.of(a, b));
        assertEquals(1, first.javacRuns(), "the in-memory cache answers a second time");

        KernelCompiler second = new KernelCompiler(dir);
        Map<FusedKernel, FusedCode> loaded = second.compileAll(List.of(a, b));
        assertEquals(0, second.javacRuns());
        assertEquals(2, second.diskHits());
        assertRunsLikeInterp(loaded.get(a), a);

        Path entry = dir.resolve(KernelCompiler.source(a).hash() + ".kclass");
        byte[] bytes = Files.readAllBytes(entry);
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(entry, bytes);
        KernelCompiler third = new KernelCompiler(dir);
        Map<FusedKernel, FusedCode> rebuilt = third.compileAll(List.of(a, b));
        assertEquals(1, third.compiledCount(), "the damaged entry is compiled again");
        assertEquals(1, third.diskHits());
        assertRunsLikeInterp(rebuilt.get(a), a);

        Files.write(entry, new byte[] {1, 2, 3}); // truncated
        KernelCompiler fourth = new KernelCompiler(dir);
        assertNotNull(fourth.get(a));
        assertEquals(1, fourth.compiledCount());
        KernelCompiler fifth = new KernelCompiler(dir);
        fifth.compileAll(List.of(a, b));
        assertEquals(2, fifth.diskHits(), "the rebuilt entry was written back");
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void sourceDependsOnTheChainNotOnSizes() {
        Dim batch = Dim.sym("B");
        FusedKernel small = chain(13, 0.5, Op.UnaryFn.GELU), big = chain(4098, 0.5, Op.UnaryFn.GELU);
        Shape sym = Shape.of(batch);
        FusedKernel symbolic = new FusedKernel(sym, List.of(KernelInput.of(F, sym, sym)), small.body());
        assertEquals(KernelCompiler.source(small).text(), KernelCompiler.source(big).text());
        assertEquals(KernelCompiler.source(small).hash(), KernelCompiler.source(symbolic).hash());
        assertNotEquals(KernelCompiler.source(small).hash(), KernelCompiler.source(chain(13, 0.25, Op.UnaryFn.GELU)).hash());
        String src = KernelCompiler.source(small).text();
        assertTrue(src.contains("FloatVector.fromMemorySegment(F, in0") && src.contains("FusedMath.gelu(s0, s1, n);"), src);
    }
}
