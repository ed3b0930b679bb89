package mobyc.runtime.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir Path dir;

    /** A safetensors file: 8-byte little-endian header length, the header, the data. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void roundTripsInOrder() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("layers.1.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        in.put("layers.0.bias", Tensor.of(new float[] {-1.5f}, 1));
        in.put("index", Tensor.ofInts(new int[] {3, 1, 4, 1}, 2, 2));
        in.put("scalar", Tensor.of(new float[] {7}));
        in.put("empty", Tensor.zeros(DType.F32, 0));
        Path p = dir.resolve("m.safetensors");
        SafeTensors.write(p, in, Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(p);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "header padded to a multiple of 8");
        Map<String, Tensor> out = SafeTensors.read(p);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
        for (String k : in.keySet()) {
            assertEquals(in.get(k).dtype(), out.get(k).dtype(), k);
            assertArrayEquals(in.get(k).shape(), out.get(k).shape(), k);
            assertEquals(-1, in.get(k).segment().mismatch(out.get(k).segment()), k);
        }
    }

    @Test
    void readsAHandWrittenFileWithMetadataAndConvertsTypes() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(8 + 8 + 4 + 16).order(ByteOrder.LITTLE_ENDIAN);
        data.putDouble(0.25);                                            // a: F64 [1]
        data.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f)); // b: F16 [2]
        data.putShort((short) (Float.floatToIntBits(3f) >>> 16)).putShort((short) (Float.floatToIntBits(-0.5f) >>> 16)); // c: BF16 [2]
        data.putInt(0);                                                  // a gap the format allows
        data.putLong(-7).putLong(Integer.MAX_VALUE);                     // d: I64 [2]
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[12,16]},"
                + "\"d\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[20,36]}}";
        Map<String, Tensor> t = SafeTensors.read(write("h.safetensors", file(header, data.array())));
        assertEquals(List.of("a", "b", "c", "d"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {0.25f}, t.get("a").toFloatArray());
        assertArrayEquals(new float[] {1.5f, -2f}, t.get("b").toFloatArray());
        assertArrayEquals(new float[] {3f, -0.5f}, t.get("c").toFloatArray());
        assertArrayEquals(new long[] {1, 2}, t.get("c").shape());
        assertArrayEquals(new int[] {-7, Integer.MAX_VALUE}, t.get("d").toIntArray());
    }

    private void assertFormatError(Path p, String... fragments) {
        var e = assertThrows(FormatException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void refusesCorruptFiles() throws IOException {
        byte[] data = floats(1, 2, 3, 4);
        byte[] good = file("{" + entry("w", "F32", "[2,2]", 0, 16) + "}", data);
        SafeTensors.read(write("good.safetensors", good));

        assertFormatError(write("tiny.safetensors", new byte[] {1, 2, 3}), "truncated");
        assertFormatError(write("cut.safetensors", Arrays.copyOf(good, good.length - 3)), "'w'", "past the data area");
        assertFormatError(write("cut-header.safetensors", Arrays.copyOf(good, 20)), "truncated");
        byte[] huge = good.clone();
        huge[7] = 0x7f;
        assertFormatError(write("huge.safetensors", huge), "header length");
        assertFormatError(write("garbage.safetensors", file("{\"w\": {\"dtype\": \"F32\", ", new byte[0])), "not valid JSON");
        assertFormatError(write("array.safetensors", file("[1, 2, 3]", new byte[0])), "not a JSON object");
        assertFormatError(write("dup.safetensors", file("{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 4, 8) + "}",
                floats(1, 2))), "not valid JSON");
        assertFormatError(write("size.safetensors", file("{" + entry("w", "F32", "[2,2]", 0, 12) + "}", data)),
                "'w'", "12 bytes", "needs 16");
        assertFormatError(write("beyond.safetensors", file("{" + entry("w", "F32", "[2,2]", 4, 20) + "}", data)),
                "'w'", "past the data area");
        assertFormatError(write("reversed.safetensors", file("{" + entry("w", "F32", "[0]", 8, 4) + "}", data)), "'w'");
        assertFormatError(write("negative.safetensors", file("{" + entry("w", "F32", "[-1]", 0, 4) + "}", data)), "'w'", "shape");
        assertFormatError(write("overlap.safetensors", file("{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("b", "F32", "[2]", 8, 16) + "}", data)),
                "'b'", "overlap", "'a'");
        assertFormatError(write("dtype.safetensors", file("{" + entry("w", "U64", "[2]", 0, 16) + "}", data)), "'w'", "unsupported dtype U64");
        assertFormatError(write("fields.safetensors", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", data)), "'w'", "data_offsets");
        assertFormatError(write("meta.safetensors", file("{\"__metadata__\":3}", data)), "__metadata__");
        ByteBuffer big = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        assertFormatError(write("i64.safetensors", file("{" + entry("n", "I64", "[1]", 0, 8) + "}", big.array())), "'n'", "does not fit in i32");
    }

    @Test
    void overlapIsFoundEvenPastAnInnerTensor() throws IOException {
        byte[] data = floats(new float[10]);
        String header = "{" + entry("big", "F32", "[10]", 0, 40) + "," + entry("inner", "F32", "[1]", 4, 8) + ","
                + entry("late", "F32", "[1]", 32, 36) + "}";
        var e = assertThrows(FormatException.class, () -> SafeTensors.read(write("o.safetensors", file(header, data))));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    }

    @Test
    void refusesToWriteTheMetadataKeyAsATensor() {
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(dir.resolve("x.safetensors"), Map.of("__metadata__", Tensor.zeros(DType.F32, 1))));
    }
}
