package mobyc.train;

/** A checkpoint that cannot be used: missing, truncated, foreign, or made by another configuration. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) { super(message, null, false, false); }
}
