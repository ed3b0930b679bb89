package mobyc.runtime.interp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Op;
import mobyc.runtime.RunContext;
import mobyc.runtime.Tensor;

/** Runs one interp kernel on concrete tensors, and compares floats. */
final class Run {
    private Run() {}

    static final RunContext CTX = new RunContext(1234, 5);

    static Tensor op(Op op, DType type, long[] shape, Tensor... in) {
        Tensor out = Tensor.zeros(type, shape);
        Kernels.run(op, in, out, CTX);
        return out;
    }

    static Tensor f32(Op op, long[] shape, Tensor... in) { return op(op, DType.F32, shape, in); }

    static Tensor i32(Op op, long[] shape, Tensor... in) { return op(op, DType.I32, shape, in); }

    static long[] shape(long... s) { return s; }

    static void assertClose(float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i])) assertEquals(expected[i], actual[i], "element " + i);
            else assertEquals(expected[i], actual[i], tolerance * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }
}
