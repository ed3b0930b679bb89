package mobyc.compiler.lower;

import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Shape;

/**
 * What a backend runs: buffers with (possibly symbolic) shapes and an ordered list of kernels over them.
 * Today every non-source node becomes one kernel; fusion and memory planning will rewrite this structure.
 */
public record Program(Graph graph, List<Buffer> buffers, List<Kernel> kernels,
                      SequencedMap<String, Integer> outputs, SequencedMap<String, Integer> updates) {

    public enum Kind { INPUT, PARAM, STATE, TEMP }

    /** {@code name} is the input name or parameter/state path for bound buffers, null for temporaries. */
    public record Buffer(int id, Kind kind, String name, DType dtype, Shape shape) {}

    /** Applies {@code op} to the input buffers and writes the output buffer. */
    public record Kernel(Op op, List<Integer> inputs, int output, int nodeId) {}

    public Buffer buffer(int id) { return buffers.get(id); }

    public Map<String, Integer> bound(Kind kind) {
        java.util.LinkedHashMap<String, Integer> m = new java.util.LinkedHashMap<>();
        for (Buffer b : buffers) if (b.kind() == kind) m.put(b.name(), b.id());
        return m;
    }
}
