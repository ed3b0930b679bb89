package mobyc.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Init;
import mobyc.compiler.ir.Node;
import mobyc.compiler.ir.Op;

/**
 * The named parameter and state tensors of a graph, by path, in graph order. Programs read parameters and read
 * and update states through the store; weights are loaded into it all at once or not at all.
 */
public final class ParameterStore {
    private final LinkedHashMap<String, Tensor> params;
    private final LinkedHashMap<String, Tensor> states;

    private ParameterStore(LinkedHashMap<String, Tensor> params, LinkedHashMap<String, Tensor> states) {
        this.params = params;
        this.states = states;
    }

    /**
     * Allocates every parameter and state of {@code g} and fills it by its initialiser with {@code seed}.
     * Shapes must be concrete.
     */
    public static ParameterStore initialise(Graph g, long seed) {
        LinkedHashMap<String, Tensor> params = new LinkedHashMap<>(), states = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            switch (n.op()) {
                case Op.Param p -> params.put(p.path(), create("parameter", p.path(), p.init(), n, seed));
                case Op.State s -> states.put(s.path(), create("state", s.path(), s.init(), n, seed));
                default -> { }
            }
        }
        for (String path : params.keySet())
            if (states.containsKey(path))
                throw new IllegalArgumentException("'" + path + "' names both a parameter and a state of graph " + g.name());
        for (Node n : g.nodes()) copyInit(n, params, states);
        return new ParameterStore(params, states);
    }

    /** Fills a tensor initialised as {@code copy(from)} with the (already initialised) tensor at {@code from}. */
    private static void copyInit(Node n, Map<String, Tensor> params, Map<String, Tensor> states) {
        String path;
        Init init;
        switch (n.op()) {
            case Op.Param p -> { path = p.path(); init = p.init(); }
            case Op.State s -> { path = s.path(); init = s.init(); }
            default -> { return; }
        }
        if (!(init instanceof Init.Copy c)) return;
        Tensor from = params.containsKey(c.from()) ? params.get(c.from()) : states.get(c.from());
        if (from == null) throw new IllegalArgumentException("'" + path + "' is a copy of '" + c.from() + "', which the graph does not have");
        Tensor to = params.containsKey(path) ? params.get(path) : states.get(path);
        if (!java.util.Arrays.equals(from.shape(), to.shape()) || from.dtype() != to.dtype())
            throw new IllegalArgumentException("'" + path + "' " + to.dtype() + java.util.Arrays.toString(to.shape()) + " cannot be a copy of '"
                    + c.from() + "' " + from.dtype() + java.util.Arrays.toString(from.shape()));
        to.copyFrom(from);
    }

    private static Tensor create(String what, String path, Init init, Node n, long seed) {
        if (!n.shape().isConcrete())
            throw new IllegalArgumentException(what + " '" + path + "' has the symbolic shape " + n.shape()
                    + "; parameters and states need known sizes");
        if (!n.dtype().isExecutable())
            throw new IllegalArgumentException(what + " '" + path + "' has dtype " + n.dtype() + "; only f32 and i32 are stored");
        Tensor t = Tensor.zeros(n.dtype(), n.shape().concrete());
        if (!(init instanceof Init.Copy)) Initializers.fill(t, init, seed, path);
        return t;
    }

    /** Parameters by path (the live tensors: writes are seen by later runs). */
    public Map<String, Tensor> params() { return Collections.unmodifiableMap(params); }

    /** States by path (the live tensors, updated after each run). */
    public Map<String, Tensor> states() { return Collections.unmodifiableMap(states); }

    /** The parameter or state at {@code path}, or null. */
    public Tensor get(String path) {
        Tensor t = params.get(path);
        return t != null ? t : states.get(path);
    }

    /**
     * Replaces every parameter and state by the tensor of the same key in {@code weights}. Checks everything
     * first (missing and unexpected keys, shapes, dtypes) and throws one {@link WeightsException} naming
     * {@code sourceName} and listing every problem; in that case nothing is loaded.
     */
    public void load(Map<String, Tensor> weights, String sourceName) {
        List<String> problems = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(params.keySet());
        keys.addAll(states.keySet());
        keys.addAll(weights.keySet());
        for (String key : keys) {
            Tensor mine = get(key), given = weights.get(key);
            if (given == null) problems.add(key + ": missing");
            else if (mine == null) problems.add(key + ": unexpected (the model has no such parameter or state)");
            else {
                if (!Arrays.equals(mine.shape(), given.shape()))
                    problems.add(key + ": shape " + given.shapeString() + ", the model expects " + mine.shapeString());
                if (mine.dtype() != given.dtype())
                    problems.add(key + ": dtype " + given.dtype() + ", the model expects " + mine.dtype());
            }
        }
        if (!problems.isEmpty()) throw new WeightsException(sourceName, problems);
        weights.forEach((key, t) -> get(key).copyFrom(t));
    }
}
