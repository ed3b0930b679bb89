package mobyc.compiler.ir;

/** Element types. f32 and i32 run today; bf16 and f16 are named for mixed precision on GPUs later. */
public enum DType {
    F32("f32", 4, true),
    I32("i32", 4, false),
    BF16("bf16", 2, true),
    F16("f16", 2, true);

    private final String text;
    private final int bytes;
    private final boolean floating;

    DType(String text, int bytes, boolean floating) {
        this.text = text;
        this.bytes = bytes;
        this.floating = floating;
    }

    public int bytes() { return bytes; }
    public boolean isFloating() { return floating; }
    /** Whether backends execute this type today. */
    public boolean isExecutable() { return this == F32 || this == I32; }

    public static DType parse(String s) {
        for (DType d : values()) if (d.text.equals(s)) return d;
        return null;
    }

    @Override public String toString() { return text; }
}
