package mobyc.compiler.ir;

/** Stable number formatting for printed IR. */
public final class Fmt {
    private Fmt() {}

    public static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        String s = Double.toString(v);
        return s;
    }
}
