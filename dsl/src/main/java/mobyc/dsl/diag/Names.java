package mobyc.dsl.diag;

import java.util.Collection;

/** "Did you mean ...": the closest known name by edit distance, when it is close enough. */
public final class Names {
    private Names() {}

    public static String closest(String name, Collection<String> known) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : known) {
            if (k.equals(name)) continue;
            int d = distance(name.toLowerCase(), k.toLowerCase(), bestD);
            if (d < bestD || (d == bestD && best != null && k.compareTo(best) < 0)) { bestD = d; best = k; }
        }
        int allowed = Math.max(1, Math.min(3, name.length() / 3));
        return bestD <= allowed ? best : null;
    }

    public static String didYouMean(String name, Collection<String> known) {
        String c = closest(name, known);
        return c == null ? null : "did you mean '" + c + "'?";
    }

    /** Levenshtein distance, giving up (returning limit) past limit. */
    static int distance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) > 3) return Integer.MAX_VALUE;
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
