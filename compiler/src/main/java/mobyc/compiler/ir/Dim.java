package mobyc.compiler.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A dimension: an integer polynomial over symbolic sizes (B, N, ...) with integer coefficients.
 * Constants are polynomials with only the empty monomial. Arithmetic is exact; division succeeds only
 * when it is exact for every value of the symbols.
 */
public final class Dim implements Comparable<Dim> {
    /** Largest size a single dimension or tensor may have. */
    public static final long MAX = 1L << 40;

    /** monomial (sorted symbol names joined by '*', "" for the constant) -> coefficient */
    private final TreeMap<String, Long> terms;

    private Dim(TreeMap<String, Long> terms) {
        terms.values().removeIf(c -> c == 0);
        this.terms = terms;
    }

    public static Dim of(long c) {
        TreeMap<String, Long> t = new TreeMap<>();
        t.put("", c);
        return new Dim(t);
    }

    public static Dim sym(String name) {
        TreeMap<String, Long> t = new TreeMap<>();
        t.put(name, 1L);
        return new Dim(t);
    }

    public boolean isConstant() { return terms.isEmpty() || (terms.size() == 1 && terms.containsKey("")); }

    public long constant() {
        if (!isConstant()) throw new IllegalStateException("dimension " + this + " is symbolic");
        return terms.getOrDefault("", 0L);
    }

    /** The symbols this dimension mentions. */
    public List<String> symbols() {
        List<String> out = new ArrayList<>();
        for (String m : terms.keySet()) for (String s : split(m)) if (!s.isEmpty() && !out.contains(s)) out.add(s);
        Collections.sort(out);
        return out;
    }

    public Dim plus(Dim o) {
        TreeMap<String, Long> t = new TreeMap<>(terms);
        o.terms.forEach((m, c) -> t.merge(m, c, Math::addExact));
        return new Dim(t);
    }

    public Dim minus(Dim o) { return plus(o.times(of(-1))); }

    public Dim times(Dim o) {
        TreeMap<String, Long> t = new TreeMap<>();
        for (var a : terms.entrySet())
            for (var b : o.terms.entrySet())
                t.merge(mulMono(a.getKey(), b.getKey()), Math.multiplyExact(a.getValue(), b.getValue()), Math::addExact);
        return new Dim(t);
    }

    /** Exact division, or null when the quotient is not a polynomial with integer coefficients. */
    public Dim dividedBy(Dim d) {
        if (d.terms.isEmpty()) return null;
        if (terms.isEmpty()) return this;
        if (d.terms.size() != 1) return longDivision(d);
        var dt = d.terms.firstEntry();
        TreeMap<String, Long> t = new TreeMap<>();
        for (var a : terms.entrySet()) {
            if (a.getValue() % dt.getValue() != 0) return null;
            String m = divMono(a.getKey(), dt.getKey());
            if (m == null) return null;
            t.put(m, a.getValue() / dt.getValue());
        }
        return new Dim(t);
    }

    /** Multivariate division by leading terms (graded order); the quotient when the remainder is zero, else null. */
    private Dim longDivision(Dim d) {
        Map.Entry<String, Long> lead = d.leading();
        Dim rem = this, q = of(0);
        for (int i = 0; i < 256 && !rem.terms.isEmpty(); i++) {
            Map.Entry<String, Long> r = rem.leading();
            String m = divMono(r.getKey(), lead.getKey());
            if (m == null || r.getValue() % lead.getValue() != 0) return null;
            TreeMap<String, Long> t = new TreeMap<>();
            t.put(m, r.getValue() / lead.getValue());
            Dim term = new Dim(t);
            q = q.plus(term);
            rem = rem.minus(term.times(d));
        }
        return rem.terms.isEmpty() ? q : null;
    }

    /** The term of highest degree, ties broken by name: a total order, so division is well defined. */
    private Map.Entry<String, Long> leading() {
        Map.Entry<String, Long> best = null;
        for (var e : terms.entrySet()) {
            if (best == null) { best = e; continue; }
            int da = split(e.getKey()).length, db = split(best.getKey()).length;
            if (da > db || (da == db && e.getKey().compareTo(best.getKey()) > 0)) best = e;
        }
        return best;
    }

    public long evaluate(Map<String, Long> bindings) {
        long sum = 0;
        for (var e : terms.entrySet()) {
            long v = e.getValue();
            for (String s : split(e.getKey())) {
                if (s.isEmpty()) continue;
                Long b = bindings.get(s);
                if (b == null) throw new IllegalArgumentException("no value for dimension " + s);
                v = Math.multiplyExact(v, b);
            }
            sum = Math.addExact(sum, v);
        }
        return sum;
    }

    /** Replaces symbols by dimensions (used to instantiate a signature). */
    public Dim substitute(Map<String, Dim> map) {
        Dim out = of(0);
        for (var e : terms.entrySet()) {
            Dim v = of(e.getValue());
            for (String s : split(e.getKey())) if (!s.isEmpty()) v = v.times(map.getOrDefault(s, sym(s)));
            out = out.plus(v);
        }
        return out;
    }

    private static String[] split(String mono) { return mono.isEmpty() ? new String[0] : mono.split("\\*"); }

    private static String mulMono(String a, String b) {
        List<String> all = new ArrayList<>(List.of(split(a)));
        all.addAll(List.of(split(b)));
        Collections.sort(all);
        return String.join("*", all);
    }

    private static String divMono(String a, String b) {
        List<String> all = new ArrayList<>(List.of(split(a)));
        for (String s : split(b)) if (!all.remove(s)) return null;
        return String.join("*", all);
    }

    @Override public boolean equals(Object o) { return o instanceof Dim d && d.terms.equals(terms); }
    @Override public int hashCode() { return Objects.hash(terms); }
    @Override public int compareTo(Dim o) { return toString().compareTo(o.toString()); }

    @Override public String toString() {
        if (terms.isEmpty()) return "0";
        StringBuilder sb = new StringBuilder();
        // symbolic terms first (highest degree first), constant last: "2*B*N+3"
        List<Map.Entry<String, Long>> es = new ArrayList<>(terms.entrySet());
        es.sort((x, y) -> {
            int dx = split(x.getKey()).length, dy = split(y.getKey()).length;
            return dx != dy ? Integer.compare(dy, dx) : x.getKey().compareTo(y.getKey());
        });
        for (var e : es) {
            long c = e.getValue();
            String m = e.getKey();
            if (sb.length() > 0) sb.append(c < 0 ? "-" : "+");
            else if (c < 0) sb.append("-");
            long a = Math.abs(c);
            if (m.isEmpty()) sb.append(a);
            else if (a == 1) sb.append(m);
            else sb.append(a).append('*').append(m);
        }
        return sb.toString();
    }
}
