package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import mobyc.compiler.ir.Graph;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * swin.moby's {@code neighbourhoods} (one permute) is torchvision's four strided slices and their concat, element for
 * element; PatchMerging pads odd sizes first. (Its numbers against PyTorch at even sizes: ModelParityTest.)
 */
class PatchMergingTest {
    private static Tensor random(long... shape) {
        Random rnd = new Random(5);
        float[] data = new float[(int) Tensor.checkedNumel(shape)];
        for (int i = 0; i < data.length; i++) data[i] = (float) rnd.nextGaussian();
        return Tensor.of(data, shape);
    }

    @Test
    void neighbourhoodsAreTorchvisionsSlicesConcatenated() {
        Graph g = Programs.buildSource("merge.moby", """
                import "swin.moby";
                fn torchvision(x: [B, 6, 10, 3]) -> [B, 3, 5, 12] {
                    return concat([x[:, 0::2, 0::2, :], x[:, 1::2, 0::2, :], x[:, 0::2, 1::2, :], x[:, 1::2, 1::2, :]], axis=-1);
                }
                fn both(x: [B, 6, 10, 3]) -> [2, B, 3, 5, 12] {
                    return stack([neighbourhoods(x), torchvision(x)], axis=0);
                }
                """, "both", false);
        Tensor out = Programs.run(g, Map.of("x", random(2, 6, 10, 3)), ParameterStore.initialise(g, 1)).get("out");
        assertArrayEquals(new long[] {2, 2, 3, 5, 12}, out.shape());
        float[] v = out.toFloatArray();
        int half = v.length / 2;
        for (int i = 0; i < half; i++) assertEquals(v[half + i], v[i], 0f, "element " + i);
    }

    @Test
    void oddSizesArePaddedToWholeNeighbourhoods() {
        Graph g = Programs.buildSource("merge.moby", """
                import "swin.moby";
                module M = PatchMerging(dim=4, resolution=[7, 5]);
                """, "M", false);
        Tensor out = Programs.run(g, Map.of("x", random(2, 7, 5, 4)), ParameterStore.initialise(g, 1)).get("out");
        assertArrayEquals(new long[] {2, 4, 3, 8}, out.shape());
        for (float f : out.toFloatArray()) assertTrue(Float.isFinite(f));
    }
}
