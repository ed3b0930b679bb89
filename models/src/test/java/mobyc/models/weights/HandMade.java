package mobyc.models.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Hand-made checkpoints for the error cases: pickle opcodes assembled byte by byte, stored zip archives. */
final class HandMade {
    private HandMade() {}

    /** A pickle assembled opcode by opcode. */
    static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int... bytes) {
            for (int b : bytes) out.write(b);
            return this;
        }

        Pickle raw(String ascii) {
            out.writeBytes(ascii.getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle proto() { return op(0x80, 2); }

        Pickle unicode(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Pickle int1(int v) { return op('K', v); }

        /** ('storage', torch.<type>, key, 'cpu', numel) as a persistent id. */
        Pickle storage(String type, String key, int numel) {
            return op('(').unicode("storage").global("torch", type).unicode(key).unicode("cpu").int1(numel).op('t', 'Q');
        }

        /** _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) for a 1-d tensor. */
        Pickle tensor1d(String type, String key, int numel, int offset, int size, int stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            storage(type, key, numel).int1(offset).int1(size).op(0x85).int1(stride).op(0x85).op(0x89);
            return global("collections", "OrderedDict").op(')', 'R').op('t', 'R');
        }

        byte[] bytes() { return out.toByteArray(); }
    }

    /** A zip of stored entries, in order. */
    static void zip(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream os = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16); ZipOutputStream z = new ZipOutputStream(os)) {
            z.setMethod(ZipOutputStream.STORED);
            for (var e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                ze.setSize(e.getValue().length);
                ze.setCompressedSize(e.getValue().length);
                ze.setCrc(crc.getValue());
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** A checkpoint in torch 2's layout (archive/data.pkl, archive/data/<key>, archive/byteorder). */
    static void pth(Path file, byte[] pickle, Map<String, byte[]> storages, String byteorder) throws IOException {
        LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        if (byteorder != null) entries.put("archive/byteorder", byteorder.getBytes(StandardCharsets.US_ASCII));
        storages.forEach((k, v) -> entries.put("archive/data/" + k, v));
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        zip(file, entries);
    }

    /** The entries of an existing zip, in order. */
    static LinkedHashMap<String, byte[]> entries(Path file) throws IOException {
        LinkedHashMap<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(file.toFile())) {
            var it = z.entries();
            while (it.hasMoreElements()) {
                ZipEntry e = it.nextElement();
                out.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }

    /** Little-endian f32 bytes. */
    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }
}
