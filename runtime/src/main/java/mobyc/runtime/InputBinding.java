package mobyc.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Shape;
import mobyc.compiler.lower.Program;

/**
 * Checks a program's inputs and parameters against what it declares and binds its symbolic dimensions: each
 * declared dimension that is a single symbol (B) takes the input's actual size; then every declared dimension
 * is evaluated and must equal the actual one. Shared by all backends, so they all refuse the same inputs with
 * the same messages.
 */
public final class InputBinding {
    private InputBinding() {}

    /**
     * Validates {@code inputs} and {@code store} for {@code p} and returns the symbol bindings.
     *
     * @throws IllegalArgumentException naming the input, the declared and the actual shape or dtype
     */
    public static Map<String, Long> bind(Program p, Map<String, Tensor> inputs, ParameterStore store) {
        Map<String, Integer> declared = p.bound(Program.Kind.INPUT);
        checkNames(declared, inputs);
        Map<String, Long> bindings = new HashMap<>();
        Map<String, String> boundBy = new HashMap<>();
        for (var e : declared.entrySet()) {
            Program.Buffer b = p.buffer(e.getValue());
            Tensor t = inputs.get(e.getKey());
            if (t.dtype() != b.dtype())
                throw new IllegalArgumentException("input " + e.getKey() + ": expected " + b.dtype() + ", got " + t.dtype());
            if (t.rank() != b.shape().rank()) throw mismatch(e.getKey(), b.shape(), t);
            for (int i = 0; i < t.rank(); i++) {
                String symbol = singleSymbol(b.shape().dim(i));
                if (symbol == null) continue;
                Long old = bindings.putIfAbsent(symbol, t.dim(i));
                if (old == null) boundBy.put(symbol, e.getKey());
                else if (old != t.dim(i))
                    throw new IllegalArgumentException("input " + e.getKey() + ": expected " + b.shape() + ", got "
                            + t.shapeString() + " (" + symbol + " = " + old + " from input " + boundBy.get(symbol) + ")");
            }
        }
        for (var e : declared.entrySet()) {
            Shape s = p.buffer(e.getValue()).shape();
            Tensor t = inputs.get(e.getKey());
            for (String symbol : s.symbols())
                if (!bindings.containsKey(symbol))
                    throw new IllegalArgumentException("input " + e.getKey() + ": cannot tell " + symbol + " from shape "
                            + t.shapeString() + " (declared " + s + "); no input has " + symbol + " alone as a dimension");
            if (!Arrays.equals(s.evaluate(bindings), t.shape())) throw mismatch(e.getKey(), s, t);
        }
        checkStore(p, Program.Kind.PARAM, store.params(), "parameter");
        checkStore(p, Program.Kind.STATE, store.states(), "state");
        return bindings;
    }

    /** The concrete shape of a buffer under {@code bindings}. */
    public static long[] shapeOf(Program.Buffer b, Map<String, Long> bindings) {
        long[] shape = b.shape().evaluate(bindings);
        for (long d : shape)
            if (d < 0) throw new IllegalArgumentException("buffer " + b.id() + " would have the negative size " + Arrays.toString(shape));
        return shape;
    }

    private static void checkNames(Map<String, Integer> declared, Map<String, Tensor> inputs) {
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>();
        for (String name : declared.keySet()) if (inputs.get(name) == null) missing.add(name);
        for (String name : inputs.keySet()) if (!declared.containsKey(name)) extra.add(name);
        if (missing.isEmpty() && extra.isEmpty()) return;
        StringBuilder sb = new StringBuilder();
        if (!missing.isEmpty()) sb.append("missing input").append(missing.size() > 1 ? "s " : " ").append(String.join(", ", missing));
        if (!extra.isEmpty()) sb.append(sb.isEmpty() ? "" : "; ").append("unexpected input").append(extra.size() > 1 ? "s " : " ").append(String.join(", ", extra));
        sb.append(" (the program takes ").append(declared.isEmpty() ? "no inputs" : String.join(", ", declared.keySet())).append(')');
        throw new IllegalArgumentException(sb.toString());
    }

    private static void checkStore(Program p, Program.Kind kind, Map<String, Tensor> tensors, String what) {
        for (var e : p.bound(kind).entrySet()) {
            Program.Buffer b = p.buffer(e.getValue());
            Tensor t = tensors.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("the parameter store has no " + what + " '" + e.getKey() + "'");
            if (t.dtype() != b.dtype() || !b.shape().isConcrete() || !Arrays.equals(b.shape().concrete(), t.shape()))
                throw new IllegalArgumentException(what + " '" + e.getKey() + "': the program expects " + b.dtype() + b.shape()
                        + ", the store holds " + t);
        }
    }

    private static String singleSymbol(Dim d) {
        List<String> symbols = d.symbols();
        return symbols.size() == 1 && d.equals(Dim.sym(symbols.getFirst())) ? symbols.getFirst() : null;
    }

    private static IllegalArgumentException mismatch(String name, Shape declared, Tensor t) {
        return new IllegalArgumentException("input " + name + ": expected " + declared + ", got " + t.shapeString());
    }

    /** One slot per buffer of {@code p}: inputs, parameters and states bound to their tensors, temporaries null. */
    public static Tensor[] sources(Program p, Map<String, Tensor> inputs, ParameterStore store) {
        Tensor[] buffers = new Tensor[p.buffers().size()];
        for (Program.Buffer b : p.buffers()) {
            buffers[b.id()] = switch (b.kind()) {
                case INPUT -> inputs.get(b.name());
                case PARAM -> store.params().get(b.name());
                case STATE -> store.states().get(b.name());
                case TEMP -> null;
            };
        }
        return buffers;
    }

    /**
     * The program's outputs by name: a temporary is handed out as it is (once; a second output naming the same
     * buffer gets a copy), a bound buffer (input, parameter, state) as a copy.
     */
    public static java.util.LinkedHashMap<String, Tensor> outputs(Program p, Tensor[] buffers) {
        java.util.LinkedHashMap<String, Tensor> out = new java.util.LinkedHashMap<>();
        java.util.Set<Integer> handedOut = new java.util.HashSet<>();
        p.outputs().forEach((name, b) -> {
            boolean fresh = p.buffer(b).kind() == Program.Kind.TEMP && handedOut.add(b);
            out.put(name, fresh ? buffers[b] : buffers[b].copy());
        });
        return out;
    }
}
