package mobyc.data;

/**
 * Data that cannot be used: a missing, truncated or malformed file, or files that do not fit together. The
 * message starts with the file (or resource) at fault and says what is wrong.
 */
public final class DataException extends RuntimeException {
    private final String source;

    public DataException(String source, String message) {
        super(source + ": " + message);
        this.source = source;
    }

    public DataException(String source, String message, Throwable cause) {
        super(source + ": " + message, cause);
        this.source = source;
    }

    /** The file, resource or data set the problem is about. */
    public String source() { return source; }
}
