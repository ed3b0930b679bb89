package mobyc.dsl.diag;

/**
 * One message about the user's source, printed as javac does:
 * {@code file:line:col: error: message}, then the source line, a caret under the column, and a hint.
 */
public record Diagnostic(Severity severity, Pos pos, String message, String hint) {
    public enum Severity { ERROR, WARNING, NOTE }

    public static Diagnostic error(Pos pos, String message) { return new Diagnostic(Severity.ERROR, pos, message, null); }
    public static Diagnostic error(Pos pos, String message, String hint) { return new Diagnostic(Severity.ERROR, pos, message, hint); }

    /** Longest source line shown; longer lines are cut around the caret. */
    static final int SHOWN = 120;

    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(pos).append(": ").append(severity.name().toLowerCase()).append(": ").append(message).append('\n');
        String line = pos.file().line(pos.line());
        if (!line.isEmpty() || pos.col() > 1) {
            int col = Math.max(1, pos.col());
            // columns count code points (as ANTLR does); the caret is placed by UTF-16 index
            int cps = line.codePointCount(0, line.length());
            col = col - 1 <= cps ? line.offsetByCodePoints(0, col - 1) + 1 : col + (line.length() - cps);
            int from = 0;
            if (line.length() > SHOWN) {
                from = Math.max(0, Math.min(col - 1 - SHOWN / 2, line.length() - SHOWN));
                line = (from > 0 ? "..." : "") + line.substring(from, Math.min(line.length(), from + SHOWN)) + (from + SHOWN < line.length() ? "..." : "");
                col = col - from + (from > 0 ? 3 : 0);
            }
            StringBuilder caret = new StringBuilder();
            for (int i = 0; i < col - 1 && i < line.length(); i++) caret.append(line.charAt(i) == '\t' ? '\t' : ' ');
            sb.append(printable(line)).append('\n').append(caret).append("^\n");
        }
        if (hint != null) sb.append("  hint: ").append(hint).append('\n');
        return sb.toString();
    }

    /** Control characters (from binary input) are shown as '?', so a terminal is never disturbed. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 && c != '\t' || c == 0x7f ? '?' : c);
        }
        return b.toString();
    }
}
