package mobyc.models.weights;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.FormatException;

/**
 * Materialises a tensor of a checkpoint: the elements a (size, stride, storage offset) view selects from its
 * storage, in row-major order, converted to f32 or i32. Contiguous f32/i32 views are copied in bulk; any other
 * view (transposed, sliced, expanded with stride 0) element by element.
 */
final class StridedCopy {
    private StridedCopy() {}

    /**
     * The tensor {@code t} over {@code storage} (the bytes of its storage, already checked to hold
     * {@code t.storage().numel()} elements); {@code key} and {@code file} name it in errors.
     */
    static Tensor copy(Pickled.TensorRef t, MemorySegment storage, boolean bigEndian, Path file, String key) throws FormatException {
        StorageType type = t.storage().type();
        long[] size = t.size(), stride = t.stride();
        Tensor out;
        try {
            out = Tensor.zeros(type.target, size);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "tensor '" + key + "': " + e.getMessage());
        }
        long n = out.numel();
        if (n == 0) return out;
        long last; // the storage element the view reaches furthest
        try {
            last = t.offset();
            for (int d = 0; d < size.length; d++) last = Math.addExact(last, Math.multiplyExact(size[d] - 1, stride[d]));
        } catch (ArithmeticException e) {
            last = Long.MAX_VALUE;
        }
        if (last >= t.storage().numel())
            throw new FormatException(file, "tensor '" + key + "': size " + Arrays.toString(size) + " with stride " + Arrays.toString(stride)
                    + " from offset " + t.offset() + " reaches element " + last + " of a storage of " + t.storage().numel() + " elements");
        if (!bigEndian && type.size == 4 && contiguous(size, stride)) {
            MemorySegment.copy(storage, 4 * t.offset(), out.segment(), 0, 4 * n);
            return out;
        }
        long[] index = new long[size.length];
        long src = t.offset();
        for (long i = 0; i < n; i++) {
            long v = type.element(storage, src, bigEndian);
            if (type.target == DType.I32 && v != (int) v)
                throw new FormatException(file, "tensor '" + key + "': 64-bit integer " + v + " at element " + i + " does not fit in i32");
            out.setBits(i, (int) v);
            for (int d = size.length - 1; d >= 0; d--) { // next row-major index, carrying into outer axes
                src += stride[d];
                if (++index[d] < size[d]) break;
                src -= stride[d] * size[d];
                index[d] = 0;
            }
        }
        return out;
    }

    private static boolean contiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) return false;
            expected *= size[d];
        }
        return true;
    }
}
