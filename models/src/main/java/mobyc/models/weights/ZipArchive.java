package mobyc.models.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import mobyc.runtime.io.FormatException;

/**
 * The entries of a zip file as torch.save writes it (stored, uncompressed entries; zip64 when large), read in
 * place from mapped memory. Entries are found through the central directory; a file cut short has lost it, and
 * then the local headers are walked from the start instead, so that a reader can say which entry the cut
 * reached ({@link #truncated()}, {@link Entry#complete()}).
 */
final class ZipArchive {
    /** An entry's data: {@code size} bytes at {@code offset}; {@code complete} is false where the file ends first. */
    record Entry(String name, long offset, long size, int method, boolean complete) {}

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int LOCAL = 0x04034b50, CENTRAL = 0x02014b50, END = 0x06054b50, END64 = 0x06064b50, LOCATOR64 = 0x07064b50,
            DESCRIPTOR = 0x08074b50;
    private static final long MASK32 = 0xFFFF_FFFFL;

    private final Path file;
    private final MemorySegment bytes;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    private final boolean truncated;

    private ZipArchive(Path file, MemorySegment bytes) throws FormatException {
        this.file = file;
        this.bytes = bytes;
        long end = findEnd();
        truncated = end < 0;
        if (truncated) walkLocalHeaders();
        else readCentralDirectory(end);
    }

    /** The entries of the zip file {@code file} whose bytes are {@code bytes}. */
    static ZipArchive read(Path file, MemorySegment bytes) throws FormatException { return new ZipArchive(file, bytes); }

    /** True when the central directory is missing (the file was cut short): entries come from the local headers. */
    boolean truncated() { return truncated; }

    Collection<Entry> entries() { return Collections.unmodifiableCollection(entries.values()); }

    /** The entry named {@code name}, or null. */
    Entry entry(String name) { return entries.get(name); }

    /** The bytes of a complete, stored entry. */
    MemorySegment data(Entry e) throws FormatException {
        if (e.method != 0)
            throw new FormatException(file, e.name + " is compressed (zip method " + e.method + "); torch.save stores entries uncompressed");
        if (!e.complete) throw new FormatException(file, "truncated: " + e.name + " is cut off");
        return bytes.asSlice(e.offset, e.size);
    }

    private long size() { return bytes.byteSize(); }

    private int u16(long at) { return bytes.get(U16, at) & 0xFFFF; }

    private long u32(long at) { return bytes.get(U32, at) & MASK32; }

    /** The offset of the end-of-central-directory record (searched back over the longest comment), or -1. */
    private long findEnd() {
        long last = size() - 22;
        long first = Math.max(0, last - 0xFFFF);
        for (long at = last; at >= first; at--)
            if (bytes.get(U32, at) == END && at + 22 + u16(at + 20) == size()) return at;
        return -1;
    }

    private void readCentralDirectory(long end) throws FormatException {
        long count = u16(end + 10), dirSize = u32(end + 12), dirOffset = u32(end + 16);
        if (count == 0xFFFF || dirSize == MASK32 || dirOffset == MASK32) {
            long locator = end - 20;
            if (locator < 0 || bytes.get(U32, locator) != LOCATOR64) throw bad("a zip64 archive without its zip64 locator");
            long end64 = bytes.get(U64, locator + 8);
            if (end64 < 0 || end64 + 56 > size() || bytes.get(U32, end64) != END64) throw bad("the zip64 end record is missing");
            count = bytes.get(U64, end64 + 32);
            dirSize = bytes.get(U64, end64 + 40);
            dirOffset = bytes.get(U64, end64 + 48);
        }
        if (dirOffset < 0 || dirSize < 0 || dirOffset + dirSize > size()) throw bad("the central directory lies outside the file");
        long at = dirOffset;
        for (long i = 0; i < count; i++) {
            if (at + 46 > dirOffset + dirSize || bytes.get(U32, at) != CENTRAL) throw bad("central directory entry " + i + " is malformed");
            int method = u16(at + 10), nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32);
            long[] sizes = {u32(at + 24), u32(at + 20), u32(at + 42)}; // uncompressed, compressed, local header offset
            long next = at + 46 + nameLength + extraLength + commentLength;
            if (next > dirOffset + dirSize) throw bad("central directory entry " + i + " is malformed");
            String name = string(at + 46, nameLength);
            zip64(at + 46 + nameLength, extraLength, sizes, name);
            entries.put(name, located(name, method, sizes[1], sizes[2]));
            at = next;
        }
    }

    /** Replaces the 0xFFFFFFFF fields of {@code sizes} by the values of the zip64 extra field, in its order. */
    private void zip64(long extra, int length, long[] sizes, String name) throws FormatException {
        long end = extra + length;
        while (extra + 4 <= end) {
            int id = u16(extra), n = u16(extra + 2);
            if (id == 1) {
                long p = extra + 4;
                for (int k = 0; k < sizes.length; k++) {
                    if (sizes[k] != MASK32) continue;
                    if (p + 8 > extra + 4 + n) throw bad(name + ": its zip64 extra field is too short");
                    sizes[k] = bytes.get(U64, p);
                    p += 8;
                }
                return;
            }
            extra += 4 + n;
        }
    }

    /** An entry whose local header is at {@code header}: its data follow the header's name and extra field. */
    private Entry located(String name, int method, long size, long header) throws FormatException {
        if (header < 0 || header + 30 > size() || bytes.get(U32, header) != LOCAL) throw bad(name + ": its local header is missing");
        long offset = header + 30 + u16(header + 26) + u16(header + 28);
        if (size < 0 || offset + size > size()) throw bad(name + ": its data reach past the end of the file");
        return new Entry(name, offset, size, method, true);
    }

    /**
     * Collects entries from the local headers, in file order, up to the first one the file does not hold whole.
     * torch.save streams its entries: each local header has zero sizes (flag bit 3) and a data descriptor
     * (signature 0x08074b50, crc, sizes) follows the data; the descriptor that ends an entry is the first one whose size field
     * equals the distance from the data's start.
     */
    private void walkLocalHeaders() {
        long at = 0;
        while (at + 30 <= size() && bytes.get(U32, at) == LOCAL) {
            int flags = u16(at + 6), method = u16(at + 8), nameLength = u16(at + 26), extraLength = u16(at + 28);
            long dataAt = at + 30 + nameLength + extraLength;
            if (dataAt > size()) return;
            String name = string(at + 30, nameLength);
            long[] sizes = {u32(at + 22), u32(at + 18)};
            try {
                zip64(at + 30 + nameLength, extraLength, sizes, name);
            } catch (FormatException e) {
                return;
            }
            long next;
            if ((flags & 8) != 0) {
                long[] found = descriptor(dataAt);
                if (found == null) {
                    entries.put(name, new Entry(name, dataAt, -1, method, false));
                    return;
                }
                sizes[1] = found[0];
                next = found[1];
            } else {
                next = dataAt + sizes[1];
            }
            boolean complete = dataAt + sizes[1] <= size();
            entries.put(name, new Entry(name, dataAt, sizes[1], method, complete));
            if (!complete) return;
            at = next;
        }
    }

    /** The size of the data starting at {@code dataAt} and the offset after its data descriptor, or null when the file ends first. */
    private long[] descriptor(long dataAt) {
        for (long p = dataAt; p + 16 <= size(); p++) {
            if (bytes.get(U32, p) != DESCRIPTOR) continue;
            long length = p - dataAt;
            if (u32(p + 8) == length && u32(p + 12) == length) return new long[] {length, p + 16};
            if (p + 24 <= size() && bytes.get(U64, p + 8) == length && bytes.get(U64, p + 16) == length) return new long[] {length, p + 24};
        }
        return null;
    }

    private String string(long at, int length) {
        return new String(bytes.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    private FormatException bad(String what) { return new FormatException(file, "a damaged zip archive: " + what); }
}
