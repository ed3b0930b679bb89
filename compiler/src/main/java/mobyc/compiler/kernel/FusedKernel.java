package mobyc.compiler.kernel;

import java.util.List;
import java.util.StringJoiner;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Shape;

/**
 * A fused elementwise kernel, free of any target detail: for every index (i0, i1, ...) of the output {@code shape}
 * (symbolic sizes allowed), evaluate {@code body} (value-numbered expressions over the {@code inputs}, each read
 * through its index expression) and store the last value. Renderers (Java, later OpenCL C and CUDA C) turn it
 * into code; interp evaluates it directly. Immutable and comparable: equal kernels render equal code.
 */
public record FusedKernel(Shape shape, List<KernelInput> inputs, List<Expr> body) {
    public FusedKernel {
        inputs = List.copyOf(inputs);
        body = List.copyOf(body);
        if (body.isEmpty()) throw new IllegalArgumentException("a fused kernel computes at least one value");
        for (int v = 0; v < body.size(); v++) {
            Expr e = body.get(v);
            for (int o : e.operands())
                if (o < 0 || o >= v) throw new IllegalArgumentException("t" + v + " reads t" + o + ", which is not defined before it");
            if (e instanceof Expr.Load l && (l.input() < 0 || l.input() >= inputs.size() || inputs.get(l.input()).dtype() != l.dtype()))
                throw new IllegalArgumentException("t" + v + " loads input " + l.input() + " wrongly");
            if (!e.dtype().isExecutable()) throw new IllegalArgumentException("t" + v + " has dtype " + e.dtype());
        }
    }

    /** The dtype of the result (the last value). */
    public DType dtype() { return body.getLast().dtype(); }

    /** The ops in order, loads and constants left out: {@code mul add gelu}. */
    public String summary() {
        StringJoiner j = new StringJoiner(" ");
        for (Expr e : body) if (!(e instanceof Expr.Load) && !(e instanceof Expr.Const)) j.add(e.opName());
        return j.toString();
    }

    /** How many values are computed by an op (not loads or constants). */
    public int opCount() {
        int n = 0;
        for (Expr e : body) if (!(e instanceof Expr.Load) && !(e instanceof Expr.Const)) n++;
        return n;
    }

    /**
     * The kernel as loops and expressions:
     * <pre>
     * kernel f32[B, 49, 96] (in0: f32[B, 49, 96], in1: f32[96]) {
     *   for i0 < B, i1 < 49, i2 < 96:
     *     t0 = load in0[i0*4704 + i1*96 + i2] : f32
     *     ...
     *     out[i0, i1, i2] = t4
     * }
     * </pre>
     */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder("kernel ").append(dtype()).append(shape).append(" (");
        for (int k = 0; k < inputs.size(); k++)
            sb.append(k == 0 ? "" : ", ").append("in").append(k).append(": ").append(inputs.get(k).dtype()).append(inputs.get(k).shape());
        sb.append(") {\n  for ");
        StringBuilder idx = new StringBuilder();
        for (int j = 0; j < shape.rank(); j++) {
            sb.append(j == 0 ? "" : ", ").append('i').append(j).append(" < ").append(shape.dim(j));
            idx.append(j == 0 ? "" : ", ").append('i').append(j);
        }
        if (shape.rank() == 0) sb.append("one element");
        sb.append(":\n");
        for (int v = 0; v < body.size(); v++) {
            Expr e = body.get(v);
            sb.append("    t").append(v).append(" = ").append(e.text());
            if (e instanceof Expr.Load l) sb.append('[').append(inputs.get(l.input()).indexText()).append(']');
            sb.append(" : ").append(e.dtype()).append('\n');
        }
        sb.append("    out[").append(idx).append("] = t").append(body.size() - 1).append("\n}\n");
        return sb.toString();
    }
}
