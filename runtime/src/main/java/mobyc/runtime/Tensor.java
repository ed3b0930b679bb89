package mobyc.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import mobyc.compiler.ir.DType;

/**
 * A dense row-major tensor of 4-byte elements (f32 or i32) in off-heap memory.
 *
 * <p>Element {@code i} (flat, row-major) lives at byte {@code 4 * i} of {@link #segment()}, little-endian,
 * whatever the machine's byte order. Memory is managed by an automatic arena: it is freed when the tensor
 * becomes unreachable. A tensor of shape {@code []} is a scalar holding one element.
 */
public final class Tensor {
    /** Bytes per element of every executable dtype. */
    public static final int ELEMENT_BYTES = 4;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    /** Tensors from this many bytes are mapped on huge pages (a partly used last huge page wastes at most a quarter). */
    private static final long HUGE_MIN = 4 * HugePages.SIZE;
    private final long[] shape;
    private final long numel;
    private final MemorySegment data;

    private Tensor(DType dtype, long[] shape) {
        if (dtype == null || !dtype.isExecutable())
            throw new IllegalArgumentException("tensors hold f32 or i32 elements, not " + dtype);
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = checkedNumel(this.shape);
        long bytes = numel * ELEMENT_BYTES;
        this.data = bytes >= HUGE_MIN ? HugePages.allocate(bytes, ELEMENT_BYTES) : Arena.ofAuto().allocate(bytes, ELEMENT_BYTES);
    }

    private Tensor(DType dtype, long[] shape, MemorySegment data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = checkedNumel(this.shape);
        this.data = data;
    }

    /**
     * A tensor over the same memory with another element type and shape of the same element count, for
     * executors that reuse buffers. Writes through either are seen by both.
     */
    public Tensor reinterpret(DType dtype, long... shape) {
        if (dtype == null || !dtype.isExecutable()) throw new IllegalArgumentException("tensors hold f32 or i32 elements, not " + dtype);
        if (checkedNumel(shape) != numel)
            throw new IllegalArgumentException("reinterpret: " + checkedNumel(shape) + " elements over a tensor of " + numel);
        return new Tensor(dtype, shape, data);
    }

    /**
     * A tensor over existing memory (an executor's arena): {@code data} must hold exactly the shape's elements at
     * 4 bytes each. Nothing is copied or cleared; writes go to {@code data}.
     */
    public static Tensor over(MemorySegment data, DType dtype, long... shape) {
        if (dtype == null || !dtype.isExecutable()) throw new IllegalArgumentException("tensors hold f32 or i32 elements, not " + dtype);
        long numel = checkedNumel(shape);
        if (data.byteSize() != numel * ELEMENT_BYTES)
            throw new IllegalArgumentException("over: " + data.byteSize() + " bytes for " + numel + " elements");
        return new Tensor(dtype, shape, data);
    }

    /** A tensor of the given type and shape filled with zeros. */
    public static Tensor zeros(DType dtype, long... shape) { return new Tensor(dtype, shape); }

    /** An f32 tensor holding {@code data} in row-major order; {@code data.length} must equal the element count. */
    public static Tensor of(float[] data, long... shape) {
        Tensor t = new Tensor(DType.F32, shape);
        t.checkLength(data.length);
        MemorySegment.copy(data, 0, t.data, F32, 0, data.length);
        return t;
    }

    /** An i32 tensor holding {@code data} in row-major order; {@code data.length} must equal the element count. */
    public static Tensor ofInts(int[] data, long... shape) {
        Tensor t = new Tensor(DType.I32, shape);
        t.checkLength(data.length);
        MemorySegment.copy(data, 0, t.data, I32, 0, data.length);
        return t;
    }

    /** The number of elements of a shape; refuses negative dimensions and tensors over 2^31-1 elements. */
    public static long checkedNumel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = d == 0 ? 0 : (n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d);
        }
        if (n > Integer.MAX_VALUE)
            throw new IllegalArgumentException("a tensor of shape " + Arrays.toString(shape) + " exceeds "
                    + Integer.MAX_VALUE + " elements (" + (long) Integer.MAX_VALUE * ELEMENT_BYTES + " bytes)");
        return n;
    }

    private void checkLength(int length) {
        if (length != numel)
            throw new IllegalArgumentException(length + " values given for shape " + shapeString() + " (" + numel + " elements)");
    }

    public DType dtype() { return dtype; }

    /** A copy of the shape. */
    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    /** The size of axis {@code i}. */
    public long dim(int i) { return shape[i]; }

    public long numel() { return numel; }

    /** The backing memory: {@code numel() * 4} bytes, little-endian elements. */
    public MemorySegment segment() { return data; }

    public float getFloat(long i) { expect(DType.F32); return data.getAtIndex(F32, i); }

    public void setFloat(long i, float v) { expect(DType.F32); data.setAtIndex(F32, i, v); }

    public int getInt(long i) { expect(DType.I32); return data.getAtIndex(I32, i); }

    public void setInt(long i, int v) { expect(DType.I32); data.setAtIndex(I32, i, v); }

    /** The raw 32-bit pattern of element {@code i}, whatever the dtype (for moving data without converting it). */
    public int getBits(long i) { return data.getAtIndex(I32, i); }

    /** Sets the raw 32-bit pattern of element {@code i}, whatever the dtype. */
    public void setBits(long i, int bits) { data.setAtIndex(I32, i, bits); }

    private void expect(DType t) {
        if (dtype != t) throw new IllegalStateException("this tensor holds " + dtype + ", not " + t);
    }

    public float[] toFloatArray() { expect(DType.F32); return data.toArray(F32); }

    public int[] toIntArray() { expect(DType.I32); return data.toArray(I32); }

    /** A new tensor with the same dtype, shape and values. */
    public Tensor copy() {
        Tensor t = new Tensor(dtype, shape);
        MemorySegment.copy(data, 0, t.data, 0, data.byteSize());
        return t;
    }

    /** Overwrites this tensor's values with {@code src}'s, which must have the same dtype and shape. */
    public void copyFrom(Tensor src) {
        if (src.dtype != dtype || !Arrays.equals(src.shape, shape))
            throw new IllegalArgumentException("cannot copy " + src + " into " + this);
        MemorySegment.copy(src.data, 0, data, 0, data.byteSize());
    }

    /** The shape as {@code [2, 3]}. */
    public String shapeString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i]);
        return sb.append(']').toString();
    }

    /** The dtype and shape, as {@code f32[2, 3]}. */
    @Override public String toString() { return dtype + shapeString(); }
}
