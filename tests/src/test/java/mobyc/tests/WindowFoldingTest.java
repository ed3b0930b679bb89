package mobyc.tests;

import static mobyc.tests.AttentionFusionTest.count;
import static mobyc.tests.AttentionFusionTest.inputs;
import static mobyc.tests.AttentionFusionTest.randomise;
import static mobyc.tests.AttentionFusionTest.run;
import static mobyc.tests.AttentionFusionTest.swin;
import static mobyc.tests.AttentionFusionTest.train;
import static mobyc.tests.AttentionFusionTest.unfused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mobyc.compiler.fuse.AttentionFusion;
import mobyc.compiler.fuse.WindowFolding;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Printer;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.ir.Verifier;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The front end's window pass (compiler/fuse/WindowFolding): Swin's cyclic shift, window partition, merge and reverse
 * shift disappear into the fused attention, which then reads and writes [B, H, W, C] images; near misses stay as
 * they were; folded graphs compute what the unfolded ones do (interp), and the cpu kernels match interp's.
 */
class WindowFoldingTest {
    /** A block written out by hand: shift, partition, WindowAttention, merge, shift back by {@code back}. */
    private static final String BLOCK = """
            import "swin.moby";
            module M(back: int = %d, reuse: bool = %s) {
                let attn = WindowAttention(dim=16, heads=2, window=4);
                fn forward(x: [B, 8, 8, 16]) -> [B, 8, 8, 16] {
                    let p = window_partition(roll(x, shifts=[-2, -2], axes=[1, 2]), 4);
                    let w = attn(p);
                    if reuse {
                        w = w + p;
                    }
                    return roll(window_merge(w, 4, 8, 8), shifts=[back, 2], axes=[1, 2]);
                }
            }
            """;

    private static Graph block(int back, boolean reuse) {
        return unfused(() -> Programs.buildSource("block.moby", BLOCK.formatted(back, reuse), "M", true));
    }

    @Test
    void shiftPartitionAndMergeFoldIntoTheAttention() {
        Graph g = swin(16, 8, 4);
        String ir = Printer.print(g);
        assertEquals(0, count(g, "roll"), ir);
        assertEquals(0, ir.lines().filter(l -> l.contains(" = permute ") && l.contains(" : f32[B, ")).count(), "no window partition or merge left: " + ir);
        assertEquals(2, ir.lines().filter(l -> l.contains(" = attention ") && l.contains("windows=4 of 8x8") && l.contains(": f32[B, 8, 8, 16]")).count(), ir);
        assertEquals(1, ir.lines().filter(l -> l.contains(" = attention ") && l.contains("mask, windows=4 of 8x8, shift=[2, 2]")).count(), ir);
        Graph attentionOnly = AttentionFusion.run(unfused(() -> swin(16, 8, 4)));
        assertEquals(2, count(attentionOnly, "roll"), "the shifted block rolls before and after its attention");
        assertEquals(ir, Printer.print(WindowFolding.run(attentionOnly)));
    }

    @Test
    void aHandWrittenBlockFoldsWhenTheShiftsCancel() {
        Graph g = AttentionFusion.run(block(2, false));
        Graph folded = WindowFolding.run(g);
        assertEquals(0, count(folded, "roll"), Printer.print(folded));
        assertEquals(1, Printer.print(folded).lines().filter(l -> l.contains("windows=4 of 8x8, shift=[2, 2]")).count());
        Verifier.verify(folded);
    }

    /** A reverse shift that does not undo the first, or windows read by something else: left alone. */
    @ParameterizedTest
    @ValueSource(strings = {"1 false", "-2 false", "2 true"})
    void nearMissesAreLeftAlone(String config) {
        String[] c = config.split(" ");
        Graph g = AttentionFusion.run(block(Integer.parseInt(c[0]), Boolean.parseBoolean(c[1])));
        assertEquals(1, count(g, "attention"), Printer.print(g));
        assertSame(g, WindowFolding.run(g));
    }

    /**
     * Folded against unfolded (attention fused in both), outputs and every gradient: interp 1e-5; cpu against interp
     * 1e-4. Shifted windows, a padded grid (6 -> 8), a shift of 3 in 14 x 14 with window 7, one window per image.
     */
    @ParameterizedTest
    @ValueSource(strings = {"16 8 4", "16 6 4", "24 14 7", "16 4 4"})
    void foldedEqualsUnfolded(String config) {
        int[] c = java.util.Arrays.stream(config.split(" ")).mapToInt(Integer::parseInt).toArray();
        Graph plain = train(AttentionFusion.run(unfused(() -> swin(c[0], c[1], c[2])))), folded = train(swin(c[0], c[1], c[2]));
        assertTrue(Printer.print(folded).contains("windows=" + c[2]), Printer.print(folded));
        assertEquals(0, count(folded, "roll"));
        ParameterStore store = ParameterStore.initialise(plain, 0);
        randomise(store);
        Map<String, Tensor> in = inputs(plain, 2);
        Map<String, Tensor> expected = run("interp", plain, in, store), interp = run("interp", folded, in, store), cpu = run("cpu", folded, in, store);
        assertEquals(expected.keySet(), interp.keySet());
        for (String k : expected.keySet()) {
            Golden.assertClose(interp.get(k), expected.get(k), 1e-5, config + " folded vs unfolded " + k);
            Golden.assertClose(cpu.get(k), interp.get(k), 1e-4, config + " cpu vs interp " + k);
        }
    }

    /** The windowed attention kernels alone, cpu against interp: B, H, W, window, shift, heads, hd, mask. */
    @ParameterizedTest
    @ValueSource(strings = {"2 8 8 4 2 3 16 1", "1 14 14 7 3 2 8 1", "3 6 9 3 0 1 5 0", "2 8 8 8 0 2 16 0"})
    void windowedKernelsEqualInterp(String config) {
        int[] c = java.util.Arrays.stream(config.split(" ")).mapToInt(Integer::parseInt).toArray();
        int batch = c[0], h = c[1], w = c[2], size = c[3], heads = c[5], hd = c[6], dim = heads * hd, n = size * size;
        boolean mask = c[7] == 1;
        Op.Windows windows = new Op.Windows(h, w, size, c[4], c[4]);
        double scale = Math.pow(hd, -0.5);
        GraphBuilder b = new GraphBuilder("windowed");
        List<Node> ins = new ArrayList<>();
        ins.add(b.input("qkv", DType.F32, Shape.of(batch, h, w, 3L * dim)));
        ins.add(b.input("bias", DType.F32, Shape.of(heads, n, n)));
        if (mask) ins.add(b.input("mask", DType.F32, Shape.of(windows.perImage(), n, n)));
        List<Node> withGrad = new ArrayList<>(ins);
        withGrad.add(b.input("g", DType.F32, Shape.of(batch, h, w, dim)));
        b.output("y", b.add(new Op.Attention(heads, scale, true, mask, windows), ins, null, null));
        b.output("dqkv", b.add(new Op.AttentionGrad(heads, scale, true, mask, windows), withGrad, null, null));
        b.output("dbias", b.add(new Op.AttentionBiasGrad(heads, scale, mask, windows), withGrad, null, null));
        Graph g = Verifier.verify(b.build());
        AttentionFusionTest.cpuMatchesInterp(g, inputs(g, 1), "windowed " + config);
    }

    /** Windows.row is roll(-shift) then partition: token i of window w holds the image row a rolled partition reads. */
    @Test
    void windowRowsAreTheShiftedPartition() {
        int h = 6, w = 9, size = 3, sh = 1, sw = 2;
        Op.Windows windows = new Op.Windows(h, w, size, sh, sw);
        boolean[] seen = new boolean[2 * h * w];
        for (int win = 0; win < 2 * windows.perImage(); win++)
            for (int i = 0; i < windows.tokens(); i++) {
                int image = win / windows.perImage(), k = win % windows.perImage();
                int r = (k / (w / size)) * size + i / size, col = (k % (w / size)) * size + i % size; // in the rolled image
                long expected = ((long) image * h + (r + sh) % h) * w + (col + sw) % w;            // rolled[r] = x[r + shift]
                assertEquals(expected, windows.row(win, i), "window " + win + " token " + i);
                seen[(int) expected] = true;
            }
        for (boolean s : seen) assertTrue(s, "every row is some window's token");
    }
}
