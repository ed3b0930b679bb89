package mobyc.runtime;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Wall time per kernel kind, summed over runs: what {@code mobyc bench moby-step --profile} prints. An executable
 * records into it only while one is attached, so the hot path costs one null check otherwise.
 */
public final class KernelProfile {
    private final Map<String, long[]> byKind = new HashMap<>();
    private final Map<String, long[]> byShape = new HashMap<>();

    /** Adds one kernel's time: {@code kind} is the op's name, {@code detail} its output shape or attributes. */
    public synchronized void record(String kind, String detail, long nanos) { record(kind, detail, nanos, 0); }

    /** As {@link #record(String, String, long)}, with the kernel's floating-point operations (0 if none counted). */
    public synchronized void record(String kind, String detail, long nanos, long flops) {
        long[] a = byKind.computeIfAbsent(kind, k -> new long[3]);
        a[0] += nanos;
        a[1]++;
        a[2] += flops;
        long[] b = byShape.computeIfAbsent(kind + " " + detail, k -> new long[3]);
        b[0] += nanos;
        b[1]++;
        b[2] += flops;
    }

    /** The {@code top} kinds and the {@code top} (kind, shape) pairs by total time, as aligned text. */
    public synchronized String table(int top) {
        StringBuilder sb = new StringBuilder();
        long total = byKind.values().stream().mapToLong(a -> a[0]).sum();
        sb.append(String.format(Locale.ROOT, "kernel time by op (total %.3f s)%n", total / 1e9));
        rows(sb, byKind, top, total);
        sb.append(String.format(Locale.ROOT, "kernel time by op and output shape%n"));
        rows(sb, byShape, top, total);
        return sb.toString();
    }

    private static void rows(StringBuilder sb, Map<String, long[]> m, int top, long total) {
        List<Map.Entry<String, long[]>> es = new ArrayList<>(m.entrySet());
        es.sort((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]));
        for (Map.Entry<String, long[]> e : es.subList(0, Math.min(top, es.size()))) {
            long[] a = e.getValue();
            String rate = a[2] > 0 ? String.format(Locale.ROOT, "%7.1f GFLOP/s", a[2] / (double) Math.max(1, a[0])) : "               ";
            sb.append(String.format(Locale.ROOT, "  %6.1f%%  %9.3f s  %7d calls  %s  %s%n",
                    100.0 * a[0] / Math.max(1, total), a[0] / 1e9, a[1], rate, e.getKey()));
        }
    }
}
