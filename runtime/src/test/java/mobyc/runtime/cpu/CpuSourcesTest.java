package mobyc.runtime.cpu;

import static mobyc.runtime.cpu.Diff.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Philox;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class CpuSourcesTest {
    @Test
    void randomIsPhiloxElementForElement() {
        for (long n : new long[] {1, 13, 4098, 200_003}) {
            Tensor t = Diff.cpu(new Op.Random(7), DType.F32, shape(n));
            for (long i = 0; i < n; i++) assertEquals(Philox.uniform(1234, 5, 7, i), t.getFloat(i), "element " + i);
        }
        Tensor wide = Diff.cpu(new Op.Random((1L << 40) + 3), DType.F32, shape(3, 5));
        for (long i = 0; i < 15; i++) assertEquals(Philox.uniform(1234, 5, (1L << 40) + 3, i), wide.getFloat(i));
    }

    @Test
    void arangeAndConstantsMatchInterp() {
        for (int n : Diff.SIZES) {
            Diff.check("arange f32 " + n, new Op.Arange(), DType.F32, shape(n), 0, 0);
            Diff.check("arange i32 " + n, new Op.Arange(), DType.I32, shape(n), 0, 0);
        }
        Diff.check("const f32", new Op.Constant(0.1), DType.F32, shape(), 0, 0);
        Diff.check("const i32", new Op.Constant(-3), DType.I32, shape(), 0, 0);
    }
}
