package mobyc.runtime.interp;

/**
 * Row-major index arithmetic shared by the interp kernels: strides, NumPy broadcasting, and the offset of a
 * flat index of one shape in a tensor seen through other strides.
 */
public final class Layout {
    private Layout() {}

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Row-major strides, in elements. */
    public static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = step;
            step *= shape[i];
        }
        return s;
    }

    /**
     * The strides with which an index over {@code outShape} walks a tensor of {@code inShape} (whose own strides
     * are {@code inStrides}) under NumPy broadcasting: axes aligned on the right, 0 where the input has size 1
     * or no axis at all.
     */
    public static long[] broadcastStrides(long[] inShape, long[] inStrides, long[] outShape) {
        long[] s = new long[outShape.length];
        int lead = outShape.length - inShape.length;
        for (int j = 0; j < outShape.length; j++) {
            int i = j - lead;
            s[j] = i < 0 || inShape[i] == 1 ? 0 : inStrides[i];
        }
        return s;
    }

    static long[] broadcastStrides(long[] inShape, long[] outShape) {
        return broadcastStrides(inShape, strides(inShape), outShape);
    }

    /** The offset reached by flat row-major index {@code flat} over {@code shape} when walking with {@code strides}. */
    static long offset(long flat, long[] shape, long[] strides) {
        long off = 0;
        for (int i = shape.length - 1; i >= 0; i--) {
            long d = shape[i];
            off += (flat % d) * strides[i];
            flat /= d;
        }
        return off;
    }

    /** Writes the coordinates of flat row-major index {@code flat} over {@code shape} into {@code coords}. */
    static void unravel(long flat, long[] shape, long[] coords) {
        for (int i = shape.length - 1; i >= 0; i--) {
            coords[i] = flat % shape[i];
            flat /= shape[i];
        }
    }

    /** A possibly negative axis made non-negative (the compiler has already checked its range). */
    static int axis(int a, int rank) { return a < 0 ? a + rank : a; }

    /** The product of the sizes of axes [from, to). */
    static long product(long[] shape, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }
}
