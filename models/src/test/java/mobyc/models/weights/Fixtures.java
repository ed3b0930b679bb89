package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.SafeTensors;

/** The files of tests/golden/make_weight_fixtures.py (src/test/resources/weights) and comparisons of tensor maps. */
final class Fixtures {
    private Fixtures() {}

    static Path file(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/weights/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + name + "; run tests/golden/make_weight_fixtures.py", e);
        }
    }

    static Map<String, Tensor> safetensors(String name) {
        try {
            return SafeTensors.read(file(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Same keys in the same order, and each tensor of the same dtype, shape and bits. */
    static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()));
        expected.forEach((k, e) -> assertSameTensor(e, actual.get(k), k));
    }

    static void assertSameTensor(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        for (long i = 0; i < expected.numel(); i++)
            if (expected.getBits(i) != actual.getBits(i))
                throw new AssertionError(what + ": element " + i + " has bits " + Integer.toHexString(actual.getBits(i))
                        + ", expected " + Integer.toHexString(expected.getBits(i)));
    }
}
