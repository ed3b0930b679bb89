package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/** Constants, arange, and counter-based random numbers: the same Philox-4x32-10 stream as interp, element for element. */
final class CpuSources {
    private CpuSources() {}

    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    static void constant(Op.Constant op, Tensor out) {
        if (out.dtype() == DType.F32) out.setFloat(0, (float) op.value());
        else out.setInt(0, (int) op.value());
    }

    static void arange(Tensor out) {
        MemorySegment os = out.segment();
        boolean floating = out.dtype() == DType.F32;
        Parallel.forItems(out.numel(), 1, (from, to) -> {
            for (long i = from; i < to; i++) {
                if (floating) Simd.set(os, i, i);
                else Simd.setBits(os, i, (int) i);
            }
        });
    }

    /** Element i is Philox.uniform(seed, step, stream, i): the top 24 bits of the first word of block i. */
    static void random(Op.Random op, RunContext ctx, Tensor out) {
        MemorySegment os = out.segment();
        int k0 = (int) ctx.seed(), k1 = (int) (ctx.seed() >>> 32);
        int c2 = (int) ctx.step(), c3 = (int) op.stream() ^ (int) (op.stream() >>> 32);
        Parallel.forItems(out.numel(), 16, (from, to) -> {
            for (long i = from; i < to; i++) Simd.set(os, i, (firstWord((int) i, (int) (i >>> 32), c2, c3, k0, k1) >>> 8) * 0x1.0p-24f);
        });
    }

    /** Word 0 of Philox-4x32-10 (as {@code mobyc.runtime.Philox.philox4x32_10}), without allocating. */
    static int firstWord(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
        }
        return c0;
    }
}
