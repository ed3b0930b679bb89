package mobyc.cli;

/** A mistake in what the user gave (a file, a value, a shape): printed as one message, exit status 1. */
final class UserError extends RuntimeException {
    UserError(String message) { super(message, null, false, false); }
}
