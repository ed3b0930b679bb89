package mobyc.runtime.cpu;

/**
 * Walks a flat range of a contiguous output in contiguous inner runs, with the matching offsets of up to three
 * operands seen through broadcast strides. After {@link Shapes#collapse} every operand's innermost stride is 0
 * (the operand repeats one value along the run) or 1 (it runs alongside the output), so each run is a simple
 * vector loop: same shape gives one run, a row vector [c] against [rows, c] gives runs of c, a column [rows, 1]
 * gives runs of c over one value.
 */
final class Runs {
    /** One run: {@code len} output elements from {@code out}, operand k from offset {@code ak}. */
    @FunctionalInterface
    interface Body {
        void run(long out, long a0, long a1, long a2, int len);
    }

    private final long[] shape;
    private final long[][] strides;
    /** Per operand: 0 or 1, its stride along the run. */
    final int inc0, inc1, inc2;

    /** Runs over {@code outShape} for operands of the given shapes (broadcast to it). */
    static Runs broadcast(long[] outShape, long[]... operandShapes) {
        long[][] st = new long[operandShapes.length][];
        for (int k = 0; k < st.length; k++) st[k] = Shapes.broadcastStrides(operandShapes[k], outShape);
        return strided(outShape, st);
    }

    /** Runs over {@code outShape} for operands walked with arbitrary strides (not only broadcast ones). */
    static Runs strided(long[] outShape, long[][] operandStrides) {
        return new Runs(Shapes.collapse(outShape, operandStrides));
    }

    private Runs(long[][] collapsed) {
        shape = collapsed[0];
        int ops = collapsed.length - 1;
        strides = new long[3][];
        for (int k = 0; k < 3; k++) strides[k] = k < ops ? collapsed[1 + k] : new long[shape.length];
        int last = shape.length - 1;
        inc0 = (int) strides[0][last];
        inc1 = (int) strides[1][last];
        inc2 = (int) strides[2][last];
    }

    /** The length of a full run. */
    long runLength() { return shape[shape.length - 1]; }

    /** Whether the operands' inner strides are all 0 or 1 (always so for broadcast strides). */
    boolean unitInner() { return (inc0 | inc1 | inc2) >>> 1 == 0; }

    /** Calls {@code body} for each run of output elements [from, to). */
    void forEach(long from, long to, Body body) {
        int r = shape.length;
        long length = shape[r - 1];
        long row = from / length, j = from % length;
        long[] coords = new long[r];
        long o0 = 0, o1 = 0, o2 = 0;
        long[] s0 = strides[0], s1 = strides[1], s2 = strides[2];
        for (int d = r - 2; d >= 0; d--) {
            coords[d] = row % shape[d];
            row /= shape[d];
            o0 += coords[d] * s0[d];
            o1 += coords[d] * s1[d];
            o2 += coords[d] * s2[d];
        }
        long at = from;
        while (at < to) {
            int len = (int) Math.min(length - j, to - at);
            body.run(at, o0 + j * inc0, o1 + j * inc1, o2 + j * inc2, len);
            at += len;
            j = 0;
            for (int d = r - 2; d >= 0; d--) {
                o0 += s0[d];
                o1 += s1[d];
                o2 += s2[d];
                if (++coords[d] < shape[d]) break;
                o0 -= s0[d] * shape[d];
                o1 -= s1[d] * shape[d];
                o2 -= s2[d] * shape[d];
                coords[d] = 0;
            }
        }
    }
}
