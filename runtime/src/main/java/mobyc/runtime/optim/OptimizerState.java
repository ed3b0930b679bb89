package mobyc.runtime.optim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;

/**
 * The state shared by every optimiser: a step counter and, per buffer kind (for instance {@code exp_avg}), one
 * f32 buffer per parameter, allocated lazily with the parameters' shapes. Also checks each step's arguments.
 */
final class OptimizerState {
    /** The element layout of {@link Tensor#segment()}. */
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ParamGroups groups;
    private final String[] kinds;
    /** [kind][parameter]; null until the first step or a load. */
    private Tensor[][] buffers;
    private long steps;

    OptimizerState(ParamGroups groups, String... kinds) {
        this.groups = groups;
        this.kinds = kinds.clone();
    }

    long steps() { return steps; }

    /** Counts one more step and returns the new count (1 for the first step). */
    long advance() { return ++steps; }

    /** The buffer of kind {@code kind} (an index into the constructor's kinds) for parameter {@code param}. */
    MemorySegment buffer(int kind, int param) { return buffers[kind][param].segment(); }

    /** The buffers of kind {@code kind} for every parameter, in step order. */
    MemorySegment[] buffers(int kind) {
        MemorySegment[] s = new MemorySegment[buffers[kind].length];
        for (int i = 0; i < s.length; i++) s[i] = buffers[kind][i].segment();
        return s;
    }

    /** Checks that {@code params} and {@code grads} match the groups, and allocates the buffers if needed. */
    void prepare(List<Tensor> params, List<Tensor> grads) {
        int n = groups.size();
        if (params.size() != n || grads.size() != n)
            throw new IllegalArgumentException("this optimiser updates " + n + " parameters; got " + params.size()
                    + " parameters and " + grads.size() + " gradients");
        for (int i = 0; i < n; i++) {
            check("parameter", i, params.get(i));
            check("gradient", i, grads.get(i));
        }
        if (buffers == null && kinds.length > 0) buffers = allocate();
    }

    private void check(String what, int i, Tensor t) {
        if (t == null) throw new IllegalArgumentException("no " + what + " for '" + groups.path(i) + "'");
        long[] expected = groups.entry(i).shapeRef();
        boolean same = t.dtype() == DType.F32 && t.rank() == expected.length;
        for (int d = 0; same && d < expected.length; d++) same = t.dim(d) == expected[d];
        if (!same)
            throw new IllegalArgumentException("the " + what + " of '" + groups.path(i) + "' is " + t + "; expected f32"
                    + Arrays.toString(expected));
    }

    private Tensor[][] allocate() {
        Tensor[][] b = new Tensor[kinds.length][groups.size()];
        for (Tensor[] row : b)
            for (int i = 0; i < row.length; i++) row[i] = Tensor.zeros(DType.F32, groups.entry(i).shapeRef());
        return b;
    }

    Map<String, Tensor> snapshot(List<String> names) {
        checkNames(names);
        if (steps > Integer.MAX_VALUE) throw new IllegalStateException("step counter " + steps + " exceeds the i32 state");
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        out.put(Optimizer.STEP_KEY, Tensor.ofInts(new int[] {(int) steps}, 1));
        if (buffers != null)
            for (int i = 0; i < names.size(); i++)
                for (int k = 0; k < kinds.length; k++) out.put(key(names, i, k), buffers[k][i].copy());
        return out;
    }

    void load(Map<String, Tensor> state, List<String> names) {
        checkNames(names);
        List<String> problems = new ArrayList<>();
        Tensor step = state.get(Optimizer.STEP_KEY);
        long loadedSteps = 0;
        if (step == null) problems.add("missing key '" + Optimizer.STEP_KEY + "'");
        else if (step.dtype() != DType.I32 || step.rank() != 1 || step.dim(0) != 1)
            problems.add("'" + Optimizer.STEP_KEY + "' is " + step + "; expected i32[1]");
        else if ((loadedSteps = step.getInt(0)) < 0) problems.add("'" + Optimizer.STEP_KEY + "' is negative: " + loadedSteps);

        TreeSet<String> expected = new TreeSet<>();
        for (int i = 0; i < names.size(); i++)
            for (int k = 0; k < kinds.length; k++) expected.add(key(names, i, k));
        boolean anyBuffer = expected.stream().anyMatch(state::containsKey);
        boolean withBuffers = anyBuffer || loadedSteps > 0;
        for (int i = 0; withBuffers && i < names.size(); i++) {
            long[] shape = groups.entry(i).shapeRef();
            for (int k = 0; k < kinds.length; k++) {
                String key = key(names, i, k);
                Tensor t = state.get(key);
                if (t == null) problems.add("missing key '" + key + "'");
                else if (t.dtype() != DType.F32 || !Arrays.equals(t.shape(), shape))
                    problems.add("'" + key + "' is " + t + "; expected f32" + Arrays.toString(shape));
            }
        }
        for (String key : new TreeSet<>(state.keySet()))
            if (!key.equals(Optimizer.STEP_KEY) && !expected.contains(key)) problems.add("unexpected key '" + key + "'");
        if (!problems.isEmpty())
            throw new IllegalArgumentException("cannot load the optimiser state: " + problems.size() + " problem"
                    + (problems.size() == 1 ? "" : "s") + "\n  " + String.join("\n  ", problems));

        Tensor[][] loaded = null;
        if (withBuffers && kinds.length > 0) {
            loaded = new Tensor[kinds.length][names.size()];
            for (int k = 0; k < kinds.length; k++)
                for (int i = 0; i < names.size(); i++) loaded[k][i] = state.get(key(names, i, k)).copy();
        }
        buffers = loaded;
        steps = loadedSteps;
    }

    private String key(List<String> names, int param, int kind) { return names.get(param) + "." + kinds[kind]; }

    private void checkNames(List<String> names) {
        if (names.size() != groups.size())
            throw new IllegalArgumentException(names.size() + " parameter names given; this optimiser updates "
                    + groups.size() + " parameters");
    }
}
