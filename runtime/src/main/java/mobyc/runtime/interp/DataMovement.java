package mobyc.runtime.interp;

import java.lang.foreign.MemorySegment;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Ops that move elements without computing on them: copy (reshape, stop_gradient), permute, expand, slice,
 * concat, roll, pad and gather. They move raw 32-bit patterns, so they serve f32 and i32 alike.
 */
final class DataMovement {
    private DataMovement() {}

    /** Reshape and stop_gradient: the same elements in the same row-major order. */
    static void copy(Tensor x, Tensor out) {
        MemorySegment.copy(x.segment(), 0, out.segment(), 0, out.segment().byteSize());
    }

    /** out axis j is input axis perm[j]. */
    static void permute(Op.Permute op, Tensor x, Tensor out) {
        long[] in = Layout.strides(x.shape()), walk = new long[in.length];
        for (int j = 0; j < walk.length; j++) walk[j] = in[op.perm()[j]];
        gatherBy(x, out, 0, walk);
    }

    static void expand(Tensor x, Tensor out) {
        gatherBy(x, out, 0, Layout.broadcastStrides(x.shape(), out.shape()));
    }

    /** Elements start, start+step, ... of one axis; negative bounds count from the end, clamped as ShapeRules does. */
    static void slice(Op.Slice op, Tensor x, Tensor out) {
        int a = Layout.axis(op.axis(), x.rank());
        long len = x.dim(a);
        long start = Math.clamp(op.start() < 0 ? op.start() + len : op.start(), 0, len);
        long[] walk = Layout.strides(x.shape());
        long base = start * walk[a];
        walk[a] *= op.step();
        gatherBy(x, out, base, walk);
    }

    static void concat(Op.Concat op, Tensor[] parts, Tensor out) {
        int a = Layout.axis(op.axis(), out.rank());
        long[] outStrides = Layout.strides(out.shape());
        long position = 0;
        for (Tensor p : parts) {
            long[] shape = p.shape();
            long base = position * outStrides[a];
            for (long i = 0, n = p.numel(); i < n; i++) out.setBits(base + Layout.offset(i, shape, outStrides), p.getBits(i));
            position += shape[a];
        }
    }

    /** As torch.roll: out[..., i, ...] = x[..., (i - shift) mod n, ...] on every rolled axis. */
    static void roll(Op.Roll op, Tensor x, Tensor out) {
        long[] shape = x.shape(), strides = Layout.strides(shape), shift = new long[shape.length], coords = new long[shape.length];
        for (int i = 0; i < op.axes().length; i++) shift[Layout.axis(op.axes()[i], shape.length)] += op.shifts()[i];
        for (long i = 0, n = out.numel(); i < n; i++) {
            Layout.unravel(i, shape, coords);
            long from = 0;
            for (int d = 0; d < shape.length; d++) from += Math.floorMod(coords[d] - shift[d], shape[d]) * strides[d];
            out.setBits(i, x.getBits(from));
        }
    }

    /** Constant padding: before[i] and after[i] elements of {@code value} around axis i. */
    static void pad(Op.Pad op, Tensor x, Tensor out) {
        int fill = out.dtype() == DType.F32 ? Float.floatToRawIntBits((float) op.value()) : (int) op.value();
        for (long i = 0, n = out.numel(); i < n; i++) out.setBits(i, fill);
        long[] outStrides = Layout.strides(out.shape());
        long base = 0;
        for (int d = 0; d < outStrides.length; d++) base += op.before()[d] * outStrides[d];
        long[] shape = x.shape();
        for (long i = 0, n = x.numel(); i < n; i++) out.setBits(base + Layout.offset(i, shape, outStrides), x.getBits(i));
    }

    /** out[i..., j...] = table[index[i...], j...]; an index outside the table is an error. */
    static void gather(Tensor table, Tensor index, Tensor out) {
        long rows = table.dim(0), row = rows == 0 ? 0 : table.numel() / rows, bytes = row * Tensor.ELEMENT_BYTES;
        for (long i = 0, n = index.numel(); i < n; i++) {
            int r = index.getInt(i);
            if (r < 0 || r >= rows)
                throw new IllegalArgumentException("gather: index " + r + " at position " + i + " is out of range [0, " + rows + ")");
            MemorySegment.copy(table.segment(), r * bytes, out.segment(), i * bytes, bytes);
        }
    }

    /** out[i] = x[base + offset of i over out's shape walked with {@code walk}]. */
    private static void gatherBy(Tensor x, Tensor out, long base, long[] walk) {
        long[] shape = out.shape();
        for (long i = 0, n = out.numel(); i < n; i++) out.setBits(i, x.getBits(base + Layout.offset(i, shape, walk)));
    }
}
