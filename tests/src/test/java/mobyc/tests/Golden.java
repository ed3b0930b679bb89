package mobyc.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.Npy;

/** Golden files made by tests/golden/make_goldens.py with PyTorch, and the comparison the tests use. */
final class Golden {
    private Golden() {}

    static Path dir(String name) {
        URL u = Golden.class.getClassLoader().getResource("golden/" + name);
        if (u == null) throw new IllegalStateException("missing golden resource " + name);
        try {
            return Path.of(u.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Tensor npy(Path p) {
        try {
            return Npy.read(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Max relative error: max |a - b| over max |b| (the scale of the reference), 0 for equal tensors. */
    static double relError(Tensor actual, Tensor expected) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        assertEquals(expected.dtype(), actual.dtype(), "dtype");
        double maxDiff = 0, scale = 0;
        for (long i = 0; i < expected.numel(); i++) {
            double a = value(actual, i), b = value(expected, i);
            if (Double.isNaN(a) != Double.isNaN(b)) return Double.POSITIVE_INFINITY;
            maxDiff = Math.max(maxDiff, Math.abs(a - b));
            scale = Math.max(scale, Math.abs(b));
        }
        return maxDiff == 0 ? 0 : maxDiff / Math.max(scale, Float.MIN_NORMAL);
    }

    static void assertClose(Tensor actual, Tensor expected, double tol, String what) {
        double e = relError(actual, expected);
        if (what.startsWith("swin") || what.startsWith("mlp") || what.startsWith("batch norm")) System.out.printf("parity %s: max relative error %.3g%n", what, e);
        assertTrue(e <= tol, what + ": max relative error " + e + " > " + tol);
    }

    private static double value(Tensor t, long i) {
        return t.dtype() == DType.I32 ? t.getInt(i) : t.getFloat(i);
    }

    /** A repository path (examples/...), from the tests module's working directory. */
    /** The largest |element| of an f32 tensor. */
    static double maxAbs(Tensor t) {
        double m = 0;
        for (long i = 0; i < t.numel(); i++) m = Math.max(m, Math.abs(t.getFloat(i)));
        return m;
    }

    /** The largest |a - b| over two f32 tensors of the same shape. */
    static double maxDiff(Tensor a, Tensor b) {
        org.junit.jupiter.api.Assertions.assertEquals(java.util.Arrays.toString(b.shape()), java.util.Arrays.toString(a.shape()));
        double m = 0;
        for (long i = 0; i < b.numel(); i++) m = Math.max(m, Math.abs(a.getFloat(i) - b.getFloat(i)));
        return m;
    }

    static Path repo(String rel) { return Path.of("..").resolve(rel).normalize(); }
}
