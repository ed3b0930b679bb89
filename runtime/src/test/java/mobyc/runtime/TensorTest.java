package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import mobyc.compiler.ir.DType;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void factoriesHoldShapeAndValues() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertEquals(6, t.numel());
        assertEquals(6f, t.getFloat(5));
        assertEquals("[2, 3]", t.shapeString());
        assertEquals("f32[2, 3]", t.toString());
        Tensor i = Tensor.ofInts(new int[] {7, -8}, 2);
        assertArrayEquals(new int[] {7, -8}, i.toIntArray());
        Tensor z = Tensor.zeros(DType.I32, 3, 0);
        assertEquals(0, z.numel());
        assertEquals(1, Tensor.zeros(DType.F32).numel(), "a scalar holds one element");
    }

    @Test
    void elementsAreLittleEndianAtFourBytesEach() {
        Tensor t = Tensor.ofInts(new int[] {0x01020304, 5}, 2);
        assertEquals(8, t.segment().byteSize());
        assertEquals(0x04, t.segment().get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(0x01, t.segment().get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(5, t.segment().get(ValueLayout.JAVA_BYTE, 4));
    }

    @Test
    void shapeIsACopy() {
        Tensor t = Tensor.zeros(DType.F32, 2, 2);
        t.shape()[0] = 9;
        assertArrayEquals(new long[] {2, 2}, t.shape());
    }

    @Test
    void copyIsIndependentAndCopyFromChecksShape() {
        Tensor a = Tensor.of(new float[] {1, 2}, 2);
        Tensor b = a.copy();
        b.setFloat(0, 9);
        assertEquals(1f, a.getFloat(0));
        a.copyFrom(b);
        assertEquals(9f, a.getFloat(0));
        assertThrows(IllegalArgumentException.class, () -> a.copyFrom(Tensor.zeros(DType.F32, 3)));
        assertThrows(IllegalArgumentException.class, () -> a.copyFrom(Tensor.zeros(DType.I32, 2)));
    }

    @Test
    void refusesBadShapesAndTypes() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 2, -1));
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 1L << 20, 1L << 20));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, Long.MAX_VALUE, 4));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.BF16, 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[3], 2, 2));
    }

    @Test
    void typedAccessChecksTheDtype() {
        Tensor t = Tensor.zeros(DType.I32, 1);
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        assertThrows(IllegalStateException.class, t::toFloatArray);
        t.setBits(0, Float.floatToRawIntBits(1.5f));
        assertEquals(Float.floatToRawIntBits(1.5f), t.getInt(0));
    }
}
