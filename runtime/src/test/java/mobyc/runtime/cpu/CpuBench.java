package mobyc.runtime.cpu;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;
import mobyc.runtime.interp.Kernels;

/** Rough timings of single kernels, cpu against interp (not a test: run by hand with the test class path). */
final class CpuBench {
    private CpuBench() {}

    interface Body { void run(); }

    static double millis(Body b, int reps) {
        for (int i = 0; i < Math.max(3, reps / 2); i++) b.run();
        long best = Long.MAX_VALUE;
        for (int r = 0; r < 5; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) b.run();
            best = Math.min(best, (System.nanoTime() - t0) / reps);
        }
        return best / 1e6;
    }

    static void compare(String what, Op op, long[] shape, int reps, Tensor... in) {
        Tensor out = Tensor.zeros(DType.F32, shape);
        CpuKernels k = new CpuKernels(Gemms.best());
        double cpu = millis(() -> k.run(op, in, out, Diff.CTX), reps);
        double interp = millis(() -> Kernels.run(op, in, out, Diff.CTX), Math.max(1, reps / 50));
        System.out.printf("%-40s cpu %9.3f ms   interp %9.3f ms   x%.0f%n", what, cpu, interp, interp / cpu);
    }

    public static void main(String[] args) {
        System.out.println("threads " + CpuPool.threads() + ", gemm " + Gemms.best().name() + ", species " + Simd.F);
        long n = 1 << 20;
        Tensor a = Diff.randn(1, n), b = Diff.randn(2, n);
        compare("add 1M", new Op.Binary(Op.BinaryFn.ADD), Diff.shape(n), 200, a, b);
        compare("add [1024,1024] + [1024]", new Op.Binary(Op.BinaryFn.ADD), Diff.shape(1024, 1024), 200, a.reinterpret(DType.F32, 1024, 1024), Diff.randn(3, 1024));
        compare("mul [1024,1024] * [1024,1]", new Op.Binary(Op.BinaryFn.MUL), Diff.shape(1024, 1024), 200, a.reinterpret(DType.F32, 1024, 1024), Diff.randn(3, 1024, 1));
        compare("add [1024,1024] + [1024,1]", new Op.Binary(Op.BinaryFn.ADD), Diff.shape(1024, 1024), 200, a.reinterpret(DType.F32, 1024, 1024), Diff.randn(3, 1024, 1));
        compare("mul 1M", new Op.Binary(Op.BinaryFn.MUL), Diff.shape(n), 200, a, b);
        compare("mul [1024,1024] * [1024,1] again", new Op.Binary(Op.BinaryFn.MUL), Diff.shape(1024, 1024), 200, a.reinterpret(DType.F32, 1024, 1024), Diff.randn(3, 1024, 1));
        compare("gelu 1M", new Op.Unary(Op.UnaryFn.GELU), Diff.shape(n), 100, a);
        compare("exp 1M", new Op.Unary(Op.UnaryFn.EXP), Diff.shape(n), 100, a);
        compare("where 1M", new Op.Where(), Diff.shape(n), 100, Diff.randint(4, 2, n), a, b);
        compare("softmax [1024,1024] axis -1", new Op.Softmax(-1), Diff.shape(1024, 1024), 100, a.reinterpret(DType.F32, 1024, 1024));
        compare("layer_norm [4096,256]", new Op.LayerNorm(1e-5), Diff.shape(4096, 256), 100, a.reinterpret(DType.F32, 4096, 256), Diff.randn(5, 256), Diff.randn(6, 256));
        compare("reduce_sum [1024,1024] axis 1", new Op.Reduce(Op.ReduceFn.SUM, new int[] {1}, false), Diff.shape(1024), 100, a.reinterpret(DType.F32, 1024, 1024));
        compare("reduce_sum [1024,1024] axis 0", new Op.Reduce(Op.ReduceFn.SUM, new int[] {0}, false), Diff.shape(1024), 100, a.reinterpret(DType.F32, 1024, 1024));
        compare("permute [1024,1024] (1,0)", new Op.Permute(new int[] {1, 0}), Diff.shape(1024, 1024), 100, a.reinterpret(DType.F32, 1024, 1024));
        compare("permute [8,64,64,32] (0,2,1,3)", new Op.Permute(new int[] {0, 2, 1, 3}), Diff.shape(8, 64, 64, 32), 100, a.reinterpret(DType.F32, 8, 64, 64, 32));
        compare("matmul 256x256x256", new Op.MatMul(), Diff.shape(256, 256), 50, Diff.randn(7, 256, 256), Diff.randn(8, 256, 256));
        compare("matmul [16,64,32]@[16,32,64]", new Op.MatMul(), Diff.shape(16, 64, 64), 50, Diff.randn(7, 16, 64, 32), Diff.randn(8, 16, 32, 64));
        compare("conv2d [8,3,64,64]*[32,3,4,4]/4", new Op.Conv2d(4, 4, 0, 0), Diff.shape(8, 32, 16, 16), 50, Diff.randn(9, 8, 3, 64, 64), Diff.randn(10, 32, 3, 4, 4));
        compare("conv2d [4,16,32,32]*[16,16,3,3]", new Op.Conv2d(1, 1, 1, 1), Diff.shape(4, 16, 32, 32), 20, Diff.randn(9, 4, 16, 32, 32), Diff.randn(10, 16, 16, 3, 3));
    }
}
