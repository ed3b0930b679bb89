package mobyc.compiler.ir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** A tensor shape whose dimensions may be symbolic. */
public record Shape(List<Dim> dims) {
    public Shape { dims = List.copyOf(dims); }

    public static Shape of(long... sizes) {
        List<Dim> d = new ArrayList<>();
        for (long s : sizes) d.add(Dim.of(s));
        return new Shape(d);
    }

    public static Shape of(Dim... dims) { return new Shape(List.of(dims)); }

    public static final Shape SCALAR = new Shape(List.of());

    public int rank() { return dims.size(); }
    public Dim dim(int i) { return dims.get(i); }

    public Dim numel() {
        Dim n = Dim.of(1);
        for (Dim d : dims) n = n.times(d);
        return n;
    }

    public boolean isConcrete() { return dims.stream().allMatch(Dim::isConstant); }

    public long[] concrete() {
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) out[i] = dims.get(i).constant();
        return out;
    }

    public long[] evaluate(Map<String, Long> bindings) {
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) out[i] = dims.get(i).evaluate(bindings);
        return out;
    }

    /** Normalises a possibly negative axis; returns -1 when out of range. */
    public int axis(int a) {
        int r = a < 0 ? a + rank() : a;
        return r >= 0 && r < rank() ? r : -1;
    }

    public Shape with(int axis, Dim d) {
        List<Dim> n = new ArrayList<>(dims);
        n.set(axis, d);
        return new Shape(n);
    }

    public List<String> symbols() {
        return dims.stream().flatMap(d -> d.symbols().stream()).distinct().sorted().collect(Collectors.toList());
    }

    @Override public String toString() {
        return dims.stream().map(Dim::toString).collect(Collectors.joining(", ", "[", "]"));
    }
}
