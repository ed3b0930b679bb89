package mobyc.models.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import mobyc.compiler.ir.DType;

/**
 * The element types of PyTorch storages (the globals {@code torch.FloatStorage} ... a checkpoint names) and how
 * one element becomes an element of an executable tensor: floating types become f32, integer types and bool i32.
 */
enum StorageType {
    FLOAT("FloatStorage", 4, DType.F32), DOUBLE("DoubleStorage", 8, DType.F32), HALF("HalfStorage", 2, DType.F32),
    BFLOAT16("BFloat16Storage", 2, DType.F32), LONG("LongStorage", 8, DType.I32), INT("IntStorage", 4, DType.I32),
    SHORT("ShortStorage", 2, DType.I32), CHAR("CharStorage", 1, DType.I32), BYTE("ByteStorage", 1, DType.I32),
    BOOL("BoolStorage", 1, DType.I32);

    /** The class name in module {@code torch}. */
    final String className;
    /** Bytes per element in the file. */
    final int size;
    /** The dtype of the tensor it becomes. */
    final DType target;

    StorageType(String className, int size, DType target) {
        this.className = className;
        this.size = size;
        this.target = target;
    }

    /** The global naming this type, as {@code torch.FloatStorage}. */
    String global() { return "torch." + className; }

    /** The type a global names, or null. */
    static StorageType of(Pickled.Global g) {
        if (!g.module().equals("torch")) return null;
        for (StorageType t : values()) if (t.className.equals(g.name())) return t;
        return null;
    }

    private static final ValueLayout.OfInt[] INT32 = {ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN)};
    private static final ValueLayout.OfLong[] INT64 = {ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN)};
    private static final ValueLayout.OfShort[] INT16 = {ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN)};
    private static final ValueLayout.OfDouble[] FLOAT64 = {ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN)};

    /**
     * Element {@code i} of {@code src} (little-endian, or big-endian when {@code big}): for f32 targets the
     * float's bit pattern, for i32 targets the integer value (a 64-bit value may not fit in 32 bits: the caller checks).
     */
    long element(MemorySegment src, long i, boolean big) {
        int o = big ? 1 : 0;
        return switch (this) {
            case FLOAT -> src.get(INT32[o], 4 * i);
            case INT -> src.get(INT32[o], 4 * i);
            case DOUBLE -> Float.floatToRawIntBits((float) src.get(FLOAT64[o], 8 * i));
            case HALF -> Float.floatToRawIntBits(Float.float16ToFloat(src.get(INT16[o], 2 * i)));
            case BFLOAT16 -> (src.get(INT16[o], 2 * i) & 0xFFFF) << 16;
            case LONG -> src.get(INT64[o], 8 * i);
            case SHORT -> src.get(INT16[o], 2 * i);
            case CHAR -> src.get(ValueLayout.JAVA_BYTE, i);
            case BYTE -> src.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case BOOL -> src.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
        };
    }
}
