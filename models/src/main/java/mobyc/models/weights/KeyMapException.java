package mobyc.models.weights;

/** Key names that cannot be mapped: an unknown naming, an ambiguous prefix, a buffer that disagrees with mobyc's. */
public final class KeyMapException extends RuntimeException {
    public KeyMapException(String message) { super(message); }
}
