package mobyc.runtime.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** Named state, argument checks and allocation behaviour shared by the optimisers. */
class OptimizerStateTest {
    static final List<String> NAMES = List.of("fc.weight", "fc.bias");
    static final ParamGroups GROUPS = ParamGroups.of(NAMES, List.of(new long[] {2, 3}, new long[] {3}));

    static List<Tensor> params() {
        return List.of(Tensor.of(new float[] {1, -2, 3, -4, 5, -6}, 2, 3), Tensor.of(new float[] {0.5f, 0, -0.5f}, 3));
    }

    static List<Tensor> grads() {
        return List.of(Tensor.of(new float[] {0.1f, 0.2f, -0.3f, 0.4f, -0.5f, 0.6f}, 2, 3), Tensor.of(new float[] {1, -1, 2}, 3));
    }

    @Test
    void beforeTheFirstStepTheStateIsTheCounterOnly() {
        AdamW opt = AdamW.moby(GROUPS);
        Map<String, Tensor> s = opt.state(NAMES);
        assertEquals(List.of("step"), List.copyOf(s.keySet()));
        assertEquals(0, s.get("step").getInt(0));
        AdamW fresh = AdamW.moby(GROUPS);
        fresh.loadState(s, NAMES);
        assertEquals(0, fresh.steps());
    }

    @Test
    void stateKeysNameTheParameterAndTheBuffer() {
        AdamW adam = AdamW.moby(GROUPS);
        adam.step(params(), grads(), 1e-3);
        assertEquals(List.of("step", "fc.weight.exp_avg", "fc.weight.exp_avg_sq", "fc.bias.exp_avg", "fc.bias.exp_avg_sq"),
                List.copyOf(adam.state(NAMES).keySet()));
        Sgd sgd = Sgd.linearEval(GROUPS);
        sgd.step(params(), grads(), 0.1);
        assertEquals(List.of("step", "fc.weight.momentum_buffer", "fc.bias.momentum_buffer"), List.copyOf(sgd.state(NAMES).keySet()));
        Sgd plain = new Sgd(GROUPS, 0, 0, 0, false);
        plain.step(params(), grads(), 0.1);
        assertEquals(List.of("step"), List.copyOf(plain.state(NAMES).keySet()));
        Lars lars = new Lars(GROUPS, 0);
        lars.step(params(), grads(), 0.1);
        assertEquals(List.of("step", "fc.weight.mu", "fc.bias.mu"), List.copyOf(lars.state(NAMES).keySet()));
        assertEquals(DType.I32, lars.state(NAMES).get("step").dtype());
        assertEquals(1, lars.state(NAMES).get("step").getInt(0));
    }

    @Test
    void theStateIsASnapshot() {
        AdamW opt = AdamW.moby(GROUPS);
        opt.step(params(), grads(), 1e-3);
        Map<String, Tensor> s = opt.state(NAMES);
        float before = s.get("fc.bias.exp_avg").getFloat(0);
        s.get("fc.bias.exp_avg").setFloat(0, 123f);
        assertEquals(before, opt.state(NAMES).get("fc.bias.exp_avg").getFloat(0));
    }

    @Test
    void loadingABadStateListsEveryProblemAndChangesNothing() {
        AdamW opt = AdamW.moby(GROUPS);
        opt.step(params(), grads(), 1e-3);
        Map<String, Tensor> s = new HashMap<>(opt.state(NAMES));
        s.remove("fc.bias.exp_avg_sq");
        s.put("fc.weight.exp_avg", Tensor.zeros(DType.F32, 3, 2));
        s.put("fc.weight.momentum_buffer", Tensor.zeros(DType.F32, 2, 3));
        AdamW target = AdamW.moby(GROUPS);
        target.step(params(), grads(), 1e-3);
        target.step(params(), grads(), 1e-3);
        Map<String, Tensor> targetBefore = target.state(NAMES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.loadState(s, NAMES));
        assertTrue(e.getMessage().contains("3 problems"), e.getMessage());
        assertTrue(e.getMessage().contains("missing key 'fc.bias.exp_avg_sq'"), e.getMessage());
        assertTrue(e.getMessage().contains("'fc.weight.exp_avg' is f32[3, 2]; expected f32[2, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected key 'fc.weight.momentum_buffer'"), e.getMessage());
        assertEquals(2, target.steps());
        Map<String, Tensor> after = target.state(NAMES);
        for (String key : targetBefore.keySet()) OptimizerGoldenTest.assertBitsEqual(targetBefore.get(key), after.get(key), key);
    }

    @Test
    void aCounterPastZeroNeedsItsBuffers() {
        Map<String, Tensor> s = Map.of("step", Tensor.ofInts(new int[] {3}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sgd.linearEval(GROUPS).loadState(s, NAMES));
        assertTrue(e.getMessage().contains("missing key 'fc.weight.momentum_buffer'"), e.getMessage());
        Sgd plain = new Sgd(GROUPS, 0, 0, 0, false);
        plain.loadState(s, NAMES);
        assertEquals(3, plain.steps());
    }

    @Test
    void stepChecksItsArguments() {
        AdamW opt = AdamW.moby(GROUPS);
        List<Tensor> p = params();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> opt.step(p.subList(0, 1), grads(), 1e-3))
                .getMessage().contains("updates 2 parameters"));
        List<Tensor> wrongShape = List.of(grads().get(0), Tensor.zeros(DType.F32, 4));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> opt.step(p, wrongShape, 1e-3))
                .getMessage().contains("the gradient of 'fc.bias' is f32[4]; expected f32[3]"));
        List<Tensor> ints = List.of(p.get(0), Tensor.ofInts(new int[] {1, 2, 3}, 3));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> opt.step(ints, grads(), 1e-3))
                .getMessage().contains("the parameter of 'fc.bias' is i32[3]"));
        assertEquals(0, opt.steps());
        assertThrows(IllegalArgumentException.class, () -> opt.state(List.of("only.one")));
    }

    @Test
    void sgdWithoutMomentumIsPlainGradientDescentWithL2Decay() {
        Sgd opt = new Sgd(GROUPS, 0, 0, 0.5, false);
        List<Tensor> p = params(), g = grads();
        opt.step(p, g, 0.1);
        // fc.weight decays: p - lr * (g + wd * p); fc.bias (1-D) does not.
        assertEquals(Math.fma(Math.fma(1f, 0.5f, 0.1f), -0.1f, 1f), p.get(0).getFloat(0));
        assertEquals(Math.fma(1f, -0.1f, 0.5f), p.get(1).getFloat(0));
    }

    @Test
    void larsLeavesAZeroParameterUnscaled() {
        ParamGroups groups = ParamGroups.of(List.of("w"), List.of(new long[] {2, 2}));
        Lars opt = new Lars(groups, 0.9, 0.1, 0.001);
        Tensor p = Tensor.zeros(DType.F32, 2, 2);
        Tensor g = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        opt.step(List.of(p), List.of(g), 0.5);
        assertEquals(-0.5f * 4, p.getFloat(3));  // trust ratio 1: p = 0 - lr * (g + wd * 0)
    }

    @Test
    void aSteadyStateStepAllocatesNothingPerTensor() {
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = 64, size = 4096;  // a per-tensor allocation of buffers would be n * 16 KiB
        List<String> names = new java.util.ArrayList<>();
        List<long[]> shapes = new java.util.ArrayList<>();
        List<Tensor> p = new java.util.ArrayList<>(), g = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("p" + i);
            shapes.add(new long[] {size});
            p.add(Tensor.zeros(DType.F32, size));
            g.add(Tensor.zeros(DType.F32, size));
        }
        ParamGroups groups = ParamGroups.of(names, shapes);
        for (Optimizer opt : List.of(AdamW.moby(groups), Sgd.linearEval(groups), new Lars(groups, 1e-4))) {
            for (int k = 0; k < 3; k++) opt.step(p, g, 1e-3);
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int k = 0; k < 5; k++) opt.step(p, g, 1e-3);
            long allocated = bean.getCurrentThreadAllocatedBytes() - before;
            if (Boolean.getBoolean("optim.report"))
                System.out.printf("%s: %d bytes allocated in 5 steps of %d tensors%n", opt.getClass().getSimpleName(), allocated, n);
            assertTrue(allocated < 64 * 1024, opt.getClass().getSimpleName() + " allocated " + allocated + " bytes in 5 steps");
        }
    }
}
