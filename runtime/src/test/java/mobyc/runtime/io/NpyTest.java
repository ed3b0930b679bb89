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
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir Path dir;

    /** A .npy file as NumPy lays it out: magic, version, header length, the dict padded to 64 bytes, data. */
    static byte[] npy(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(total - prefix - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) header.length()); else b.putInt(header.length());
        b.put(header.getBytes(StandardCharsets.UTF_8)).put(data);
        return b.array();
    }

    static byte[] littleEndian(int bytesEach, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * bytesEach).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytesEach) {
                case 1 -> b.put((byte) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void roundTripsFloatsIntsScalarsAndEmptyArrays() throws IOException {
        Tensor[] cases = {
            Tensor.of(new float[] {1.5f, -2f, Float.NaN, Float.MIN_VALUE, 3e38f, 0f}, 2, 3),
            Tensor.ofInts(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, 3),
            Tensor.of(new float[] {42f}),
            Tensor.zeros(DType.F32, 0, 4),
        };
        for (int i = 0; i < cases.length; i++) {
            Path p = dir.resolve("t" + i + ".npy");
            Npy.write(p, cases[i]);
            Tensor back = Npy.read(p);
            assertEquals(cases[i].dtype(), back.dtype());
            assertArrayEquals(cases[i].shape(), back.shape());
            assertEquals(cases[i].segment().byteSize(), back.segment().byteSize());
            assertEquals(-1, cases[i].segment().mismatch(back.segment()));
        }
    }

    @Test
    void writesTheHeaderNumPyWrites() throws IOException {
        Path p = dir.resolve("a.npy");
        Npy.write(p, Tensor.of(new float[] {1, 2, 3}, 3));
        byte[] expected = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", littleEndian(4,
                Float.floatToIntBits(1), Float.floatToIntBits(2), Float.floatToIntBits(3)));
        assertArrayEquals(expected, Files.readAllBytes(p));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void readsVersionsTwoAndThree() throws IOException {
        for (int major : new int[] {2, 3}) {
            Tensor t = Npy.read(file("v" + major + ".npy", npy(major, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }",
                    littleEndian(4, 7, -1))));
            assertArrayEquals(new long[] {2, 1}, t.shape());
            assertArrayEquals(new int[] {7, -1}, t.toIntArray());
        }
    }

    @Test
    void convertsWiderAndNarrowerTypes() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3);
        Tensor f = Npy.read(file("f8.npy", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d.array())));
        assertEquals(DType.F32, f.dtype());
        assertArrayEquals(new float[] {0.1f, -3f}, f.toFloatArray());
        Tensor l = Npy.read(file("i8.npy", npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                littleEndian(8, 5, -6, Integer.MAX_VALUE))));
        assertArrayEquals(new int[] {5, -6, Integer.MAX_VALUE}, l.toIntArray());
        Tensor b = Npy.read(file("b1.npy", npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", littleEndian(1, 1, 0, 1))));
        assertArrayEquals(new int[] {1, 0, 1}, b.toIntArray());
        Tensor u = Npy.read(file("u1.npy", npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", littleEndian(1, 255, 3))));
        assertArrayEquals(new int[] {255, 3}, u.toIntArray());
    }

    private void assertFormatError(Path p, String fragment) {
        var e = assertThrows(FormatException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void refusesWhatItCannotRead() throws IOException {
        String f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        assertFormatError(file("text.npy", "hello, world".getBytes(StandardCharsets.US_ASCII)), "not a .npy file");
        assertFormatError(file("empty.npy", new byte[0]), "not a .npy file");
        byte[] good = npy(1, f4, littleEndian(4, 1, 2));
        assertFormatError(file("short-header.npy", Arrays.copyOf(good, 40)), "truncated");
        assertFormatError(file("short-data.npy", Arrays.copyOf(good, good.length - 1)), "truncated");
        byte[] longer = Arrays.copyOf(good, good.length + 4);
        assertFormatError(file("long.npy", longer), "size mismatch");
        assertFormatError(file("fortran.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                littleEndian(4, 1, 2))), "Fortran");
        assertFormatError(file("big-endian.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                littleEndian(4, 1, 2))), "unsupported dtype '>f4'");
        assertFormatError(file("c8.npy", npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                littleEndian(8, 0))), "unsupported dtype");
        assertFormatError(file("i8-range.npy", npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                littleEndian(8, 1, 1L << 40))), "does not fit in i32");
        assertFormatError(file("version.npy", npy(4, f4, littleEndian(4, 1, 2))), "version");
        assertFormatError(file("garbage.npy", npy(1, "{'descr': '<f4', 'shape': (2,), }", littleEndian(4, 1, 2))), "fortran_order");
        assertFormatError(file("bad-shape.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }",
                littleEndian(4, 1, 2))), "malformed shape");
    }

    @Test
    void writeReplacesAnExistingFileWhole() throws IOException {
        Path p = dir.resolve("w.npy");
        Npy.write(p, Tensor.zeros(DType.F32, 1000));
        Npy.write(p, Tensor.ofInts(new int[] {1}, 1));
        assertArrayEquals(new int[] {1}, Npy.read(p).toIntArray());
    }
}
