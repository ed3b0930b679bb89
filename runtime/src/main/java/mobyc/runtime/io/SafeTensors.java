package mobyc.runtime.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to its dtype,
 * shape and data_offsets (relative to the data area), then the data. Reads F32 and I32 as they are, F64, F16 and
 * BF16 as f32, I64 (when every value fits), I8, U8 and BOOL as i32; validates the header fully before reading
 * data. Writes F32/I32, atomically, with the header padded by spaces to a multiple of 8 bytes.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** The header size limit of the reference implementation. */
    private static final long MAX_HEADER = 100_000_000;
    private static final String METADATA = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private record Entry(String key, StoredType type, long[] shape, long begin, long end) {}

    /** Every tensor of the file, in header order. */
    public static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FormatException(file, "truncated: " + size + " bytes, not even a header length");
            MemorySegment bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength < 2 || headerLength > MAX_HEADER)
                throw new FormatException(file, "not a safetensors file (header length " + Long.toUnsignedString(headerLength) + ")");
            if (8 + headerLength > size)
                throw new FormatException(file, "truncated: the header needs " + headerLength + " bytes, the file has " + (size - 8));
            List<Entry> entries = parseHeader(file, bytes.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
            MemorySegment data = bytes.asSlice(8 + headerLength);
            checkLayout(file, entries, data.byteSize());
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : entries)
                out.put(e.key, e.type.decode(data.asSlice(e.begin, e.end - e.begin), e.shape, file, "tensor '" + e.key + "': "));
            return out;
        }
    }

    private static List<Entry> parseHeader(Path file, byte[] header) throws FormatException {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new FormatException(file, "the header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new FormatException(file, "the header cannot be read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new FormatException(file, "the header is not a JSON object");
        List<Entry> entries = new ArrayList<>();
        for (var field : root.properties()) {
            String key = field.getKey();
            JsonNode v = field.getValue();
            if (key.equals(METADATA)) {
                if (!v.isObject()) throw new FormatException(file, METADATA + " is not an object");
                continue;
            }
            entries.add(entry(file, key, v));
        }
        return entries;
    }

    private static Entry entry(Path file, String key, JsonNode v) throws FormatException {
        String where = "tensor '" + key + "': ";
        if (!v.isObject()) throw new FormatException(file, where + "not an object");
        JsonNode dtype = v.get("dtype"), shapeNode = v.get("shape"), offsets = v.get("data_offsets");
        if (dtype == null || !dtype.isTextual()) throw new FormatException(file, where + "no dtype");
        StoredType type = storedType(dtype.asText());
        if (type == null) throw new FormatException(file, where + "unsupported dtype " + dtype.asText() + " (supported: F32, I32, F64, F16, BF16, I64, I8, U8, BOOL)");
        long[] shape = longs(file, where, "shape", shapeNode, -1);
        long[] range = longs(file, where, "data_offsets", offsets, 2);
        if (range[0] > range[1]) throw new FormatException(file, where + "data_offsets [" + range[0] + ", " + range[1] + "] end before they begin");
        long numel;
        try {
            numel = Tensor.checkedNumel(shape);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, where + e.getMessage());
        }
        if (range[1] - range[0] != numel * type.size)
            throw new FormatException(file, where + "data_offsets [" + range[0] + ", " + range[1] + "] hold " + (range[1] - range[0])
                    + " bytes, shape " + Arrays.toString(shape) + " of " + dtype.asText() + " needs " + numel * type.size);
        return new Entry(key, type, shape, range[0], range[1]);
    }

    private static long[] longs(Path file, String where, String field, JsonNode node, int length) throws FormatException {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length))
            throw new FormatException(file, where + field + " is not an array" + (length >= 0 ? " of " + length + " integers" : " of integers"));
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = node.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.asLong() < 0)
                throw new FormatException(file, where + field + " holds " + x + ", not a non-negative integer");
            out[i] = x.asLong();
        }
        return out;
    }

    /** Every tensor's bytes lie inside the data area, and no two tensors share a byte. */
    private static void checkLayout(Path file, List<Entry> entries, long dataSize) throws FormatException {
        for (Entry e : entries)
            if (e.end > dataSize)
                throw new FormatException(file, "tensor '" + e.key + "': data_offsets [" + e.begin + ", " + e.end
                        + "] reach past the data area of " + dataSize + " bytes (truncated file?)");
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry reach = null; // the tensor seen so far whose bytes end last
        for (Entry b : sorted) {
            if (b.end == b.begin) continue;
            Entry a = reach;
            if (a != null && b.begin < a.end)
                throw new FormatException(file, "tensor '" + b.key + "': data_offsets [" + b.begin + ", " + b.end
                        + "] overlap those of tensor '" + a.key + "' [" + a.begin + ", " + a.end + "]");
            if (a == null || b.end > a.end) reach = b;
        }
    }

    private static StoredType storedType(String name) {
        for (StoredType t : StoredType.values()) if (t.name().equals(name)) return t;
        return null;
    }

    /** Writes {@code tensors} in map order, atomically. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /** Writes {@code tensors} in map order with string {@code metadata} (omitted when empty), atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA)) throw new IllegalArgumentException("a tensor cannot be named " + METADATA);
            Tensor t = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", t.dtype() == DType.F32 ? "F32" : "I32");
            var shape = n.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            long end = offset + t.segment().byteSize();
            n.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            for (Tensor t : tensors.values()) AtomicFiles.writeFully(ch, t.segment());
        });
    }
}
