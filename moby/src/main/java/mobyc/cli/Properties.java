package mobyc.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Supplier;

/**
 * System properties given on the command line as KEY=VALUE, set around a piece of work and then put back as they
 * were (restored, or cleared where they were unset), even when the work throws: how {@code mobyc bench ab} runs each
 * side under its own settings.
 */
final class Properties {
    private final Map<String, String> values;

    private Properties(Map<String, String> values) { this.values = values; }

    /** Parses {@code KEY=VALUE} entries of {@code option}; a malformed one is a user error naming it. */
    static Properties parse(String option, List<String> entries) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String e : entries) {
            int eq = e.indexOf('=');
            if (eq <= 0) throw new UserError(option + " takes KEY=VALUE, got '" + e + "'");
            values.put(e.substring(0, eq).strip(), e.substring(eq + 1));
        }
        return new Properties(values);
    }

    boolean isEmpty() { return values.isEmpty(); }

    /** {@code body} with these properties set; each one's earlier value (or absence) afterwards. */
    <T> T with(Supplier<T> body) {
        if (values.isEmpty()) return body.get();
        Map<String, String> before = new LinkedHashMap<>();
        values.forEach((k, v) -> before.put(k, System.getProperty(k)));
        values.forEach(System::setProperty);
        try {
            return body.get();
        } finally {
            before.forEach((k, old) -> {
                if (old == null) System.clearProperty(k);
                else System.setProperty(k, old);
            });
        }
    }

    @Override public String toString() {
        StringJoiner j = new StringJoiner(", ");
        values.forEach((k, v) -> j.add(k + "=" + v));
        return j.toString();
    }
}
