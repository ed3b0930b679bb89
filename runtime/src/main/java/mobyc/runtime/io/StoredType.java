package mobyc.runtime.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;

/**
 * An element type as stored in a file (little-endian) and how it becomes an executable tensor: floats become f32,
 * integers and booleans become i32 (64-bit integers only when every value fits).
 */
enum StoredType {
    F32(4, DType.F32), I32(4, DType.I32), F64(8, DType.F32), I64(8, DType.I32),
    F16(2, DType.F32), BF16(2, DType.F32), U8(1, DType.I32), I8(1, DType.I32), BOOL(1, DType.I32);

    private static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final int size;
    final DType target;

    StoredType(int size, DType target) {
        this.size = size;
        this.target = target;
    }

    /** Converts {@code src} (exactly numel * size bytes) to a tensor; {@code what} prefixes error messages. */
    Tensor decode(MemorySegment src, long[] shape, Path file, String what) throws FormatException {
        Tensor t = Tensor.zeros(target, shape);
        long n = t.numel();
        MemorySegment dst = t.segment();
        switch (this) {
            case F32, I32 -> MemorySegment.copy(src, 0, dst, 0, n * 4);
            case F64 -> { for (long i = 0; i < n; i++) t.setFloat(i, (float) src.getAtIndex(LE_DOUBLE, i)); }
            case F16 -> { for (long i = 0; i < n; i++) t.setFloat(i, Float.float16ToFloat(src.getAtIndex(LE_SHORT, i))); }
            case BF16 -> { for (long i = 0; i < n; i++) t.setFloat(i, Float.intBitsToFloat(src.getAtIndex(LE_SHORT, i) << 16)); }
            case U8 -> { for (long i = 0; i < n; i++) t.setInt(i, src.get(ValueLayout.JAVA_BYTE, i) & 0xFF); }
            case I8 -> { for (long i = 0; i < n; i++) t.setInt(i, src.get(ValueLayout.JAVA_BYTE, i)); }
            case BOOL -> { for (long i = 0; i < n; i++) t.setInt(i, src.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0); }
            case I64 -> {
                for (long i = 0; i < n; i++) {
                    long v = src.getAtIndex(LE_LONG, i);
                    if (v != (int) v)
                        throw new FormatException(file, what + "64-bit integer " + v + " at element " + i + " does not fit in i32");
                    t.setInt(i, (int) v);
                }
            }
        }
        return t;
    }
}
