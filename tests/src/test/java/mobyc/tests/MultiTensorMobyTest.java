package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import mobyc.compiler.autodiff.Autodiff;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Verifier;
import mobyc.compiler.lower.Lower;
import mobyc.runtime.Backends;
import mobyc.runtime.Executable;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The multi-tensor pass on the tiny MoBY training step (tests/src/test/resources/moby_tiny.moby): every EMA update
 * of the momentum encoder and projector becomes one multi_tensor node, and cpu (which runs the backend passes)
 * gives interp's numbers (which runs none) for two steps: loss, gradients and every state.
 */
class MultiTensorMobyTest {
    private static Graph step() {
        Graph model = Programs.build(Path.of("src/test/resources/moby_tiny.moby"), "Tiny", Map.of(), true);
        return Verifier.verify(Autodiff.differentiate(model, "out"));
    }

    @Test
    void everyEmaUpdateIsOneMultiTensorNode() {
        Graph g = step();
        Graph after = Pipeline.backend(g);
        long emaUpdates = g.updates().keySet().stream().filter(k -> k.startsWith("encoder_k.") || k.startsWith("projector_k.")).count();
        // the EMA node: the multi_tensor node the target encoder's states are read from (other state-only groups may exist)
        Node mt = null;
        for (var e : after.updates().entrySet()) {
            Node v = e.getValue();
            while (v.op() instanceof Op.StopGradient || v.op() instanceof Op.Reshape || v.op() instanceof Op.Slice) v = v.input(0);
            if (e.getKey().startsWith("encoder_k.")) { // the Swin target has no BatchNorm: all its states are EMA'd
                assertTrue(v.op() instanceof Op.MultiTensor && (mt == null || mt == v), e.getKey() + " reads the one multi_tensor node: " + v);
                mt = v;
            }
        }
        assertTrue(mt != null, "the EMA updates are grouped");
        Op.MultiTensor ema = (Op.MultiTensor) mt.op();
        assertTrue(after.toString().contains(mt.ref() + " = multi_tensor "), "printed");
        // every EMA'd state (BatchNorm statistics of the target are state too, but not EMA updates) reads the packed node
        long fed = 0;
        for (var e : after.updates().entrySet()) {
            Node v = e.getValue();
            while (v.op() instanceof Op.StopGradient || v.op() instanceof Op.Reshape || v.op() instanceof Op.Slice) v = v.input(0);
            if (v == mt) fed++;
        }
        int members = ((Op.MultiTensor) mt.op()).shapes().size();
        assertEquals(members, fed, "each member is a state update");
        assertTrue(emaUpdates >= members && members > 10, emaUpdates + " target states, " + members + " members");
        long emaLeft = after.nodes().stream().filter(n -> n.op() instanceof Op.Fused f && f.kernel().body().equals(ema.kernel().body())
                && n.shape().isConcrete()).count();
        System.out.printf("moby_tiny step: %d EMA members in one multi_tensor node of %d elements; %d other fused kernels of that body%n",
                members, ((Op.MultiTensor) mt.op()).totalNumel(), emaLeft);
    }

    @Test
    void cpuWithThePassMatchesInterpForTwoSteps() {
        Graph g = step();
        Map<String, Tensor> cpuStore = new HashMap<>(), interpStore = new HashMap<>();
        ParameterStore cs = ParameterStore.initialise(g, 3), is = ParameterStore.initialise(g, 3);
        Executable cpu = Backends.select("cpu").compile(Lower.lower(g));
        Executable interp = Backends.select("interp").compile(Lower.lower(g));
        Random rnd = new Random(11);
        for (int s = 0; s < 2; s++) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (Node n : g.inputs()) {
                Op.Input i = (Op.Input) n.op();
                if (n.shape().rank() == 0) {
                    in.put(i.inputName(), Tensor.of(new float[] {0.99f - 0.1f * s}));
                    continue;
                }
                long[] shape = n.shape().evaluate(Map.of("B", 4L));
                float[] x = new float[(int) Tensor.checkedNumel(shape)];
                for (int k = 0; k < x.length; k++) x[k] = (float) rnd.nextGaussian();
                in.put(i.inputName(), Tensor.of(x, shape));
            }
            Map<String, Tensor> a = cpu.run(in, cs, new RunContext(0, s)), b = interp.run(in, is, new RunContext(0, s));
            assertEquals(b.keySet(), a.keySet());
            Golden.assertClose(a.get("out"), b.get("out"), 1e-4, "step " + s + " loss");
            // gradients against the scale of all gradients: some are zero in exact arithmetic (a norm's bias before a BatchNorm)
            double scale = 0;
            for (String k : b.keySet()) scale = Math.max(scale, Golden.maxAbs(b.get(k)));
            for (String k : b.keySet()) {
                double err = Golden.maxDiff(a.get(k), b.get(k)) / Math.max(Golden.maxAbs(b.get(k)), 1e-3 * scale);
                assertTrue(err <= 2e-3, "step " + s + " output " + k + ": relative error " + err);
            }
        }
        cpuStore.putAll(cs.states());
        interpStore.putAll(is.states());
        assertEquals(interpStore.keySet(), cpuStore.keySet());
        for (String k : interpStore.keySet()) Golden.assertClose(cpuStore.get(k), interpStore.get(k), 1e-4, "state after two steps " + k);
        assertTrue(interpStore.keySet().stream().anyMatch(k -> k.startsWith("encoder_k.")));
    }

}
