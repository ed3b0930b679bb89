package mobyc.runtime.interp;

import static mobyc.runtime.interp.Run.f32;
import static mobyc.runtime.interp.Run.i32;
import static mobyc.runtime.interp.Run.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import mobyc.compiler.ir.Op;
import mobyc.runtime.Philox;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class SourcesTest {
    @Test
    void constantsAndArange() {
        assertEquals(2.5f, f32(new Op.Constant(2.5), shape()).getFloat(0));
        assertEquals(-3, i32(new Op.Constant(-3), shape()).getInt(0));
        assertArrayEquals(new float[] {0, 1, 2, 3}, f32(new Op.Arange(), shape(4)).toFloatArray());
        assertArrayEquals(new int[] {0, 1, 2}, i32(new Op.Arange(), shape(3)).toIntArray());
    }

    @Test
    void randomIsPhiloxOfSeedStepStreamAndFlatIndex() {
        Tensor r = f32(new Op.Random(77), shape(3, 5));
        for (int i = 0; i < 15; i++)
            assertEquals(Philox.uniform(Run.CTX.seed(), Run.CTX.step(), 77, i), r.getFloat(i));
    }
}
