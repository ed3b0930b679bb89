package mobyc.runtime;

import java.util.List;

/** Weights that do not fit a model: every problem found, by key, with where the weights came from. */
public final class WeightsException extends RuntimeException {
    private final String source;
    private final List<String> problems;

    public WeightsException(String source, List<String> problems) {
        super("weights from " + source + " do not fit the model (" + problems.size() + " problem"
                + (problems.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", problems));
        this.source = source;
        this.problems = List.copyOf(problems);
    }

    /** Where the weights came from (a file name, a checkpoint). */
    public String source() { return source; }

    /** One line per problem, each starting with the key it concerns. */
    public List<String> problems() { return problems; }
}
