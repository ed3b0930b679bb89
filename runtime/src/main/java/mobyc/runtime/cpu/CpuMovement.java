package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Ops that move elements without computing on them (raw 32-bit patterns, so f32 and i32 alike): copy (reshape,
 * stop_gradient), permute, expand, slice, concat, roll, pad and gather. Each is reduced to contiguous runs moved
 * with bulk copies, or, for a permute that moves the innermost axis, to a blocked transpose of 2-D planes; work is
 * split over the pool by output rows.
 */
final class CpuMovement {
    private CpuMovement() {}

    /** Side of the square tiles of the blocked transpose. */
    private static final int TILE = 32;

    /** Reshape and stop_gradient: the same elements in the same order. */
    static void copy(Tensor x, Tensor out) {
        MemorySegment xs = x.segment(), os = out.segment();
        Parallel.forRange(out.numel(), 1 << 18, (from, to) -> Simd.copy(xs, from, os, from, to - from));
    }

    /** out axis j is input axis perm[j]. */
    static void permute(Op.Permute op, Tensor x, Tensor out) {
        long[] in = Shapes.strides(x.shape()), walk = new long[in.length];
        for (int j = 0; j < walk.length; j++) walk[j] = in[op.perm()[j]];
        gatherStrided(x.segment(), 0, out.segment(), out.shape(), walk);
    }

    /** Broadcast to the output's shape: runs are copies (the innermost axis is x's) or fills (it is broadcast). */
    static void expand(Tensor x, Tensor out) {
        gatherStrided(x.segment(), 0, out.segment(), out.shape(), Shapes.broadcastStrides(x.shape(), out.shape()));
    }

    /** Elements start, start+step, ... of one axis; a negative start counts from the end, clamped as ShapeRules does. */
    static void slice(Op.Slice op, Tensor x, Tensor out) {
        int a = Shapes.axis(op.axis(), x.rank());
        long len = x.dim(a);
        long start = Math.clamp(op.start() < 0 ? op.start() + len : op.start(), 0, len);
        long[] walk = Shapes.strides(x.shape());
        long base = start * walk[a];
        walk[a] *= op.step();
        gatherStrided(x.segment(), base, out.segment(), out.shape(), walk);
    }

    /** Each part is [outer, len_p * inner] rows copied into [outer, total * inner] at its position. */
    static void concat(Op.Concat op, Tensor[] parts, Tensor out) {
        int a = Shapes.axis(op.axis(), out.rank());
        long[] os = out.shape();
        long outer = Shapes.product(os, 0, a), inner = Shapes.product(os, a + 1, os.length), total = os[a] * inner;
        MemorySegment dst = out.segment();
        long position = 0;
        for (Tensor p : parts) {
            long row = p.dim(a) * inner, at = position;
            MemorySegment src = p.segment();
            Parallel.forItems(outer, row, (from, to) -> {
                for (long o = from; o < to; o++) Simd.copy(src, o * row, dst, o * total + at, row);
            });
            position += row;
        }
    }

    /** As torch.roll: out[..., i, ...] = x[..., (i - shift) mod n, ...]; each output row is at most two copies. */
    static void roll(Op.Roll op, Tensor x, Tensor out) {
        long[] shape = x.shape();
        int r = shape.length;
        if (r == 0 || out.numel() == 0) {
            copy(x, out);
            return;
        }
        long[] strides = Shapes.strides(shape), shift = new long[r];
        for (int i = 0; i < op.axes().length; i++) {
            int ax = Shapes.axis(op.axes()[i], r);
            shift[ax] = Math.floorMod(shift[ax] + op.shifts()[i], shape[ax]);
        }
        // Below the innermost shifted axis k nothing moves: each block of axis k and the axes after it is one
        // contiguous run rolled as a whole, two copies (Swin's shift over H and W: rows of W * C floats, not of C).
        int k = r - 1;
        while (k > 0 && shift[k] == 0) k--;
        long length = shape[k] * strides[k], s = shift[k] * strides[k], blocks = out.numel() / length;
        int outer = k;
        MemorySegment xs = x.segment(), os = out.segment();
        Parallel.forItems(blocks, length, (from, to) -> {
            for (long block = from; block < to; block++) {
                long rest = block, src = 0;
                for (int d = outer - 1; d >= 0; d--) {
                    long coord = rest % shape[d];
                    rest /= shape[d];
                    src += Math.floorMod(coord - shift[d], shape[d]) * strides[d];
                }
                long dst = block * length;
                Simd.copy(xs, src, os, dst + s, length - s);
                if (s > 0) Simd.copy(xs, src + length - s, os, dst, s);
            }
        });
    }

    /** Constant padding: the output is filled with the value, then x's rows are copied into place. */
    static void pad(Op.Pad op, Tensor x, Tensor out) {
        int fill = out.dtype() == DType.F32 ? Float.floatToRawIntBits((float) op.value()) : (int) op.value();
        MemorySegment xs = x.segment(), os = out.segment();
        Parallel.forRange(out.numel(), 1 << 18, (from, to) -> Simd.fill(os, from, to - from, fill));
        long[] shape = x.shape(), outStrides = Shapes.strides(out.shape());
        int r = shape.length;
        if (x.numel() == 0) return;
        if (r == 0) {
            Simd.setBits(os, 0, Simd.bits(xs, 0));
            return;
        }
        long base = 0;
        for (int d = 0; d < r; d++) base += op.before()[d] * outStrides[d];
        long length = shape[r - 1], rows = x.numel() / length, first = base;
        Parallel.forItems(rows, length, (from, to) -> {
            for (long row = from; row < to; row++) {
                long rest = row, dst = first;
                for (int d = r - 2; d >= 0; d--) {
                    dst += (rest % shape[d]) * outStrides[d];
                    rest /= shape[d];
                }
                Simd.copy(xs, row * length, os, dst, length);
            }
        });
    }

    /** out[i..., j...] = table[index[i...], j...]; an index outside the table is an error (checked before copying). */
    static void gather(Tensor table, Tensor index, Tensor out) {
        long rows = table.dim(0), row = rows == 0 ? 0 : table.numel() / rows;
        MemorySegment ts = table.segment(), is = index.segment(), os = out.segment();
        long n = index.numel();
        for (long i = 0; i < n; i++) {
            int r = Simd.bits(is, i);
            if (r < 0 || r >= rows)
                throw new IllegalArgumentException("gather: index " + r + " at position " + i + " is out of range [0, " + rows + ")");
        }
        Parallel.forItems(n, row, (from, to) -> {
            for (long i = from; i < to; i++) Simd.copy(ts, Simd.bits(is, i) * row, os, i * row, row);
        });
    }

    /**
     * out[i] = x[base + offset of i over out's shape walked with {@code walk}]. Collapsed, the innermost output
     * axis either walks x contiguously (runs of copies), repeats one element (fills), or strides through x; in the
     * last case the output axis that x walks contiguously, if any, is paired with it for a blocked transpose.
     */
    static void gatherStrided(MemorySegment x, long base, MemorySegment out, long[] outShape, long[] walk) {
        long n = Shapes.numel(outShape);
        if (n == 0) return;
        Runs runs = Runs.strided(outShape, new long[][] {walk});
        long[][] collapsed = Shapes.collapse(outShape, walk);
        long[] cShape = collapsed[0];
        if (cShape.length > 1 && cShape[cShape.length - 1] < SHORT_RUN && gatherBlocks(x, base, out, cShape, collapsed[1])) return;
        if (runs.unitInner()) {
            Parallel.forItems(n, 1, (from, to) -> runs.forEach(from, to, (o, xo, u1, u2, len) -> {
                if (runs.inc0 == 1) Simd.copy(x, base + xo, out, o, len);
                else Simd.fill(out, o, len, Simd.bits(x, base + xo));
            }));
            return;
        }
        long[][] c = collapsed;
        long[] shape = c[0], stride = c[1];
        int r = shape.length, q = -1;
        for (int d = 0; d < r - 1; d++) if (stride[d] == 1) q = d;
        if (q < 0) {
            Parallel.forItems(n, 1, (from, to) -> runs.forEach(from, to, (o, xo, u1, u2, len) -> {
                for (int i = 0; i < len; i++) Simd.setBits(out, o + i, Simd.bits(x, base + xo + (long) i * runs.inc0));
            }));
            return;
        }
        transposePlanes(x, base, out, shape, stride, q);
    }

    /** Innermost runs shorter than this are moved through an offset table ({@link #gatherBlocks}), not run by run. */
    private static final int SHORT_RUN = 8;
    /** The most elements an offset table of {@link #gatherBlocks} covers. */
    private static final int BLOCK_MAX = 4096;

    /**
     * {@link #gatherStrided} for short innermost runs (a patch's 2 or 4 pixels, a 3-channel image made channels-last):
     * the innermost output axes whose sizes multiply to at least {@link #SHORT_RUN} (at most {@link #BLOCK_MAX}) form
     * a block whose elements' offsets in x go into a table once; each block of the output is then one loop through
     * the table from its base in x, instead of one call a run. False (nothing done) when no such block exists.
     */
    private static boolean gatherBlocks(MemorySegment x, long base, MemorySegment out, long[] shape, long[] stride) {
        int r = shape.length, s = r;
        long size = 1;
        while (s > 0 && size < SHORT_RUN) size *= shape[--s];
        if (size < SHORT_RUN || size > BLOCK_MAX || s == 0) return false;
        int block = (int) size, split = s;
        long[] table = new long[block];
        long[] coords = new long[r];
        for (int i = 0; i < block; i++) { // odometer over the block's axes
            long off = 0;
            for (int d = split; d < r; d++) off += coords[d] * stride[d];
            table[i] = off;
            for (int d = r - 1; d >= split; d--) {
                if (++coords[d] < shape[d]) break;
                coords[d] = 0;
            }
        }
        long blocks = Shapes.numel(shape) / block;
        Parallel.forItems(blocks, block, (from, to) -> {
            long[] at = new long[split];
            long rest = from, xo = base;
            for (int d = split - 1; d >= 0; d--) {
                at[d] = rest % shape[d];
                rest /= shape[d];
                xo += at[d] * stride[d];
            }
            for (long k = from; k < to; k++) {
                long o = k * block;
                for (int i = 0; i < block; i++) Simd.setBits(out, o + i, Simd.bits(x, xo + table[i]));
                for (int d = split - 1; d >= 0; d--) {
                    xo += stride[d];
                    if (++at[d] < shape[d]) break;
                    xo -= stride[d] * shape[d];
                    at[d] = 0;
                }
            }
        });
        return true;
    }

    /**
     * The plane of output axes q (x-contiguous) and r-1 (output-contiguous), for every combination of the other
     * axes, moved in TILE x TILE blocks: each block's x rows are bulk-copied into a small array, then written out
     * along the output's rows, so both sides are read and written along cache lines.
     */
    private static void transposePlanes(MemorySegment x, long base, MemorySegment out, long[] shape, long[] stride, int q) {
        int r = shape.length;
        long[] outStrides = Shapes.strides(shape);
        long rowsQ = shape[q], cols = shape[r - 1], colStride = stride[r - 1], outQ = outStrides[q];
        // The other axes, as an odometer over their own shape.
        long[] otherShape = new long[r - 2], otherIn = new long[r - 2], otherOut = new long[r - 2];
        for (int d = 0, k = 0; d < r - 1; d++) {
            if (d == q) continue;
            otherShape[k] = shape[d];
            otherIn[k] = stride[d];
            otherOut[k] = outStrides[d];
            k++;
        }
        long planes = Shapes.numel(otherShape), tilesQ = Parallel.ceilDiv(rowsQ, TILE);
        Parallel.forItems(planes * tilesQ, (long) TILE * cols, (from, to) -> {
            int[] tile = new int[TILE * TILE];
            for (long item = from; item < to; item++) {
                long plane = item / tilesQ, tq = item % tilesQ, rest = plane, inBase = base, outBase = 0;
                for (int k = otherShape.length - 1; k >= 0; k--) {
                    long coord = rest % otherShape[k];
                    rest /= otherShape[k];
                    inBase += coord * otherIn[k];
                    outBase += coord * otherOut[k];
                }
                long q0 = tq * TILE;
                int h = (int) Math.min(TILE, rowsQ - q0);
                for (long c0 = 0; c0 < cols; c0 += TILE) {
                    int w = (int) Math.min(TILE, cols - c0);
                    for (int j = 0; j < w; j++)
                        MemorySegment.copy(x, Simd.INT, (inBase + (c0 + j) * colStride + q0) << 2, tile, j * TILE, h);
                    for (int i = 0; i < h; i++) {
                        long o = outBase + (q0 + i) * outQ + c0;
                        for (int j = 0; j < w; j++) Simd.setBits(out, o + j, tile[j * TILE + i]);
                    }
                }
            }
        });
    }
}
