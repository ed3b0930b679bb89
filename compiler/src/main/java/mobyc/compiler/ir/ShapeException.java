package mobyc.compiler.ir;

/** An op was applied to operands whose shapes or types do not fit; the message says how, for a diagnostic. */
public final class ShapeException extends RuntimeException {
    public ShapeException(String message) { super(message, null, false, false); }
}
