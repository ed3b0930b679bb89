package mobyc.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Flops;
import mobyc.compiler.ir.Op;
import mobyc.compiler.lower.Program;
import mobyc.compiler.plan.MemoryPlan;
import mobyc.compiler.plan.Siblings;
import mobyc.runtime.Executable;
import mobyc.runtime.HugePages;
import mobyc.runtime.InputBinding;
import mobyc.runtime.KernelProfile;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.interp.Kernels;

/**
 * Runs a program kernel by kernel with the cpu kernels, or the interp kernel where {@link CpuKernels#fast} says
 * the cpu has none (decided here, once, and logged in one line). Temporaries live in one arena laid out by the
 * compiler's {@link MemoryPlan} (planned once per set of bound sizes, the arena kept between runs and grown only
 * when a larger plan needs it); reshapes, stop_gradients and contiguous slices of temporaries are views, not
 * kernels (see {@link MemoryPlan#viewStart}). Outputs are
 * fresh tensors each run, or tensors of an earlier run the caller handed back ({@link #recycle}). Kernels write every element of their output, so arena bytes are not cleared. Outputs,
 * updates and errors behave as interp's. One run at a time: {@link #run} is synchronized.
 */
final class CpuExecutable implements Executable {
    private static final System.Logger LOG = System.getLogger(CpuExecutable.class.getName());

    private final Program program;
    private final CpuKernels kernels;
    /** Per kernel: run the interp kernel instead. */
    private final boolean[] scalar;
    /** Per kernel: its attention_grad / attention_bias_grad partner ({@link CpuKernels#attentionPairs}), or -1. */
    private final int[] pair;
    /** Per kernel: its layer_norm_grad / layer_norm_param_grad partner ({@link CpuKernels#layerNormPairs}), or -1. */
    private final int[] normPair;
    /** Per kernel: its weight-gradient matmul / bias-gradient reduce_sum partner ({@link CpuKernels#biasGradPairs}), or -1. */
    private final int[] biasPair;
    /** Per kernel: its output is written by the kernel before it, a gelu matmul with this dgelu sibling ({@link Siblings}). */
    private final boolean[] sibling;
    /** Bias (parameter) gradients an attention_grad (layer_norm_grad, weight-gradient matmul) computed for its partner, by its index. */
    private final Map<Integer, MemorySegment> carried = new HashMap<>();
    private final Set<Integer> outputs = new HashSet<>();
    /** Plans by bound sizes. */
    private final Map<Map<String, Long>, MemoryPlan> plans = new HashMap<>();
    private MemorySegment arena = MemorySegment.NULL;
    /** Output tensors handed back for reuse, and those the latest runs returned, by output buffer. */
    private final Map<Integer, Tensor> spare = new HashMap<>(), returned = new HashMap<>();
    /** How many times the arena had to be (re)allocated, over all runs. */
    private long allocated;
    private volatile KernelProfile profile;

    CpuExecutable(Program program, Gemm gemm, boolean vector) {
        this.program = program;
        List<Program.Kernel> list = program.kernels();
        this.kernels = vector ? new CpuKernels(gemm) : null;
        this.scalar = new boolean[list.size()];
        TreeMap<String, Integer> fallbacks = new TreeMap<>();
        for (int k = 0; k < list.size(); k++) {
            Program.Kernel kernel = list.get(k);
            List<DType> types = kernel.inputs().stream().map(b -> program.buffer(b).dtype()).toList();
            scalar[k] = !vector || !CpuKernels.fast(kernel.op(), types);
            if (scalar[k]) fallbacks.merge(kernel.op().name() + (types.isEmpty() ? "" : " " + types.getFirst()), 1, Integer::sum);
        }
        this.pair = CpuKernels.attentionPairs(list, scalar);
        this.normPair = CpuKernels.layerNormPairs(list, scalar);
        this.biasPair = CpuKernels.biasGradPairs(program, scalar);
        this.sibling = Siblings.withPrevious(program);
        for (int k = 1; k < list.size(); k++) sibling[k] &= !scalar[k] && !scalar[k - 1];
        outputs.addAll(program.outputs().values());
        if (!vector) {
            LOG.log(System.Logger.Level.INFO, "cpu: module jdk.incubator.vector is absent (add --add-modules jdk.incubator.vector);"
                    + " all {0} kernels of {1} run on the interp scalar kernels", list.size(), program.graph().name());
        } else if (!fallbacks.isEmpty()) {
            StringBuilder which = new StringBuilder();
            fallbacks.forEach((op, n) -> which.append(which.isEmpty() ? "" : ", ").append(op).append(n > 1 ? " x" + n : ""));
            int count = fallbacks.values().stream().mapToInt(Integer::intValue).sum();
            LOG.log(System.Logger.Level.INFO, "cpu: {0} of {1} kernels of {2} run on the interp scalar kernels (no cpu kernel): {3}",
                    count, list.size(), program.graph().name(), which);
        }
    }

    @Override public void profile(KernelProfile p) { profile = p; }

    /** How many kernels run on the interp kernels. */
    int fallbackCount() {
        int n = 0;
        for (boolean s : scalar) if (s) n++;
        return n;
    }

    /** How many kernels are computed with the kernel before them ({@link Siblings}). */
    int siblingCount() {
        int n = 0;
        for (boolean s : sibling) if (s) n++;
        return n;
    }

    /** How many weight gradients compute their bias's gradient too ({@link CpuKernels#biasGradPairs}). */
    int biasGradPairCount() {
        int n = 0;
        for (int k = 0; k < biasPair.length; k++) if (biasPair[k] > k) n++;
        return n;
    }

    /** How many times the temporaries' arena has been allocated so far (constant once runs repeat the same shapes). */
    synchronized long temporariesAllocated() { return allocated; }

    /** The plan this executable uses for the given bound sizes. */
    synchronized MemoryPlan plan(Map<String, Long> bindings) { return planFor(bindings); }

    /** {@link #plan}, for a caller that holds this executable's lock or runs for one that does. */
    private MemoryPlan planFor(Map<String, Long> bindings) {
        return plans.computeIfAbsent(Map.copyOf(bindings), b -> MemoryPlan.of(program, b, false));
    }

    /**
     * Runs the kernels on the calling thread, as the leader of a {@link Team} of the pool's other workers that stay
     * awake between kernels. Without one (one thread, a team already up elsewhere, or a tensor in an arena confined
     * to the calling thread, which a worker could not read) the kernels split their loops over the pool as usual.
     */
    @Override
    public synchronized Map<String, Tensor> run(Map<String, Tensor> inputs, ParameterStore store, RunContext ctx) {
        return Team.lead(reachable(inputs, store), () -> runHere(inputs, store, ctx));
    }

    /** Whether the pool's workers may read and write every tensor of a run. */
    private static boolean reachable(Map<String, Tensor> inputs, ParameterStore store) {
        for (Tensor t : inputs.values()) if (!CpuPool.reachable(t.segment())) return false;
        if (store != null) {
            for (Tensor t : store.params().values()) if (!CpuPool.reachable(t.segment())) return false;
            for (Tensor t : store.states().values()) if (!CpuPool.reachable(t.segment())) return false;
        }
        return true;
    }

    private Map<String, Tensor> runHere(Map<String, Tensor> inputs, ParameterStore store, RunContext ctx) {
        Map<String, Long> bindings = InputBinding.bind(program, inputs, store);
        Tensor[] buffers = InputBinding.sources(program, inputs, store);
        MemoryPlan plan = planFor(bindings);
        if (arena.byteSize() < plan.arenaBytes()) {
            arena = HugePages.allocate(plan.arenaBytes(), MemoryPlan.ALIGN);
            allocated++;
        }
        List<Program.Kernel> list = program.kernels();
        KernelProfile prof = profile;
        for (int k = 0; k < list.size(); k++) {
            Program.Kernel kernel = list.get(k);
            int o = kernel.output();
            Program.Buffer target = program.buffer(o);
            long[] shape = InputBinding.shapeOf(target, bindings);
            if (plan.aliasOf()[o] >= 0) { // a view of its operand's bytes
                MemorySegment root = buffers[plan.aliasOf()[o]].segment();
                buffers[o] = Tensor.over(root.asSlice(plan.viewOffset()[o], Tensor.checkedNumel(shape) * Tensor.ELEMENT_BYTES), target.dtype(), shape);
                continue;
            }
            if (sibling[k]) continue; // written with the kernel before it
            Tensor out = outputTensor(o, target, shape, plan);
            Tensor[] in = new Tensor[kernel.inputs().size()];
            for (int i = 0; i < in.length; i++) in[i] = buffers[kernel.inputs().get(i)];
            long t0 = prof == null ? 0 : System.nanoTime();
            if (scalar[k]) Kernels.run(kernel.op(), in, out, ctx);
            else if (pair[k] > k) kernels.attentionGrads((Op.AttentionGrad) kernel.op(), in, out, carry(k, list.get(pair[k]), bindings));
            else if (pair[k] >= 0) MemorySegment.copy(carried.get(pair[k]), 0, out.segment(), 0, out.segment().byteSize());
            else if (normPair[k] >= 0) layerNormPair(k, kernel, in, out, bindings);
            else if (biasPair[k] > k) kernels.matmulWithSums((Op.MatMul) kernel.op(), in, out, carry(k, list.get(biasPair[k]), bindings));
            else if (biasPair[k] >= 0) MemorySegment.copy(carried.get(biasPair[k]), 0, out.segment(), 0, out.segment().byteSize());
            else if (k + 1 < list.size() && sibling[k + 1]) {
                int d = list.get(k + 1).output();
                Program.Buffer db = program.buffer(d);
                buffers[d] = outputTensor(d, db, InputBinding.shapeOf(db, bindings), plan);
                kernels.geluPair((Op.MatMul) kernel.op(), in, out, buffers[d]);
            }
            else kernels.run(kernel.op(), in, out, ctx);
            if (prof != null) profile(prof, kernel, shape, bindings, System.nanoTime() - t0);
            buffers[o] = out;
        }
        LinkedHashMap<String, Tensor> result = InputBinding.outputs(program, buffers);
        applyUpdates(buffers, store);
        return result;
    }

    /** The tensor buffer {@code o} is written into: a fresh output, or its bytes of the arena. */
    private Tensor outputTensor(int o, Program.Buffer target, long[] shape, MemoryPlan plan) {
        return outputs.contains(o) ? freshOutput(o, target.dtype(), shape)
                : Tensor.over(arena.asSlice(plan.offsets()[o], Tensor.checkedNumel(shape) * Tensor.ELEMENT_BYTES), target.dtype(), shape);
    }

    /**
     * Kernel k of a layer-norm pair: the layer_norm_grad computes both, the parameter gradient into a carried
     * segment, which the later layer_norm_param_grad copies out.
     */
    private void layerNormPair(int k, Program.Kernel kernel, Tensor[] in, Tensor out, Map<String, Long> bindings) {
        int p = normPair[k];
        if (p < k) {
            MemorySegment.copy(carried.get(p), 0, out.segment(), 0, out.segment().byteSize());
            return;
        }
        Program.Kernel partner = program.kernels().get(p);
        Tensor params = Tensor.over(carry(k, partner, bindings), DType.F32, InputBinding.shapeOf(program.buffer(partner.output()), bindings));
        kernels.layerNormGrads((Op.LayerNormGrad) kernel.op(), in, out, params);
    }

    /** Where attention_grad (or layer_norm_grad) {@code k} puts the bias (parameter) gradient its partner then copies out. */
    private MemorySegment carry(int k, Program.Kernel partner, Map<String, Long> bindings) {
        long bytes = Tensor.checkedNumel(InputBinding.shapeOf(program.buffer(partner.output()), bindings)) * Tensor.ELEMENT_BYTES;
        MemorySegment c = carried.get(k);
        if (c == null || c.byteSize() != bytes) carried.put(k, c = Arena.ofAuto().allocate(bytes, 64));
        return c;
    }

    /** An output's tensor: one handed back by {@link #recycle} when it fits, else a new one. */
    private Tensor freshOutput(int buffer, DType dtype, long[] shape) {
        Tensor t = spare.remove(buffer);
        if (t == null || t.dtype() != dtype || !Arrays.equals(t.shape(), shape)) t = Tensor.zeros(dtype, shape);
        returned.put(buffer, t);
        return t;
    }

    /** Takes back the tensors the last run allocated for its outputs (by identity); see {@link Executable#recycle}. */
    @Override
    public synchronized void recycle(Map<String, Tensor> outs) {
        outs.forEach((name, t) -> {
            Integer b = program.outputs().get(name);
            if (b != null && t != null && returned.get(b) == t) {
                returned.remove(b);
                spare.put(b, t);
            }
        });
    }

    private void profile(KernelProfile prof, Program.Kernel kernel, long[] shape, Map<String, Long> bindings, long nanos) {
        long flops = Flops.of(program.graph().nodes().get(kernel.nodeId())).evaluate(bindings);
        String detail = Arrays.toString(shape) + (kernel.op().attrs().isEmpty() ? "" : " " + kernel.op().attrs());
        prof.record(kernel.op().name(), detail, nanos, kernel.op() instanceof mobyc.compiler.ir.Op.MatMul ? flops : 0);
    }

    /** Takes every new state value first (a state may be updated to another state's old value), then writes them. */
    private void applyUpdates(Tensor[] buffers, ParameterStore store) {
        LinkedHashMap<String, Tensor> values = new LinkedHashMap<>();
        program.updates().forEach((path, b) ->
                values.put(path, program.buffer(b).kind() == Program.Kind.TEMP ? buffers[b] : buffers[b].copy()));
        values.forEach((path, v) -> store.states().get(path).copyFrom(v));
    }
}
