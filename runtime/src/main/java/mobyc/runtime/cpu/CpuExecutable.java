package mobyc.runtime.cpu;

import java.util.ArrayDeque;
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
import mobyc.compiler.lower.Program;
import mobyc.runtime.Executable;
import mobyc.runtime.InputBinding;
import mobyc.runtime.KernelProfile;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;
import mobyc.runtime.interp.Kernels;

/**
 * Runs a program kernel by kernel with the cpu kernels, or the interp kernel where {@link CpuKernels#fast} says
 * the cpu has none (decided here, once, and logged in one line). Temporaries, including values that only feed
 * state updates, come from a pool of buffers keyed by element count and go back to it after their last use, so
 * after the first run a steady stream of runs allocates only the outputs it hands out. Kernels write every
 * element of their output, so pooled buffers are not cleared. Outputs, updates and errors behave as interp's.
 * One run at a time: {@link #run} is synchronized.
 */
final class CpuExecutable implements Executable {
    private static final System.Logger LOG = System.getLogger(CpuExecutable.class.getName());

    private final Program program;
    private final CpuKernels kernels;
    /** Per kernel: run the interp kernel instead. */
    private final boolean[] scalar;
    /** For each buffer, the index of the last kernel that reads it (-1 if none). */
    private final int[] lastUse;
    private final Set<Integer> outputs = new HashSet<>();
    /** Buffers that outlive the kernels: outputs and updates. */
    private final Set<Integer> results = new HashSet<>();
    /** Free temporaries by element count. */
    private final Map<Long, ArrayDeque<Tensor>> pool = new HashMap<>();
    /** How many temporaries the pool had to allocate, over all runs. */
    private long allocated;
    private volatile KernelProfile profile;

    CpuExecutable(Program program, Gemm gemm, boolean vector) {
        this.program = program;
        List<Program.Kernel> list = program.kernels();
        this.kernels = vector ? new CpuKernels(gemm) : null;
        this.scalar = new boolean[list.size()];
        this.lastUse = new int[program.buffers().size()];
        Arrays.fill(lastUse, -1);
        TreeMap<String, Integer> fallbacks = new TreeMap<>();
        for (int k = 0; k < list.size(); k++) {
            Program.Kernel kernel = list.get(k);
            for (int b : kernel.inputs()) lastUse[b] = k;
            List<DType> types = kernel.inputs().stream().map(b -> program.buffer(b).dtype()).toList();
            scalar[k] = !vector || !CpuKernels.fast(kernel.op(), types);
            if (scalar[k]) fallbacks.merge(kernel.op().name() + (types.isEmpty() ? "" : " " + types.getFirst()), 1, Integer::sum);
        }
        outputs.addAll(program.outputs().values());
        results.addAll(outputs);
        results.addAll(program.updates().values());
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

    /** How many temporaries have been allocated so far (constant once runs repeat the same shapes). */
    synchronized long temporariesAllocated() { return allocated; }

    @Override
    public synchronized Map<String, Tensor> run(Map<String, Tensor> inputs, ParameterStore store, RunContext ctx) {
        Map<String, Long> bindings = InputBinding.bind(program, inputs, store);
        Tensor[] buffers = InputBinding.sources(program, inputs, store);
        List<Program.Kernel> list = program.kernels();
        for (int k = 0; k < list.size(); k++) {
            Program.Kernel kernel = list.get(k);
            Program.Buffer target = program.buffer(kernel.output());
            long[] shape = InputBinding.shapeOf(target, bindings);
            Tensor out = outputs.contains(kernel.output()) ? Tensor.zeros(target.dtype(), shape) : take(target.dtype(), shape);
            Tensor[] in = new Tensor[kernel.inputs().size()];
            for (int i = 0; i < in.length; i++) in[i] = buffers[kernel.inputs().get(i)];
            KernelProfile prof = profile;
            long t0 = prof == null ? 0 : System.nanoTime();
            if (scalar[k]) Kernels.run(kernel.op(), in, out, ctx);
            else kernels.run(kernel.op(), in, out, ctx);
            if (prof != null) profile(prof, kernel, shape, bindings, System.nanoTime() - t0);
            buffers[kernel.output()] = out;
            for (int b : kernel.inputs()) if (lastUse[b] == k) release(buffers, b);
            if (lastUse[kernel.output()] < 0) release(buffers, kernel.output()); // computed but never read
        }
        LinkedHashMap<String, Tensor> result = InputBinding.outputs(program, buffers);
        applyUpdates(buffers, store);
        return result;
    }

    private void profile(KernelProfile prof, Program.Kernel kernel, long[] shape, Map<String, Long> bindings, long nanos) {
        long flops = Flops.of(program.graph().nodes().get(kernel.nodeId())).evaluate(bindings);
        String detail = Arrays.toString(shape) + (kernel.op().attrs().isEmpty() ? "" : " " + kernel.op().attrs());
        prof.record(kernel.op().name(), detail, nanos, kernel.op() instanceof mobyc.compiler.ir.Op.MatMul ? flops : 0);
    }

    /** Returns a temporary that is neither an output nor an update to the pool. */
    private void release(Tensor[] buffers, int b) {
        if (results.contains(b) || program.buffer(b).kind() != Program.Kind.TEMP || buffers[b] == null) return;
        pool.computeIfAbsent(buffers[b].numel(), n -> new ArrayDeque<>()).push(buffers[b]);
        buffers[b] = null;
    }

    private Tensor take(DType dtype, long[] shape) {
        ArrayDeque<Tensor> free = pool.get(Tensor.checkedNumel(shape));
        if (free == null || free.isEmpty()) {
            allocated++;
            return Tensor.zeros(dtype, shape);
        }
        return free.pop().reinterpret(dtype, shape);
    }

    /**
     * Takes every new state value first (a state may be updated to another state's old value), then writes them;
     * values that are not outputs then go back to the pool.
     */
    private void applyUpdates(Tensor[] buffers, ParameterStore store) {
        LinkedHashMap<String, Tensor> values = new LinkedHashMap<>();
        program.updates().forEach((path, b) ->
                values.put(path, program.buffer(b).kind() == Program.Kind.TEMP ? buffers[b] : buffers[b].copy()));
        values.forEach((path, v) -> store.states().get(path).copyFrom(v));
        for (int b : new HashSet<>(program.updates().values())) {
            if (outputs.contains(b) || program.buffer(b).kind() != Program.Kind.TEMP) continue;
            pool.computeIfAbsent(buffers[b].numel(), n -> new ArrayDeque<>()).push(buffers[b]);
            buffers[b] = null;
        }
    }
}
