package mobyc.runtime.cpu;

import java.util.List;
import java.util.Map;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.Epilogues;
import mobyc.compiler.fuse.MatMulFolding;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * fold-transposes and epilogues keep the numbers: interp on the rewritten graph equals interp on the original,
 * and the cpu backend (which runs the passes itself) equals interp, for a two-layer MLP and a residual layer norm
 * with their gradients.
 */
class GemmPassesSemanticsTest {
    private static Graph mlp() {
        GraphBuilder b = new GraphBuilder("mlp");
        Dim batch = Dim.sym("B");
        Node x = b.input("x", DType.F32, Shape.of(batch, Dim.of(7), Dim.of(12)));
        Node w1 = b.param("w1", DType.F32, Shape.of(20, 12), new Init.Normal(0, 0.3));
        Node b1 = b.param("b1", DType.F32, Shape.of(20), new Init.Normal(0, 0.3));
        Node w2 = b.param("w2", DType.F32, Shape.of(12, 20), new Init.Normal(0, 0.3));
        Node b2 = b.param("b2", DType.F32, Shape.of(12), new Init.Normal(0, 0.3));
        Node h = b.unary(Op.UnaryFn.GELU, b.add(b.matmul(x, b.permute(w1, 1, 0)), b1));
        Node y = b.add(b.add(b.matmul(h, b.permute(w2, 1, 0)), b2), x); // bias, then a residual
        Node lw = b.param("lw", DType.F32, Shape.of(12), new Init.Normal(1, 0.3)), lb = b.param("lb", DType.F32, Shape.of(12), new Init.Normal(0, 0.3));
        Node z = b.add(y, b.layerNorm(y, lw, lb, 1e-5)); // its gradient: the skip's plus the norm's
        Node loss = b.reduce(Op.ReduceFn.MEAN, b.mul(z, z), new int[] {0, 1, 2}, false);
        b.output("y", y);
        b.output("loss", loss);
        return Autodiff.differentiate(b.build(), "loss");
    }

    @Test
    void rewrittenGraphsComputeTheSameValuesAndGradients() {
        Graph g = mlp(), rewritten = Epilogues.run(MatMulFolding.run(g));
        org.junit.jupiter.api.Assertions.assertTrue(rewritten.nodes().stream()
                .anyMatch(n -> n.op() instanceof Op.MatMul && n.inputs().size() == 3), "the passes fired");
        org.junit.jupiter.api.Assertions.assertTrue(rewritten.nodes().stream()
                .anyMatch(n -> n.op() instanceof Op.LayerNormGrad && n.inputs().size() == 4), "the skip's gradient folded into the norm's");
        org.junit.jupiter.api.Assertions.assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof Op.Permute
                && n.input(0).op() instanceof Op.MatMul), "autodiff transposes the weights' gradients");
        org.junit.jupiter.api.Assertions.assertTrue(rewritten.nodes().stream().noneMatch(n -> n.op() instanceof Op.Permute),
                "every transpose folded into a GEMM, the gradients' too");
        assertSameValues(g, rewritten, Map.of("x", Diff.randn(3, 4, 7, 12)), 9, 1e-6, 1e-7);
    }

    /**
     * gelu(x @ w1^T + b1) @ w2^T for x [rows, 40, width] and {@code hidden} units (the second product without a bias).
     */
    private static Node mlp(GraphBuilder b, int rows, int width, int hidden) {
        Node x = b.input("x", DType.F32, Shape.of(Dim.of(rows), Dim.of(40), Dim.of(width)));
        Node w1 = b.param("w1", DType.F32, Shape.of(hidden, width), new Init.Normal(0, 0.3));
        Node b1 = b.param("b1", DType.F32, Shape.of(hidden), new Init.Normal(0, 0.3));
        Node w2 = b.param("w2", DType.F32, Shape.of(width, hidden), new Init.Normal(0, 0.1));
        Node h = b.unary(Op.UnaryFn.GELU, b.add(b.matmul(x, b.permute(w1, 1, 0)), b1));
        return b.matmul(h, b.permute(w2, 1, 0));
    }

    /**
     * interp on {@code rewritten} equals interp on {@code g} within {@code rtol}/{@code atol} (the passes round
     * differently), and cpu (which runs the passes itself) equals interp within the cpu tolerance, output by output.
     */
    private static void assertSameValues(Graph g, Graph rewritten, Map<String, Tensor> in, long seed, double rtol, double atol) {
        ParameterStore s1 = ParameterStore.initialise(g, seed), s2 = ParameterStore.initialise(g, seed), s3 = ParameterStore.initialise(g, seed);
        RunContext ctx = new RunContext(1, 0);
        Map<String, Tensor> reference = Backends.select("interp").compile(Lower.lower(g)).run(in, s1, ctx);
        Map<String, Tensor> interp = Backends.select("interp").compile(Lower.lower(rewritten)).run(in, s2, ctx);
        Map<String, Tensor> cpu = new CpuBackend(mobyc.runtime.cpu.Gemms.best()).compile(Lower.lower(g)).run(in, s3, ctx);
        for (String name : List.copyOf(reference.keySet())) {
            Diff.assertClose("interp rewritten " + name, reference.get(name), interp.get(name), rtol, atol);
            Diff.assertClose("cpu " + name, reference.get(name), cpu.get(name), 2e-5, 1e-6);
        }
    }

    /**
     * A forward-only MLP (as the target encoder's): its first GEMM takes the GELU (activations pass), at a size the
     * GEMM splits over threads (2560 x 192 x 48) and at a small one; interp on the rewritten graph and cpu equal interp.
     */
    @Test
    void aGeluInTheGemmsEpilogueComputesTheSameValues() {
        for (int rows : new int[] {3, 64}) {
            GraphBuilder b = new GraphBuilder("target");
            Node g2 = b.unary(Op.UnaryFn.GELU, mlp(b, rows, 48, 192)); // its second product: no bias
            b.output("y", g2);
            Graph g = b.build(), rewritten = mobyc.compiler.fuse.Activations.run(Epilogues.run(MatMulFolding.run(g)));
            org.junit.jupiter.api.Assertions.assertEquals(2, rewritten.nodes().stream().filter(n -> n.op() instanceof Op.MatMul m
                    && m.activation() == Op.Activation.GELU).count(), "both GELUs folded");
            // the bias is added before rounding in the rewritten graph: an ulp, then k = 192
            assertSameValues(g, rewritten, Map.of("x", Diff.randn(5, rows, 40, 48)), 3, 1e-5, 1e-6);
        }
    }

    /**
     * The gradient through an MLP's GELU: autodiff's mul(dy @ w2, dgelu(h)) becomes a gated matmul (activations pass),
     * its gate applied per stored block: hidden 400 is wider than a strip of tiles, so blocks are parts of rows, and
     * 64 x 40 rows split over threads. interp on the rewritten graph and cpu equal interp on the original.
     */
    @Test
    void theGradientThroughAGeluInTheGemmsEpilogueComputesTheSameValues() {
        for (int rows : new int[] {3, 64}) {
            GraphBuilder b = new GraphBuilder("mlp");
            Node y = mlp(b, rows, 24, 400);
            b.output("loss", b.reduce(Op.ReduceFn.MEAN, b.mul(y, y), new int[] {0, 1, 2}, false));
            Graph g = Autodiff.differentiate(b.build(), "loss");
            Graph rewritten = mobyc.compiler.fuse.Activations.run(Epilogues.run(MatMulFolding.run(g)));
            org.junit.jupiter.api.Assertions.assertEquals(1, rewritten.nodes().stream().filter(n -> n.op() instanceof Op.MatMul m
                    && m.activation() == Op.Activation.DGELU_GATE).count(), "the gradient through the GELU folded");
            org.junit.jupiter.api.Assertions.assertTrue(rewritten.nodes().stream().noneMatch(n -> n.op() instanceof Op.Unary u
                    && u.fn() == Op.UnaryFn.DGELU), "no dgelu left");
            assertSameValues(g, rewritten, Map.of("x", Diff.randn(6, rows, 40, 24)), 4, 1e-5, 1e-7);
        }
    }

    /**
     * The gelu-pairs pass on a trained MLP: its first GEMM stores GELU and, as a sibling, GELU's derivative (one GEMM on
     * cpu), and the backward's gate multiplies by that. interp on the rewritten graph equals interp on the original, and
     * cpu with the pass equals cpu without it bit for bit (GELU's bits, the derivative's, and the same product times the
     * same derivative), for 64 x 40 rows split over threads with a hidden width wider than a strip of tiles (400), and 3 x 40.
     */
    @Test
    void geluAndItsDerivativeFromOneGemmHaveTheUnpairedBits() {
        for (int rows : new int[] {3, 64}) {
            GraphBuilder b = new GraphBuilder("mlp");
            Node y = mlp(b, rows, 24, 400);
            b.output("loss", b.reduce(Op.ReduceFn.MEAN, b.mul(y, y), new int[] {0, 1, 2}, false));
            Graph g = Autodiff.differentiate(b.build(), "loss");
            Graph rewritten = mobyc.compiler.fuse.GeluPairs.run(mobyc.compiler.fuse.Activations.run(Epilogues.run(MatMulFolding.run(g))));
            List<Node> nodes = rewritten.nodes();
            int at = -1;
            for (int i = 0; i < nodes.size(); i++)
                if (nodes.get(i).op() instanceof Op.MatMul m && m.activation() == Op.Activation.GELU) at = i;
            org.junit.jupiter.api.Assertions.assertTrue(at >= 0 && nodes.get(at + 1).op() instanceof Op.MatMul d && d.activation() == Op.Activation.DGELU
                    && nodes.get(at + 1).inputs().equals(nodes.get(at).inputs()), "the derivative right after the GELU product, of the same operands");
            Map<Op.Activation, Long> activations = nodes.stream().filter(n -> n.op() instanceof Op.MatMul m && m.activation() != Op.Activation.NONE)
                    .collect(java.util.stream.Collectors.groupingBy(n -> ((Op.MatMul) n.op()).activation(), java.util.stream.Collectors.counting()));
            org.junit.jupiter.api.Assertions.assertEquals(Map.of(Op.Activation.GELU, 1L, Op.Activation.DGELU, 1L, Op.Activation.GATE, 1L), activations,
                    "one GELU product, its derivative, one gated product (no dgelu_gate)");
            org.junit.jupiter.api.Assertions.assertTrue(nodes.stream().noneMatch(n -> n.op() instanceof Op.Unary u
                    && (u.fn() == Op.UnaryFn.GELU || u.fn() == Op.UnaryFn.DGELU)), "no gelu or dgelu op left");
            Map<String, Tensor> in = Map.of("x", Diff.randn(6, rows, 40, 24));
            assertSameValues(g, rewritten, in, 4, 1e-5, 1e-7);
            Executable paired = new CpuBackend(Gemms.best()).compile(Lower.lower(g));
            org.junit.jupiter.api.Assertions.assertEquals(1, ((CpuExecutable) paired).siblingCount(), "the derivative computed with the GELU");
            Map<String, Tensor> with = paired.run(in, ParameterStore.initialise(g, 4), new RunContext(1, 0));
            Map<String, Tensor> without = mobyc.compiler.fuse.Pipeline.withSkipped(List.of("gelu-pairs"), () ->
                    new CpuBackend(Gemms.best()).compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 4), new RunContext(1, 0)));
            org.junit.jupiter.api.Assertions.assertEquals(without.keySet(), with.keySet());
            for (String name : with.keySet())
                for (long i = 0; i < with.get(name).numel(); i++)
                    org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(without.get(name).getFloat(i)),
                            Float.floatToRawIntBits(with.get(name).getFloat(i)), "rows " + rows + ", " + name + ": element " + i);
        }
    }

    /**
     * A trained Linear's bias gradient comes from its weight gradient's GEMM: bias-grad-order puts reduce_sum(dy) after
     * matmul(dy^T, x), the cpu executable pairs them (one GEMM adds dy's columns as it packs them), and cpu equals interp.
     * Shapes: 3 x 40 rows (one block), 64 x 40 (row parts), 160 x 40 = 6400 (a weight gradient cut along k) with 24
     * into 16 (computed as its transpose: the sums come from B) and 16 into 24.
     */
    @Test
    void aBiasGradientFromItsWeightGradientsGemmComputesTheSameValues() {
        for (int[] size : new int[][] {{3, 24, 16}, {64, 24, 16}, {160, 24, 16}, {160, 16, 24}}) {
            int rows = size[0], width = size[1], out = size[2];
            GraphBuilder b = new GraphBuilder("linear");
            Node x = b.input("x", DType.F32, Shape.of(Dim.of(rows), Dim.of(40), Dim.of(width)));
            Node w = b.param("w", DType.F32, Shape.of(out, width), new Init.Normal(0, 0.3));
            Node c = b.param("c", DType.F32, Shape.of(out), new Init.Normal(0, 0.3));
            Node y = b.add(b.matmul(x, b.permute(w, 1, 0)), c);
            b.output("loss", b.reduce(Op.ReduceFn.MEAN, b.mul(y, b.unary(Op.UnaryFn.TANH, y)), new int[] {0, 1, 2}, false));
            Graph g = Autodiff.differentiate(b.build(), "loss");
            Graph ordered = mobyc.compiler.fuse.BiasGradOrder.run(Epilogues.run(MatMulFolding.run(g)));
            List<Node> nodes = ordered.nodes();
            int sum = -1, product = -1;
            for (int i = 0; i < nodes.size(); i++) {
                if (mobyc.compiler.fuse.BiasGradOrder.sumsAllButLast(nodes.get(i))) sum = i;
                if (nodes.get(i).op() instanceof Op.MatMul m && m.transA()) product = i;
            }
            org.junit.jupiter.api.Assertions.assertTrue(product >= 0 && sum > product, "the bias gradient after the weight gradient");
            Map<String, Tensor> in = Map.of("x", Diff.randn(9, rows, 40, width));
            assertSameValues(g, ordered, in, 6, 1e-5, 1e-7); // the bias folded into the forward product rounds once less
            Executable paired = new CpuBackend(Gemms.best()).compile(Lower.lower(g));
            org.junit.jupiter.api.Assertions.assertEquals(1, ((CpuExecutable) paired).biasGradPairCount(), "the bias gradient from the weight gradient's GEMM");
            Map<String, Tensor> with = paired.run(in, ParameterStore.initialise(g, 6), new RunContext(1, 0));
            Map<String, Tensor> without = mobyc.compiler.fuse.Pipeline.withSkipped(List.of("bias-grad-order"), () ->
                    new CpuBackend(Gemms.best()).compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 6), new RunContext(1, 0)));
            for (String name : with.keySet()) Diff.assertClose("rows " + rows + " " + name, without.get(name), with.get(name), 1e-6, 1e-7);
        }
    }

    /**
     * Skip connections after a Linear, plain and through a per-sample scale (stochastic depth), as the activations
     * pass folds them into the GEMM's epilogue: for [rows, 40, width] inputs split over threads by rows (64), small
     * (3), and a long k (width 4096 into 16: the product is cut along k, so the epilogue runs once over all of C). interp with the
     * fold equals interp without it bit for bit (the same roundings), the cpu backend with the pass equals the cpu
     * backend without it bit for bit, and both equal interp on the original graph within their tolerances.
     */
    @Test
    void skipConnectionsInTheGemmsEpilogueComputeTheSameValues() {
        for (int[] size : new int[][] {{3, 48, 48}, {64, 48, 48}, {2, 4096, 16}}) {
            int rows = size[0], width = size[1], out = size[2];
            GraphBuilder b = new GraphBuilder("block");
            Node x = b.input("x", DType.F32, Shape.of(Dim.of(rows), Dim.of(40), Dim.of(width)));
            Node r = b.input("r", DType.F32, Shape.of(Dim.of(rows), Dim.of(40), Dim.of(out)));
            Node s = b.input("s", DType.F32, Shape.of(Dim.of(rows), Dim.of(1), Dim.of(1)));
            Node w = b.param("w", DType.F32, Shape.of(out, width), new Init.Normal(0, 1 / Math.sqrt(width))); // products of about x's size
            Node c = b.param("c", DType.F32, Shape.of(out), new Init.Normal(0, 0.3));
            Node w2 = b.param("w2", DType.F32, Shape.of(out, out), new Init.Normal(0, 0.1));
            Node y = b.add(r, b.add(b.matmul(x, b.permute(w, 1, 0)), c)); // residual
            Node z = b.add(b.mul(b.add(b.matmul(y, b.permute(w2, 1, 0)), c), s), y); // scaled_residual
            b.output("z", z);
            Graph g = b.build(), rewritten = mobyc.compiler.fuse.Activations.run(Epilogues.run(MatMulFolding.run(g)));
            org.junit.jupiter.api.Assertions.assertEquals(java.util.Set.of(Op.Activation.RESIDUAL, Op.Activation.SCALED_RESIDUAL),
                    rewritten.nodes().stream().filter(n -> n.op() instanceof Op.MatMul).map(n -> ((Op.MatMul) n.op()).activation())
                            .collect(java.util.stream.Collectors.toSet()), "both skips folded");
            float[] scales = new float[rows];
            for (int i = 0; i < rows; i++) scales[i] = i % 3 == 1 ? 0f : 1.25f; // dropped samples and kept ones
            Map<String, Tensor> in = Map.of("x", Diff.randn(7, 0.25, rows, 40, width), "r", Diff.randn(8, rows, 40, out), "s", Tensor.of(scales, rows, 1, 1));
            assertSameValues(g, rewritten, in, 5, 1e-5, 1e-6); // the bias folded into the product rounds once less
            Graph biasOnly = Epilogues.run(MatMulFolding.run(g));
            Tensor before = interp(biasOnly, in), after = interp(rewritten, in);
            for (long i = 0; i < before.numel(); i++)
                org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(before.getFloat(i)), Float.floatToRawIntBits(after.getFloat(i)),
                        "interp, rows " + rows + ", width " + width + ", out " + out + ": element " + i);
            Tensor fused = cpu(g, in, null), unfused = cpu(g, in, "activations");
            for (long i = 0; i < fused.numel(); i++)
                org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(unfused.getFloat(i)), Float.floatToRawIntBits(fused.getFloat(i)),
                        "rows " + rows + ", width " + width + ", out " + out + ": element " + i);
        }
    }

    /** Output z of interp on {@code g}. */
    private static Tensor interp(Graph g, Map<String, Tensor> in) {
        return Backends.select("interp").compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 5), new RunContext(1, 0)).get("z");
    }

    /** Output z of the cpu backend on {@code g}, with the named backend passes skipped ({@code -Dmobyc.fuse.skip}), or none. */
    private static Tensor cpu(Graph g, Map<String, Tensor> in, String skip) {
        return mobyc.compiler.fuse.Pipeline.withSkipped(skip == null ? java.util.List.of() : java.util.List.of(skip.split(",")), () ->
                new CpuBackend(mobyc.runtime.cpu.Gemms.best()).compile(Lower.lower(g)).run(in, ParameterStore.initialise(g, 5), new RunContext(1, 0)).get("z"));
    }
}
