package mobyc.models.weights;

import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One key rewrite: a key that fully matches {@code pattern} becomes {@code rewrite(matcher)} (a rewrite may
 * decline by returning null, and the next rule is tried), or, for a drop rule, is left out for {@code dropReason}.
 */
record RenameRule(Pattern pattern, Function<Matcher, String> rewrite, String dropReason) {
    /** What a rule list makes of a key: a new name, or a reason to leave it out. */
    record Result(String name, String dropReason) {}

    /** Rewrites to {@code replacement}, where {@code $1} stands for group 1 (as in {@link Matcher#appendReplacement}). */
    static RenameRule of(String regex, String replacement) {
        return new RenameRule(Pattern.compile(regex), m -> {
            StringBuilder sb = new StringBuilder();
            m.appendReplacement(sb, replacement); // the match is the whole key
            return sb.toString();
        }, null);
    }

    static RenameRule of(String regex, Function<Matcher, String> rewrite) {
        return new RenameRule(Pattern.compile(regex), rewrite, null);
    }

    static RenameRule drop(String regex, String reason) {
        return new RenameRule(Pattern.compile(regex), null, reason);
    }

    /** The result of the first rule that takes {@code key}, or null when none does. */
    static Result apply(List<RenameRule> rules, String key) {
        for (RenameRule r : rules) {
            Matcher m = r.pattern.matcher(key);
            if (!m.matches()) continue;
            if (r.dropReason != null) return new Result(null, r.dropReason);
            String name = r.rewrite.apply(m);
            if (name != null) return new Result(name, null);
        }
        return null;
    }

    /** The name the first rule gives {@code key}, or null (for rule lists without drops, such as block suffixes). */
    static String rename(List<RenameRule> rules, String key) {
        Result r = apply(rules, key);
        return r == null ? null : r.name;
    }

    /** Group {@code g} of a match as an int (for index arithmetic in rewrites). */
    static int group(Matcher m, int g) { return index(m.group(g)); }

    /** A decimal index of a key; one too large for an int is an error, not an overflow. */
    static int index(String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new KeyMapException("the index " + digits + " in a key is too large");
        }
    }
}
