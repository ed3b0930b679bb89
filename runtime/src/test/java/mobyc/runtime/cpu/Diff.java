package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Philox;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.interp.Kernels;

/**
 * Differential testing against interp: runs one op on both backends' kernels and compares. The cpu output starts
 * full of NaN bits, so an element a kernel forgets to write shows.
 */
final class Diff {
    private Diff() {}

    static final RunContext CTX = new RunContext(1234, 5);
    /** The loop lengths that hit vector tails: below, at and around one vector, and beyond a parallel split. */
    static final int[] SIZES = {1, 13, 25, 207, 4098};

    /** A plain triple loop accumulating in double: the GEMM these tests use as a second oracle. */
    static final Gemm TRIPLE_LOOP = new Gemm() {
        @Override public String name() { return "triple-loop"; }

        @Override
        public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, long aOffset, int lda,
                          MemorySegment b, long bOffset, int ldb, float beta, MemorySegment c, long cOffset, int ldc) {
            ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        float x = a.getAtIndex(f, aOffset + (transA ? (long) p * lda + i : (long) i * lda + p));
                        float y = b.getAtIndex(f, bOffset + (transB ? (long) j * ldb + p : (long) p * ldb + j));
                        sum += (double) x * y;
                    }
                    long at = cOffset + (long) i * ldc + j;
                    float r = (float) (alpha * sum);
                    c.setAtIndex(f, at, beta == 0f ? r : r + beta * c.getAtIndex(f, at));
                }
        }
    };

    static Tensor interp(Op op, DType type, long[] shape, Tensor... in) {
        Tensor out = Tensor.zeros(type, shape);
        Kernels.run(op, in, out, CTX);
        return out;
    }

    static Tensor cpu(Gemm gemm, Op op, DType type, long[] shape, Tensor... in) {
        Tensor out = Tensor.zeros(type, shape);
        out.segment().fill((byte) 0xFF); // NaN bits, -1 as an int
        new CpuKernels(gemm).run(op, in, out, CTX);
        return out;
    }

    static Tensor cpu(Op op, DType type, long[] shape, Tensor... in) { return cpu(Gemms.best(), op, type, shape, in); }

    static long[] shape(long... s) { return s; }

    /** Standard normal numbers times {@code scale}. */
    static Tensor randn(long seed, double scale, long... shape) {
        Tensor t = Tensor.zeros(DType.F32, shape);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (scale * Philox.normal(seed, 0, 0, i)));
        return t;
    }

    static Tensor randn(long seed, long... shape) { return randn(seed, 1, shape); }

    /** Uniform integers in [0, bound). */
    static Tensor randint(long seed, int bound, long... shape) {
        Tensor t = Tensor.zeros(DType.I32, shape);
        for (long i = 0; i < t.numel(); i++) t.setInt(i, (int) (Philox.uniform(seed, 0, 1, i) * bound));
        return t;
    }

    /** Checks op on both backends: |cpu - interp| <= atol + rtol * |interp| elementwise, NaN where interp has NaN. */
    static void check(String what, Op op, DType type, long[] shape, double rtol, double atol, Tensor... in) {
        assertClose(what, interp(op, type, shape, in), cpu(op, type, shape, in), rtol, atol);
    }

    static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        if (expected.dtype() != actual.dtype()) fail(what + ": dtype " + actual.dtype() + ", expected " + expected.dtype());
        long n = expected.numel();
        for (long i = 0; i < n; i++) {
            if (expected.dtype() == DType.I32) {
                if (expected.getInt(i) != actual.getInt(i))
                    fail(what + ": element " + i + " is " + actual.getInt(i) + ", expected " + expected.getInt(i));
                continue;
            }
            float e = expected.getFloat(i), a = actual.getFloat(i);
            boolean ok = Float.isNaN(e) ? Float.isNaN(a)
                    : Float.isInfinite(e) ? e == a
                    : Math.abs((double) a - e) <= atol + rtol * Math.abs(e);
            if (!ok) fail(what + ": element " + i + " of " + expected + " is " + a + ", expected " + e
                    + " (difference " + Math.abs((double) a - e) + ", allowed " + (atol + rtol * Math.abs(e)) + ")");
        }
    }

    /** A tolerance for sums of n terms: 1e-6 * sqrt(n), at least 2e-6. */
    static double forSum(long n) { return Math.max(2e-6, 1e-6 * Math.sqrt(n)); }
}
