package mobyc.runtime.cpu;

import mobyc.runtime.interp.Layout;

/** Row-major index arithmetic for the cpu kernels: strides, broadcasting, axes, and [outer, n, inner] views. */
final class Shapes {
    private Shapes() {}

    static long numel(long[] shape) { return Layout.numel(shape); }

    /** Row-major strides, in elements. */
    static long[] strides(long[] shape) { return Layout.strides(shape); }

    /** The strides that walk a tensor of {@code inShape} over {@code outShape} under NumPy broadcasting (0 on broadcast axes). */
    static long[] broadcastStrides(long[] inShape, long[] outShape) {
        return Layout.broadcastStrides(inShape, Layout.strides(inShape), outShape);
    }

    /** A possibly negative axis made non-negative. */
    static int axis(int a, int rank) { return a < 0 ? a + rank : a; }

    /** The product of the sizes of axes [from, to). */
    static long product(long[] shape, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }

    /** The [outer, n, inner] view of a shape around one axis: element (o, k, i) is at (o * n + k) * inner + i. */
    record AxisView(long outer, long n, long inner) {
        static AxisView of(long[] shape, int axis) {
            int a = axis(axis, shape.length);
            return new AxisView(product(shape, 0, a), shape[a], product(shape, a + 1, shape.length));
        }
    }

    /**
     * Drops axes of size 1 and merges neighbouring axes that every operand walks contiguously, so that broadcast
     * patterns reduce to few axes ([n], [rows, c], ...). Returns the new shape in {@code [0]} and each operand's
     * strides in {@code [1 + k]}; a scalar shape becomes [1].
     */
    static long[][] collapse(long[] shape, long[]... strides) {
        int rank = shape.length, ops = strides.length;
        long[] cs = new long[Math.max(rank, 1)];
        long[][] st = new long[ops][Math.max(rank, 1)];
        int r = 0;
        for (int d = 0; d < rank; d++) {
            if (shape[d] == 1) continue;
            boolean merge = r > 0;
            for (int k = 0; k < ops && merge; k++) merge = st[k][r - 1] == strides[k][d] * shape[d];
            if (merge) {
                cs[r - 1] *= shape[d];
                for (int k = 0; k < ops; k++) st[k][r - 1] = strides[k][d];
            } else {
                cs[r] = shape[d];
                for (int k = 0; k < ops; k++) st[k][r] = strides[k][d];
                r++;
            }
        }
        if (r == 0) {
            cs[0] = 1;
            for (int k = 0; k < ops; k++) st[k][0] = 1;
            r = 1;
        }
        long[][] result = new long[1 + ops][];
        result[0] = java.util.Arrays.copyOf(cs, r);
        for (int k = 0; k < ops; k++) result[1 + k] = java.util.Arrays.copyOf(st[k], r);
        return result;
    }
}
