package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashSet;
import java.util.Set;
import mobyc.compiler.ir.Op;
import mobyc.compiler.kernel.Expr;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.compiler.kernel.KernelInput;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Tensor;
import mobyc.runtime.cpu.codegen.FusedCode;
import mobyc.runtime.cpu.codegen.KernelCompiler;

/**
 * Runs fused elementwise kernels with generated code ({@link KernelCompiler}): {@link #prepare} compiles every fused
 * kernel of a program in one batch when the backend compiles it; {@link #run} walks the output in contiguous runs and
 * splits them over the pool. A kernel whose inputs all have the output's shape or are scalars is one flat run per
 * chunk; otherwise each row of the output's last axis is a run, with every input's offset from its broadcast
 * strides. Without javac the executable runs interp's fused kernel instead ({@link CpuKernels#fast}).
 */
final class CpuFused {
    private static final System.Logger LOG = System.getLogger(CpuFused.class.getName());
    private static volatile boolean warned;

    private CpuFused() {}

    /** Whether generated code can run here; logs once when it cannot. */
    static boolean available() {
        boolean ok = KernelCompiler.available();
        if (!ok && !warned) {
            warned = true;
            LOG.log(System.Logger.Level.INFO, "cpu: no Java compiler in this JVM (module jdk.compiler); fused kernels run on the interp kernel-IR interpreter");
        }
        return ok;
    }

    /** Compiles (or loads from the caches) all fused kernels of {@code p} in one batch. */
    static void prepare(Program p) {
        Set<FusedKernel> kernels = new LinkedHashSet<>();
        for (Program.Kernel k : p.kernels()) {
            if (k.op() instanceof Op.Fused f) kernels.add(f.kernel());
            if (k.op() instanceof Op.MultiTensor mt) kernels.add(mt.kernel()); // CpuMultiTensor runs the same classes
        }
        if (!kernels.isEmpty() && available()) KernelCompiler.shared().compileAll(kernels);
    }

    static void run(FusedKernel k, Tensor[] in, Tensor out) { run(KernelCompiler.shared().get(k), k, in, out); }

    static void run(FusedCode code, FusedKernel k, Tensor[] in, Tensor out) {
        long numel = out.numel();
        if (numel == 0) return;
        int m = in.length;
        MemorySegment[] segs = new MemorySegment[m];
        for (int i = 0; i < m; i++) segs[i] = in[i].segment();
        MemorySegment os = out.segment();
        long cost = cost(k);
        long[] shape = out.shape();
        boolean flat = true;
        for (int i = 0; i < m; i++) {
            long n = in[i].numel();
            KernelInput.Access a = k.inputs().get(i).access(k.shape());
            if (!(a == KernelInput.Access.SAME && n == numel) && !(a == KernelInput.Access.SCALAR && n == 1)) flat = false;
        }
        if (flat || shape.length == 0) {
            boolean[] runs = new boolean[m];
            for (int i = 0; i < m; i++) runs[i] = k.inputs().get(i).runsWithOutput(k.shape());
            Parallel.forItems(numel, cost, (from, to) -> {
                long[] base = new long[m];
                for (int i = 0; i < m; i++) base[i] = runs[i] ? from : 0;
                code.run(segs, base, os, from, (int) (to - from));
            });
            return;
        }
        int r = shape.length;
        long inner = shape[r - 1], rows = numel / inner;
        long[][] strides = new long[m][];
        for (int i = 0; i < m; i++) strides[i] = Shapes.broadcastStrides(in[i].shape(), shape);
        Parallel.forItems(rows, inner * cost, (from, to) -> {
            long[] coords = new long[r], base = new long[m];
            long row = from;
            for (int d = r - 2; d >= 0; d--) {
                coords[d] = row % shape[d];
                row /= shape[d];
            }
            for (int i = 0; i < m; i++) {
                long b = 0;
                for (int d = 0; d < r - 1; d++) b += coords[d] * strides[i][d];
                base[i] = b;
            }
            for (long at = from; at < to; at++) {
                code.run(segs, base, os, at * inner, (int) inner);
                for (int d = r - 2; d >= 0; d--) { // next row: an odometer over the leading axes
                    for (int i = 0; i < m; i++) base[i] += strides[i][d];
                    if (++coords[d] < shape[d]) break;
                    for (int i = 0; i < m; i++) base[i] -= strides[i][d] * shape[d];
                    coords[d] = 0;
                }
            }
        });
    }

    /** Work per element, for splitting: one per inline op, eight per call. */
    static long cost(FusedKernel k) {
        long c = 0;
        for (Expr e : k.body()) if (!(e instanceof Expr.Load) && !(e instanceof Expr.Const)) c += rendersAsCall(e) ? 8 : 1;
        return Math.max(1, c / 2);
    }

    private static boolean rendersAsCall(Expr e) {
        return switch (e) {
            case Expr.Unary u -> switch (u.fn()) {
                case NEG, ABS, RELU, SQRT, RSQRT -> false;
                default -> true;
            };
            default -> false;
        };
    }
}
