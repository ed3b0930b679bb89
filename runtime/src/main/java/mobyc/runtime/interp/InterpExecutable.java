package mobyc.runtime.interp;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.compiler.lower.Program;
import mobyc.runtime.Executable;
import mobyc.runtime.InputBinding;
import mobyc.runtime.ParameterStore;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/**
 * Runs a program kernel by kernel with the scalar interp kernels. Temporaries come from a pool of zeroed buffers
 * (by element count) and go back to it after their last use, so a steady stream of runs allocates only its results;
 * inputs, parameters and states are read in place.
 */
final class InterpExecutable implements Executable {
    private final Program program;
    /** For each buffer, the index of the last kernel that reads it (-1 if none). */
    private final int[] lastUse;
    /** Buffers that outlive the kernels: outputs and updates. */
    private final Set<Integer> results = new HashSet<>();
    /** Free temporaries by element count. */
    private final Map<Long, ArrayDeque<Tensor>> pool = new HashMap<>();

    InterpExecutable(Program program) {
        this.program = program;
        this.lastUse = new int[program.buffers().size()];
        Arrays.fill(lastUse, -1);
        List<Program.Kernel> kernels = program.kernels();
        for (int k = 0; k < kernels.size(); k++) for (int b : kernels.get(k).inputs()) lastUse[b] = k;
        results.addAll(program.outputs().values());
        results.addAll(program.updates().values());
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs, ParameterStore store, RunContext ctx) {
        Map<String, Long> bindings = InputBinding.bind(program, inputs, store);
        Tensor[] buffers = InputBinding.sources(program, inputs, store);
        List<Program.Kernel> kernels = program.kernels();
        for (int k = 0; k < kernels.size(); k++) {
            Program.Kernel kernel = kernels.get(k);
            Program.Buffer target = program.buffer(kernel.output());
            long[] shape = InputBinding.shapeOf(target, bindings);
            Tensor out = results.contains(kernel.output()) ? Tensor.zeros(target.dtype(), shape) : take(target.dtype(), shape);
            Tensor[] in = new Tensor[kernel.inputs().size()];
            for (int i = 0; i < in.length; i++) in[i] = buffers[kernel.inputs().get(i)];
            Kernels.run(kernel.op(), in, out, ctx);
            buffers[kernel.output()] = out;
            for (int b : kernel.inputs())
                if (lastUse[b] == k && !results.contains(b) && program.buffer(b).kind() == Program.Kind.TEMP && buffers[b] != null) {
                    pool.computeIfAbsent(buffers[b].numel(), n -> new ArrayDeque<>()).push(buffers[b]);
                    buffers[b] = null;
                }
        }
        LinkedHashMap<String, Tensor> outputs = InputBinding.outputs(program, buffers);
        applyUpdates(buffers, store);
        return outputs;
    }

    private Tensor take(mobyc.compiler.ir.DType dtype, long[] shape) {
        ArrayDeque<Tensor> free = pool.get(Tensor.checkedNumel(shape));
        if (free == null || free.isEmpty()) return Tensor.zeros(dtype, shape);
        Tensor t = free.pop();
        t.segment().fill((byte) 0);
        return t.reinterpret(dtype, shape);
    }

    /** Takes every new state value first (a state may be updated to another state's old value), then writes them. */
    private void applyUpdates(Tensor[] buffers, ParameterStore store) {
        LinkedHashMap<String, Tensor> values = new LinkedHashMap<>();
        program.updates().forEach((path, b) ->
                values.put(path, program.buffer(b).kind() == Program.Kind.TEMP ? buffers[b] : buffers[b].copy()));
        values.forEach((path, v) -> store.states().get(path).copyFrom(v));
    }
}
