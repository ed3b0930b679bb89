package mobyc.compiler.kernel;

import java.util.ArrayList;
import java.util.List;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Shape;

/**
 * One tensor a fused kernel reads, and how: its dtype and shape, and the index expression that maps the output's
 * loop indices (i0, i1, ...) to its element: {@code sum_j i_j * strides[j]}, row-major over its own shape, with
 * stride 0 on the output axes it is broadcast along (NumPy broadcasting: aligned on the right, size-1 or missing
 * axes repeat). Strides may be symbolic.
 */
public record KernelInput(DType dtype, Shape shape, List<Dim> strides) {
    public KernelInput { strides = List.copyOf(strides); }

    /** How an input walks the output's index space. */
    public enum Access {
        /** The output's own shape: element i of the output reads element i. */
        SAME,
        /** One element for every output element (shape [] or all sizes 1). */
        SCALAR,
        /** Any other broadcast: some output axes have stride 0. */
        BROADCAST
    }

    /** An input of shape {@code shape} read over an output of shape {@code out} (the shapes must broadcast). */
    public static KernelInput of(DType dtype, Shape shape, Shape out) {
        int lead = out.rank() - shape.rank();
        if (lead < 0) throw new IllegalArgumentException("input " + shape + " has more axes than the output " + out);
        List<Dim> own = new ArrayList<>();
        Dim step = Dim.of(1);
        for (int i = shape.rank() - 1; i >= 0; i--) {
            own.addFirst(step);
            step = step.times(shape.dim(i));
        }
        List<Dim> s = new ArrayList<>();
        for (int j = 0; j < out.rank(); j++) {
            int i = j - lead;
            if (i < 0 || shape.dim(i).equals(Dim.of(1))) s.add(Dim.of(0));
            else if (shape.dim(i).equals(out.dim(j))) s.add(own.get(i));
            else throw new IllegalArgumentException("input " + shape + " does not broadcast to " + out);
        }
        return new KernelInput(dtype, shape, s);
    }

    public Access access(Shape out) {
        if (shape.equals(out)) return Access.SAME;
        if (strides.stream().allMatch(d -> d.equals(Dim.of(0)))) return Access.SCALAR;
        return Access.BROADCAST;
    }

    /** The stride along the output's last axis: 1 (runs with the output) or 0 (repeats); 0 for a scalar output. */
    public int innerStride() {
        return strides.isEmpty() || strides.getLast().equals(Dim.of(0)) ? 0 : 1;
    }

    /**
     * Whether the input advances with the output along a contiguous run of the output: it has the output's shape, or
     * its stride along the output's last axis is 1. Otherwise it repeats one value along the run.
     */
    public boolean runsWithOutput(Shape out) { return shape.equals(out) || innerStride() == 1; }

    /** The index expression, as {@code i0*768 + i2}, {@code 0} for a scalar. */
    public String indexText() {
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < strides.size(); j++) {
            Dim d = strides.get(j);
            if (d.equals(Dim.of(0))) continue;
            if (!sb.isEmpty()) sb.append(" + ");
            sb.append('i').append(j);
            if (!d.equals(Dim.of(1))) sb.append('*').append(d.isConstant() ? d.toString() : "(" + d + ")");
        }
        return sb.isEmpty() ? "0" : sb.toString();
    }
}
