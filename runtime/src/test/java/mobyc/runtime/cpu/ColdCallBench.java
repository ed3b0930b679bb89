package mobyc.runtime.cpu;

import mobyc.compiler.fuse.ElementwiseFusion;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Tensor;

/**
 * The time of each of the first calls of one kernel in a fresh JVM (not a test: run by hand with the test class
 * path, as {@code ColdCallBench softmax|cross_entropy|fused [calls]}), on MoBY's contrastive logits [64, 4097].
 * A kernel that a training step runs only once or twice is still in the interpreter or in C1 code for its first
 * few dozen calls, and the Vector API there is a Java fallback (vectors as arrays, operations as lambdas) some
 * hundreds of times slower than C2's code: the first calls take 50-1000 ms, a warm call 0.05-0.4 ms. A short
 * benchmark ({@code mobyc bench moby-step --profile} times steps 3-7 by default) sees those calls.
 */
final class ColdCallBench {
    private ColdCallBench() {}

    public static void main(String[] args) {
        String what = args.length > 0 ? args[0] : "softmax";
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        long rows = 64, n = 4097;
        Tensor x = Diff.randn(1, 3.0, rows, n);
        CpuKernels k = new CpuKernels(Gemms.best());
        Runnable body = switch (what) {
            case "softmax" -> {
                Tensor out = Tensor.zeros(DType.F32, rows, n);
                yield () -> k.run(new Op.Softmax(1), new Tensor[] {x}, out, Diff.CTX);
            }
            case "cross_entropy" -> {
                Tensor labels = Diff.randint(2, (int) n, rows), out = Tensor.zeros(DType.F32, rows);
                yield () -> k.run(new Op.CrossEntropy(), new Tensor[] {x, labels}, out, Diff.CTX);
            }
            case "fused" -> { // the cross-entropy gradient: (softmax - one_hot(label)) * g / B
                Op.Fused f = crossEntropyGradient(rows, n);
                Tensor iota = Tensor.zeros(DType.I32, n), labels = Diff.randint(2, (int) n, rows, 1), out = Tensor.zeros(DType.F32, rows, n);
                for (int i = 0; i < n; i++) iota.setInt(i, i);
                Tensor[] in = {iota, labels, x};
                yield () -> CpuFused.run(f.kernel(), in, out);
            }
            default -> throw new IllegalArgumentException("softmax, cross_entropy or fused, not " + what);
        };
        StringBuilder sb = new StringBuilder(what + " [" + rows + ", " + n + "], ms per call:");
        for (int c = 0; c < calls; c++) {
            long t0 = System.nanoTime();
            body.run();
            sb.append(String.format(" %.3f", (System.nanoTime() - t0) / 1e6));
        }
        System.out.println(sb);
    }

    /** The fused kernel of (x - cast(iota == label)) * 0.5 / 0.2 over [rows, n]: inputs iota [n], label [rows, 1], x. */
    static Op.Fused crossEntropyGradient(long rows, long n) {
        GraphBuilder b = new GraphBuilder("ce_grad");
        Node iota = b.input("iota", DType.I32, Shape.of(n)), label = b.input("label", DType.I32, Shape.of(rows, 1));
        Node x = b.input("x", DType.F32, Shape.of(rows, n));
        Node oneHot = b.cast(b.binary(Op.BinaryFn.EQ, iota, label), DType.F32);
        b.output("y", b.div(b.mul(b.sub(x, oneHot), b.constant(0.5, DType.F32)), b.constant(0.2, DType.F32)));
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        for (Program.Kernel kk : Lower.lower(g).kernels()) if (kk.op() instanceof Op.Fused f) return f;
        throw new IllegalStateException("nothing fused:\n" + g);
    }
}
