package mobyc.runtime.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import mobyc.runtime.Tensor;

/**
 * Which parameters get weight decay: the MoBY reference's rule (Swin's {@code set_weight_decay}) with timm's
 * DeiT additions. A parameter gets no weight decay when
 * <ul>
 *   <li>its name ends in {@code bias} ({@code fc.bias}, {@code qkv_bias}: "bias"),
 *   <li>its last path segment is {@code absolute_pos_embed} (Swin) or {@code pos_embed} (DeiT): "position embedding",
 *   <li>its name contains {@code relative_position_bias_table} (Swin): "relative position bias table",
 *   <li>its last path segment is {@code cls_token} or {@code dist_token} (timm's DeiT {@code no_weight_decay}):
 *       "class token",
 *   <li>it has one dimension or none (norm weights and biases, scalars): "1-D" / "0-D".
 * </ul>
 * Everything else decays. The first rule that matches names the reason. Immutable; the order is the
 * optimiser's step order.
 */
public final class ParamGroups {
    /** One parameter: its path, shape, and why it gets no weight decay ({@code null} when it decays). */
    public record Entry(String path, long[] shape, String noDecayReason) {
        public Entry {
            shape = shape.clone();
        }

        /** A copy of the shape. */
        @Override public long[] shape() { return shape.clone(); }

        long[] shapeRef() { return shape; }

        public boolean decays() { return noDecayReason == null; }

        public long numel() { return Tensor.checkedNumel(shape); }
    }

    private final List<Entry> entries;

    private ParamGroups(List<Entry> entries) { this.entries = List.copyOf(entries); }

    /** The groups of {@code params}, in the map's iteration order (a {@code ParameterStore}'s params() is in graph order). */
    public static ParamGroups of(Map<String, Tensor> params) {
        List<String> paths = new ArrayList<>(params.size());
        List<long[]> shapes = new ArrayList<>(params.size());
        params.forEach((path, t) -> { paths.add(path); shapes.add(t.shape()); });
        return of(paths, shapes);
    }

    /** The groups of parameters with these paths and shapes, in this order; paths must be distinct. */
    public static ParamGroups of(List<String> paths, List<long[]> shapes) {
        if (paths.size() != shapes.size())
            throw new IllegalArgumentException(paths.size() + " paths but " + shapes.size() + " shapes");
        HashSet<String> seen = new HashSet<>();
        List<Entry> entries = new ArrayList<>(paths.size());
        for (int i = 0; i < paths.size(); i++) {
            String path = paths.get(i);
            if (!seen.add(path)) throw new IllegalArgumentException("parameter '" + path + "' is listed twice");
            entries.add(new Entry(path, shapes.get(i), noDecayReason(path, shapes.get(i))));
        }
        return new ParamGroups(entries);
    }

    /** Why the parameter {@code path} of this shape gets no weight decay, or {@code null} when it decays. */
    public static String noDecayReason(String path, long[] shape) {
        String last = path.substring(path.lastIndexOf('.') + 1);
        if (path.endsWith("bias")) return "bias";
        if (last.equals("absolute_pos_embed") || last.equals("pos_embed")) return "position embedding";
        if (path.contains("relative_position_bias_table")) return "relative position bias table";
        if (last.equals("cls_token") || last.equals("dist_token")) return "class token";
        if (shape.length <= 1) return shape.length + "-D";
        return null;
    }

    public int size() { return entries.size(); }

    public Entry entry(int i) { return entries.get(i); }

    public List<Entry> entries() { return entries; }

    public String path(int i) { return entries.get(i).path(); }

    /** The paths, in step order. */
    public List<String> paths() { return entries.stream().map(Entry::path).toList(); }

    /** Whether parameter {@code i} gets weight decay. */
    public boolean decays(int i) { return entries.get(i).decays(); }

    /** The tensors of {@code byPath} (parameters or gradients) in step order; every path must be present. */
    public List<Tensor> select(Map<String, Tensor> byPath) {
        List<Tensor> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            Tensor t = byPath.get(e.path());
            if (t == null) throw new IllegalArgumentException("no tensor for parameter '" + e.path() + "'");
            out.add(t);
        }
        return out;
    }

    /**
     * The assignment, one line per parameter ({@code path  shape  decay} or {@code no decay (reason)}), columns
     * aligned, then a totals line. For {@code mobyc train --print-groups}.
     */
    public String describe() {
        int pathWidth = 4, shapeWidth = 5;
        for (Entry e : entries) {
            pathWidth = Math.max(pathWidth, e.path().length());
            shapeWidth = Math.max(shapeWidth, Arrays.toString(e.shapeRef()).length());
        }
        String row = "%-" + pathWidth + "s  %-" + shapeWidth + "s  %s%n";
        StringBuilder sb = new StringBuilder();
        long decayCount = 0, decayElements = 0, otherElements = 0;
        for (Entry e : entries) {
            sb.append(String.format(Locale.ROOT, row, e.path(), Arrays.toString(e.shapeRef()),
                    e.decays() ? "decay" : "no decay (" + e.noDecayReason() + ")"));
            if (e.decays()) { decayCount++; decayElements += e.numel(); } else otherElements += e.numel();
        }
        sb.append(String.format(Locale.ROOT, "%d parameters (%d elements): %d decay (%d elements), %d no decay (%d elements)%n",
                entries.size(), decayElements + otherElements, decayCount, decayElements,
                entries.size() - decayCount, otherElements));
        return sb.toString();
    }

    @Override public String toString() { return "ParamGroups" + paths(); }
}
