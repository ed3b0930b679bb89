package mobyc.dsl.diag;

/** A position in a source file: 1-based line and column. */
public record Pos(SourceFile file, int line, int col) {
    public static final Pos NONE = new Pos(new SourceFile("<unknown>", ""), 1, 1);

    /** Positions of command-line values print as the option they came from ("--set dim"). */
    @Override public String toString() {
        return file.name().startsWith("--") || file.name().startsWith("<command") ? file.name() : file.name() + ":" + line + ":" + col;
    }
}
