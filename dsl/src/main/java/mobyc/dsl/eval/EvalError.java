package mobyc.dsl.eval;

import mobyc.dsl.diag.Pos;

/** A mistake in the user's program found while elaborating it; becomes one diagnostic. */
public final class EvalError extends RuntimeException {
    private final Pos pos;
    private final String hint;

    public EvalError(Pos pos, String message) { this(pos, message, null); }

    public EvalError(Pos pos, String message, String hint) {
        super(message, null, false, false);
        this.pos = pos;
        this.hint = hint;
    }

    public Pos pos() { return pos; }
    public String hint() { return hint; }

    /** Thrown when an operand is an earlier error: reported already, so it is silently skipped. */
    public static final class Poisoned extends RuntimeException {
        public static final Poisoned INSTANCE = new Poisoned();
        private Poisoned() { super(null, null, false, false); }
    }
}
