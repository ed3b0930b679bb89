package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import mobyc.compiler.ir.Op;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.runtime.Tensor;
import mobyc.runtime.cpu.codegen.FusedCode;
import mobyc.runtime.cpu.codegen.KernelCompiler;

/**
 * Runs an {@link Op.MultiTensor} (several fused kernels with one body, results packed end to end) as one parallel
 * dispatch: the concatenated element range of all members is split into chunks over the pool, and each chunk runs
 * the generated class of the shared body ({@link KernelCompiler}, the same class {@link CpuFused} runs) on the
 * pieces of the members it covers. Members read their inputs flat (the output's shape or a scalar), so a piece is
 * one contiguous run: inputs that run with the output start at the piece's offset inside its member, scalars at 0.
 */
final class CpuMultiTensor {
    private CpuMultiTensor() {}

    static void run(Op.MultiTensor op, Tensor[] in, Tensor out) {
        FusedKernel k = op.kernel();
        run(KernelCompiler.shared().get(k), op, in, out);
    }

    static void run(FusedCode code, Op.MultiTensor op, Tensor[] in, Tensor out) {
        FusedKernel k = op.kernel();
        int m = k.inputs().size(), members = op.shapes().size();
        long[] start = new long[members + 1];
        for (int j = 0; j < members; j++) start[j + 1] = start[j] + op.numel(j);
        long total = start[members];
        if (total == 0) return;
        MemorySegment[][] segs = new MemorySegment[members][m];
        for (int j = 0; j < members; j++)
            for (int i = 0; i < m; i++) segs[j][i] = in[j * m + i].segment();
        boolean[] runs = new boolean[m];
        for (int i = 0; i < m; i++) runs[i] = k.inputs().get(i).runsWithOutput(k.shape());
        MemorySegment os = out.segment();
        Parallel.forItems(total, CpuFused.cost(k), (from, to) -> {
            long[] base = new long[m];
            int j = Arrays.binarySearch(start, from);
            j = j >= 0 ? j : -j - 2; // the member whose stretch holds element `from`
            for (long at = from; at < to; j++) {
                if (start[j + 1] <= at) continue; // an empty member
                long end = Math.min(to, start[j + 1]);
                while (at < end) {
                    int len = (int) Math.min(end - at, Integer.MAX_VALUE);
                    for (int i = 0; i < m; i++) base[i] = runs[i] ? at - start[j] : 0;
                    code.run(segs[j], base, os, at, len);
                    at += len;
                }
            }
        });
    }
}
