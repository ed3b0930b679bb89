package mobyc.runtime.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The multi-tensor optimiser steps over many tensors of awkward sizes (vector tails, empty-free pieces, chunks that
 * span several tensors and tensors that span several chunks) against per-tensor scalar loops written out here: AdamW
 * and SGD bit for bit, the global norm within double rounding and identical run to run.
 */
class MultiTensorOptimTest {
    static final long[] SIZES = {1, 13, 25, 207, 4098, 70_000, 3, 200_001, 64, 131_072};

    private static List<Tensor> tensors(long seed, double scale) {
        Random r = new Random(seed);
        List<Tensor> out = new ArrayList<>();
        for (long n : SIZES) {
            float[] x = new float[(int) n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * scale);
            out.add(Tensor.of(x, n));
        }
        return out;
    }

    private static ParamGroups groups() {
        List<String> paths = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            paths.add(i % 3 == 0 ? "l" + i + ".bias" : "l" + i + ".weight");
            shapes.add(new long[] {SIZES[i]});
        }
        return ParamGroups.of(paths, shapes);
    }

    private static List<Tensor> copies(List<Tensor> ts) { return ts.stream().map(Tensor::copy).toList(); }

    @Test
    void adamwEqualsThePerTensorLoopBitForBit() {
        ParamGroups groups = groups();
        AdamW opt = new AdamW(groups, 0.9, 0.999, 1e-8, 0.05);
        List<Tensor> p = tensors(1, 1), ref = copies(p);
        float[][] m = new float[SIZES.length][], v = new float[SIZES.length][];
        for (int i = 0; i < SIZES.length; i++) { m[i] = new float[(int) SIZES[i]]; v[i] = new float[(int) SIZES[i]]; }
        for (int t = 1; t <= 3; t++) {
            List<Tensor> g = tensors(10 + t, 0.1);
            double lr = 1e-3 * t;
            opt.step(p, g, lr);
            float negStep = (float) -(lr / (1 - StrictMath.pow(0.9, t))), bc2 = (float) Math.sqrt(1 - StrictMath.pow(0.999, t));
            for (int i = 0; i < SIZES.length; i++) {
                float keep = (float) (1 - lr * (groups.decays(i) ? 0.05 : 0.0));
                Tensor pr = ref.get(i), gr = g.get(i);
                for (int j = 0; j < SIZES[i]; j++) {
                    float gj = gr.getFloat(j), pj = pr.getFloat(j) * keep;
                    float mj = Math.fma(gj, (float) (1 - 0.9), m[i][j] * 0.9f);
                    float vj = Math.fma((float) (1 - 0.999) * gj, gj, v[i][j] * 0.999f);
                    m[i][j] = mj;
                    v[i][j] = vj;
                    pr.setFloat(j, pj + negStep * mj / ((float) Math.sqrt(vj) / bc2 + 1e-8f));
                }
            }
            for (int i = 0; i < SIZES.length; i++) assertArrayEquals(ref.get(i).toFloatArray(), p.get(i).toFloatArray(), "step " + t + " tensor " + i);
        }
    }

    @Test
    void sgdWithNesterovEqualsThePerTensorLoopBitForBit() {
        ParamGroups groups = groups();
        Sgd opt = new Sgd(groups, 0.9, 0, 1e-4, true);
        List<Tensor> p = tensors(2, 1), ref = copies(p);
        float[][] b = new float[SIZES.length][];
        for (int i = 0; i < SIZES.length; i++) b[i] = new float[(int) SIZES[i]];
        for (int t = 1; t <= 3; t++) {
            List<Tensor> g = tensors(20 + t, 0.1);
            opt.step(p, g, 0.1);
            for (int i = 0; i < SIZES.length; i++) {
                float wd = groups.decays(i) ? 1e-4f : 0f;
                for (int j = 0; j < SIZES[i]; j++) {
                    float pj = ref.get(i).getFloat(j), d = g.get(i).getFloat(j);
                    if (wd != 0) d = Math.fma(pj, wd, d);
                    float bj = t == 1 ? d : Math.fma(d, 1f, b[i][j] * 0.9f);
                    b[i][j] = bj;
                    d = Math.fma(bj, 0.9f, d);
                    ref.get(i).setFloat(j, Math.fma(d, -0.1f, pj));
                }
            }
            for (int i = 0; i < SIZES.length; i++) assertArrayEquals(ref.get(i).toFloatArray(), p.get(i).toFloatArray(), "step " + t + " tensor " + i);
        }
    }

    @Test
    void globalNormSpansChunksAndIsTheSameEveryRun() {
        List<Tensor> g = tensors(3, 0.5);
        double sum = 0;
        for (Tensor t : g) for (long j = 0; j < t.numel(); j++) sum += (double) t.getFloat(j) * t.getFloat(j);
        double norm = GradClip.globalNorm(g);
        assertEquals(Math.sqrt(sum), norm, 1e-12 * norm);
        for (int k = 0; k < 5; k++) assertEquals(Double.doubleToRawLongBits(norm), Double.doubleToRawLongBits(GradClip.globalNorm(g)));
        List<Tensor> before = copies(g);
        double total = GradClip.clip(g, 1.0);
        assertEquals(norm, total);
        float s = (float) (1.0 / (norm + 1e-6));
        for (int i = 0; i < g.size(); i++)
            for (long j = 0; j < g.get(i).numel(); j++) assertEquals(before.get(i).getFloat(j) * s, g.get(i).getFloat(j), "tensor " + i + " element " + j);
        assertTrue(Math.abs(GradClip.globalNorm(g) - 1.0) < 1e-5);
    }
}
