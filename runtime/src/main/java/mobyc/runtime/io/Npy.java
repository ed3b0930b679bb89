package mobyc.runtime.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;

/**
 * NumPy's .npy format, versions 1 to 3, C order. Reads '&lt;f4' and '&lt;i4' as they are, '&lt;f8' as f32 and
 * '&lt;i8' (when every value fits), '|b1' and '|u1' as i32. Writes '&lt;f4' or '&lt;i4', atomically.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGNMENT = 64;
    /** NumPy itself refuses headers over 10000 bytes unless told otherwise. */
    private static final long MAX_HEADER = 1 << 20;
    private static final Map<String, StoredType> DESCRIPTORS = Map.of(
            "<f4", StoredType.F32, "<i4", StoredType.I32, "<f8", StoredType.F64, "<i8", StoredType.I64,
            "|b1", StoredType.BOOL, "|u1", StoredType.U8);

    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

    /** Reads a whole .npy file; every problem with its contents is a {@link FormatException}. */
    public static Tensor read(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Header h = header(file, bytes);
            long need = Tensor.checkedNumel(h.shape) * h.type.size, have = size - h.dataStart;
            if (need != have)
                throw new FormatException(file, (need > have ? "truncated: " : "size mismatch: ") + "shape " + shapeText(h.shape)
                        + " of " + descriptorOf(h.type) + " needs " + need + " bytes of data, the file has " + have);
            return h.type.decode(bytes.asSlice(h.dataStart, need), h.shape, file, "");
        }
    }

    private record Header(StoredType type, long[] shape, long dataStart) {}

    /** Magic, version, header length and the header dict; the shape is checked to be a valid tensor shape. */
    private static Header header(Path file, MemorySegment bytes) throws FormatException {
        long size = bytes.byteSize();
        if (size < 10 || bytes.asSlice(0, MAGIC.length).mismatch(MemorySegment.ofArray(MAGIC)) != -1)
            throw new FormatException(file, "not a .npy file (no \\x93NUMPY magic)");
        int major = bytes.get(ValueLayout.JAVA_BYTE, 6);
        long length, start;
        switch (major) {
            case 1 -> {
                length = Short.toUnsignedInt(bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
                start = 10;
            }
            case 2, 3 -> {
                if (size < 12) throw new FormatException(file, "truncated header");
                length = Integer.toUnsignedLong(bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
                start = 12;
            }
            default -> throw new FormatException(file, "unsupported .npy version " + major);
        }
        if (length > MAX_HEADER) throw new FormatException(file, "a header of " + length + " bytes is implausibly large");
        if (start + length > size)
            throw new FormatException(file, "truncated: the header needs " + length + " bytes, the file has " + (size - start));
        byte[] raw = bytes.asSlice(start, length).toArray(ValueLayout.JAVA_BYTE);
        String dict = new String(raw, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        StoredType type = parseType(file, dict);
        long[] shape = parseShape(file, dict);
        try {
            Tensor.checkedNumel(shape);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "shape " + shapeText(shape) + " is too large");
        }
        return new Header(type, shape, start + length);
    }

    private static StoredType parseType(Path file, String header) throws FormatException {
        if (!header.strip().startsWith("{")) throw new FormatException(file, "malformed header: " + excerpt(header));
        Matcher fortran = FORTRAN.matcher(header);
        if (!fortran.find()) throw new FormatException(file, "malformed header (no fortran_order): " + excerpt(header));
        if (fortran.group(1).equals("True")) throw new FormatException(file, "Fortran-order arrays are not supported; save with C order");
        Matcher descr = DESCR.matcher(header);
        if (!descr.find()) throw new FormatException(file, "malformed header (no descr, or a structured dtype): " + excerpt(header));
        StoredType type = DESCRIPTORS.get(descr.group(1));
        if (type == null)
            throw new FormatException(file, "unsupported dtype '" + descr.group(1) + "' (supported: <f4, <i4, <f8, <i8, |b1, |u1)");
        return type;
    }

    private static long[] parseShape(Path file, String header) throws FormatException {
        Matcher m = SHAPE.matcher(header);
        if (!m.find()) throw new FormatException(file, "malformed header (no shape): " + excerpt(header));
        List<Long> dims = new ArrayList<>();
        for (String part : m.group(1).split(",")) {
            String p = part.strip();
            if (p.endsWith("L")) p = p.substring(0, p.length() - 1); // Python 2 longs
            if (p.isEmpty()) continue;
            try {
                long d = Long.parseLong(p);
                if (d < 0) throw new NumberFormatException();
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new FormatException(file, "malformed shape (" + m.group(1) + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** Writes {@code t} as a version 1 (or, for huge headers, 2) .npy file, atomically. */
    public static void write(Path file, Tensor t) throws IOException {
        String descr = t.dtype() == DType.F32 ? "<f4" : "<i4";
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText(t.shape()) + ", }";
        int prefix = dict.length() + 1 > 0xFFFF - ALIGNMENT ? 12 : 10;
        int padded = (prefix + dict.length() + 1 + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        String header = dict + " ".repeat(padded - prefix - dict.length() - 1) + "\n";
        ByteBuffer head = ByteBuffer.allocate(prefix + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).put((byte) (prefix == 10 ? 1 : 2)).put((byte) 0);
        if (prefix == 10) head.putShort((short) header.length()); else head.putInt(header.length());
        head.put(header.getBytes(StandardCharsets.ISO_8859_1)).flip();
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            AtomicFiles.writeFully(ch, t.segment());
        });
    }

    private static String excerpt(String header) {
        String h = header.strip();
        return h.length() <= 120 ? h : h.substring(0, 120) + "...";
    }

    private static String descriptorOf(StoredType type) {
        for (var e : DESCRIPTORS.entrySet()) if (e.getValue() == type) return e.getKey();
        return type.name();
    }

    /** A Python tuple: (), (3,), (2, 3). */
    private static String shapeText(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i]);
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }
}
