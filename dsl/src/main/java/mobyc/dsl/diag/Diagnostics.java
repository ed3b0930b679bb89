package mobyc.dsl.diag;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Collects diagnostics, dropping exact repeats and stopping after {@link #LIMIT} errors (as javac's -Xmaxerrs). */
public final class Diagnostics {
    public static final int LIMIT = 100;

    private final List<Diagnostic> list = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();
    private int errors;
    private int dropped;

    public void add(Diagnostic d) {
        String key = d.pos() + "|" + d.message();
        if (!seen.add(key)) return;
        if (d.severity() == Diagnostic.Severity.ERROR) {
            if (errors >= LIMIT) { dropped++; return; }
            errors++;
        }
        list.add(d);
    }

    public void error(Pos pos, String message) { add(Diagnostic.error(pos, message)); }
    public void error(Pos pos, String message, String hint) { add(Diagnostic.error(pos, message, hint)); }

    public boolean hasErrors() { return errors > 0; }
    public boolean isEmpty() { return list.isEmpty(); }
    public int errorCount() { return errors + dropped; }
    public boolean full() { return errors >= LIMIT; }
    public List<Diagnostic> all() { return List.copyOf(list); }

    /** All diagnostics sorted by file and position, then a count line, as javac prints them. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        List<Diagnostic> sorted = new ArrayList<>(list);
        sorted.sort((a, b) -> {
            int c = a.pos().file().name().compareTo(b.pos().file().name());
            if (c != 0) return c;
            c = Integer.compare(a.pos().line(), b.pos().line());
            return c != 0 ? c : Integer.compare(a.pos().col(), b.pos().col());
        });
        for (Diagnostic d : sorted) sb.append(d.format());
        if (dropped > 0) sb.append("only the first ").append(LIMIT).append(" errors are shown; ").append(dropped).append(" more\n");
        int n = errorCount();
        long w = list.stream().filter(d -> d.severity() == Diagnostic.Severity.WARNING).count();
        if (n > 0) sb.append(n).append(n == 1 ? " error" : " errors");
        if (w > 0) sb.append(n > 0 ? ", " : "").append(w).append(w == 1 ? " warning" : " warnings");
        if (n > 0 || w > 0) sb.append('\n');
        return sb.toString();
    }
}
