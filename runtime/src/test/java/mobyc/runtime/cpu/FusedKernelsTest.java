package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import mobyc.compiler.fuse.ElementwiseFusion;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The elementwise fusion, semantically: interp on the fused graph gives the unfused graph's bits, and the cpu's
 * generated kernels give interp's numbers within the elementwise tolerances, on random elementwise graphs with
 * broadcasting (rows, columns, scalars, expands), i32/f32 casts, where and comparisons, over sizes that hit the
 * vector tails, the block size and the parallel split.
 */
class FusedKernelsTest {
    private static final RunContext CTX = new RunContext(1, 0);

    /** Output shapes: tails (1, 13, 25, 207), several blocks (4098), rows of a short last axis, a symbolic batch. */
    private static final long[][] SHAPES = {{1}, {13}, {3, 25}, {2, 207}, {4098}, {3, 5, 7}, {2, 3, 300}, {70, 1000}};

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomGraphsGiveTheSameNumbersFused(int seed) {
        for (long[] shape : SHAPES) {
            Random g = new Random(seed * 1000L + shape.length * 31L + shape[shape.length - 1], shape);
            Graph graph = g.build();
            Graph fused = Verifier.verify(ElementwiseFusion.run(graph));
            assertTrue(fused.nodes().stream().anyMatch(n -> n.op() instanceof Op.Fused), fused::toString);
            Map<String, Tensor> in = g.inputs();
            Map<String, Tensor> expected = run("interp", graph, in);
            Map<String, Tensor> interpFused = run("interp", fused, in);
            Map<String, Tensor> cpu = run("cpu", graph, in);
            String where = "seed " + seed + " shape " + java.util.Arrays.toString(shape) + "\n" + fused;
            expected.forEach((name, e) -> {
                Diff.assertClose(where + " interp fused " + name, e, interpFused.get(name), 0, 0);
                Diff.assertClose(where + " cpu " + name, e, cpu.get(name), 1e-5, 1e-6);
            });
        }
    }

    /**
     * MoBY's cross-entropy gradient, (p - one_hot(label)) * g / B with the one-hot from an iota row against a label
     * column, on rows that end in a scalar tail (4097 = 256 vectors of 16 and one): every label, the first and the
     * last column included, gives p - 1 exactly where it points and p elsewhere.
     */
    @Test
    void crossEntropyGradientOnRowsWithTails() {
        for (long[] s : new long[][] {{1, 1}, {3, 17}, {2, 4097}, {64, 4097}}) {
            long rows = s[0], n = s[1];
            Op.Fused f = crossEntropyGradient(rows, n);
            Tensor iota = Tensor.zeros(DType.I32, n), labels = Tensor.zeros(DType.I32, rows, 1), p = Diff.randn(rows + n, 1.0, rows, n);
            for (int i = 0; i < n; i++) iota.setInt(i, i);
            for (int r = 0; r < rows; r++) labels.setInt(r, r == 0 ? (int) n - 1 : (int) ((r * 977L) % n)); // row 0: the tail
            Tensor out = Tensor.zeros(DType.F32, rows, n);
            CpuFused.run(f.kernel(), new Tensor[] {iota, labels, p}, out);
            for (long r = 0; r < rows; r++)
                for (long c = 0; c < n; c++) {
                    float hot = c == labels.getInt(r) ? 1f : 0f, expected = (p.getFloat(r * n + c) - hot) * 0.5f / 0.2f;
                    assertEquals(expected, out.getFloat(r * n + c), 0f, "[" + rows + ", " + n + "] at (" + r + ", " + c + ")");
                }
        }
    }

    /** The fused kernel of (x - cast(iota == label)) * 0.5 / 0.2 over [rows, n]: inputs iota [n], label [rows, 1], x. */
    private static Op.Fused crossEntropyGradient(long rows, long n) {
        GraphBuilder b = new GraphBuilder("ce_grad");
        Node iota = b.input("iota", DType.I32, Shape.of(n)), label = b.input("label", DType.I32, Shape.of(rows, 1));
        Node x = b.input("x", DType.F32, Shape.of(rows, n));
        Node oneHot = b.cast(b.binary(Op.BinaryFn.EQ, iota, label), DType.F32);
        b.output("y", b.div(b.mul(b.sub(x, oneHot), b.constant(0.5, DType.F32)), b.constant(0.2, DType.F32)));
        Graph g = Verifier.verify(ElementwiseFusion.run(b.build()));
        for (Program.Kernel k : Lower.lower(g).kernels()) if (k.op() instanceof Op.Fused f) return f;
        throw new IllegalStateException("nothing fused:\n" + g);
    }

    @Test
    void symbolicBatchAndBroadcastRowsAndColumns() {
        GraphBuilder b = new GraphBuilder("sym");
        Dim bd = Dim.sym("B");
        Node x = b.input("x", DType.F32, Shape.of(bd, Dim.of(5), Dim.of(37)));
        Node row = b.input("row", DType.F32, Shape.of(37));
        Node col = b.input("col", DType.F32, Shape.of(bd, Dim.of(5), Dim.of(1)));
        Node y = b.unary(Op.UnaryFn.GELU, b.add(b.mul(x, row), col));
        b.output("y", b.mul(y, b.unary(Op.UnaryFn.SIGMOID, b.sub(x, b.expand(col, x.shape())))));
        Graph graph = b.build();
        assertEquals(1, ElementwiseFusion.run(graph).nodes().stream().filter(n -> n.op() instanceof Op.Fused).count());
        for (int batch : new int[] {1, 4}) {
            Map<String, Tensor> in = Map.of("x", Diff.randn(3, 2.0, batch, 5, 37), "row", Diff.randn(4, 1.0, 37), "col", Diff.randn(5, 1.0, batch, 5, 1));
            Diff.assertClose("B=" + batch, run("interp", graph, in).get("y"), run("cpu", graph, in).get("y"), 1e-5, 1e-6);
        }
    }

    static Map<String, Tensor> run(String backend, Graph g, Map<String, Tensor> in) {
        Executable e = Backends.select(backend).compile(Lower.lower(g));
        return e.run(in, ParameterStore.initialise(g, 1), CTX);
    }

    /** A random elementwise graph over a few inputs of one output shape and broadcast shapes of it. */
    private static final class Random {
        private final SplittableRandom rnd;
        private final long[] shape;
        private final GraphBuilder b = new GraphBuilder("random");
        private final Map<String, Tensor> inputs = new LinkedHashMap<>();
        /** Values, and whether each was computed by exact IEEE operations only (safe to compare and cast). */
        private final List<Node> values = new ArrayList<>();
        private final List<Boolean> exact = new ArrayList<>();

        Random(long seed, long[] shape) {
            this.rnd = new SplittableRandom(seed);
            this.shape = shape;
        }

        Map<String, Tensor> inputs() { return inputs; }

        private Node input(long[] s, DType t) {
            String name = "in" + inputs.size();
            Tensor v = t == DType.F32 ? Diff.randn(rnd.nextLong(), 2, s) : Diff.randint(rnd.nextLong(), 5, s);
            if (t == DType.I32) for (long i = 0; i < v.numel(); i++) v.setInt(i, v.getInt(i) - 2);
            inputs.put(name, v);
            return b.input(name, t, Shape.of(s));
        }

        private long[] broadcastShape() {
            int r = shape.length;
            return switch (rnd.nextInt(4)) {
                case 0 -> new long[] {shape[r - 1]};                       // a row vector
                case 1 -> { long[] s = shape.clone(); s[r - 1] = 1; yield s; } // a column
                case 2 -> new long[0];                                     // a scalar
                default -> shape.clone();
            };
        }

        private int pick() { return values.size() - 1 - rnd.nextInt(Math.min(values.size(), 4)); }

        Graph build() {
            for (int i = 0; i < 3; i++) { values.add(input(shape, DType.F32)); exact.add(true); }
            values.add(input(broadcastShape(), DType.F32)); exact.add(true);
            Node ints = input(shape, DType.I32);
            values.add(b.cast(ints, DType.F32)); exact.add(true);
            for (int step = 0; step < 10; step++) {
                int a = pick(), c = pick();
                Node x = values.get(a), y = values.get(c);
                boolean ex = exact.get(a) && exact.get(c);
                Node r;
                switch (rnd.nextInt(9)) {
                    case 0 -> r = b.add(x, y);
                    case 1 -> r = b.mul(x, b.constant(rnd.nextInt(1, 4) * 0.5, DType.F32));
                    case 2 -> { r = b.sub(x, y); }
                    case 3 -> {
                        Op.UnaryFn fn = List.of(Op.UnaryFn.EXP, Op.UnaryFn.TANH, Op.UnaryFn.GELU, Op.UnaryFn.ERF, Op.UnaryFn.SIGMOID).get(rnd.nextInt(5));
                        r = b.unary(fn, b.mul(x, b.constant(0.25, DType.F32)));
                        ex = false;
                    }
                    case 4 -> r = b.unary(List.of(Op.UnaryFn.NEG, Op.UnaryFn.ABS, Op.UnaryFn.RELU).get(rnd.nextInt(3)), x);
                    case 5 -> { // a comparison and a where on exact values only (an ulp must not flip them)
                        if (!ex) { r = b.binary(Op.BinaryFn.MAX, x, y); break; }
                        r = b.where(b.binary(Op.BinaryFn.LT, x, y), x, b.expand(values.get(3), Shape.of(shape)));
                    }
                    case 6 -> { // f32 -> i32 -> arithmetic -> f32, on exact values only
                        if (!ex) { r = b.binary(Op.BinaryFn.MIN, x, y); break; }
                        Node i = b.cast(b.mul(x, b.constant(3, DType.F32)), DType.I32);
                        Node j = b.binary(Op.BinaryFn.MAX, b.sub(i, ints), b.constant(-3, DType.I32));
                        r = b.cast(b.where(b.binary(Op.BinaryFn.GE, j, b.constant(0, DType.I32)), j, b.unary(Op.UnaryFn.NEG, j)), DType.F32);
                    }
                    case 7 -> { r = b.div(x, b.add(b.unary(Op.UnaryFn.ABS, y), b.constant(1, DType.F32))); }
                    default -> { r = b.unary(Op.UnaryFn.SQRT, b.add(b.mul(x, x), b.constant(0.5, DType.F32))); }
                }
                values.add(r);
                exact.add(ex && !(r.op() instanceof Op.Unary u && u.fn() == Op.UnaryFn.SQRT) && !(r.op() instanceof Op.Binary bb && bb.fn() == Op.BinaryFn.DIV));
            }
            b.output("out", values.getLast());
            b.output("mid", values.get(values.size() - 4)); // a value read outside: the end of a group
            return b.build();
        }
    }
}
