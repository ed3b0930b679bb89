package mobyc.runtime.cpu;

/** Counts through the index space of a shape in row-major order, tracking the offset reached with given strides. */
final class Odometer {
    private final long[] shape, strides, coords;
    private long offset;

    Odometer(long[] shape, long[] strides) {
        this.shape = shape;
        this.strides = strides;
        this.coords = new long[shape.length];
    }

    /** The offset of flat index {@code flat}, also making it the current position. */
    long seek(long flat) {
        offset = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            coords[d] = flat % shape[d];
            flat /= shape[d];
            offset += coords[d] * strides[d];
        }
        return offset;
    }

    /** Moves to the next index and returns its offset (wrapping to 0 after the last). */
    long next() {
        for (int d = shape.length - 1; d >= 0; d--) {
            offset += strides[d];
            if (++coords[d] < shape[d]) return offset;
            offset -= strides[d] * shape[d];
            coords[d] = 0;
        }
        return offset;
    }
}
