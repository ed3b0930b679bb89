package mobyc.dsl.diag;

/** A position in a source file: 1-based line and column. */
public record Pos(SourceFile file, int line, int col) {
    public static final Pos NONE = new Pos(new SourceFile("<unknown>", ""), 1, 1);

    @Override public String toString() { return file.name() + ":" + line + ":" + col; }
}
