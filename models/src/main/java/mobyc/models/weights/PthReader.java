package mobyc.models.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.FormatException;

/**
 * Reads the tensors of a PyTorch checkpoint written by {@code torch.save} (the zip format of PyTorch 1.6 and
 * later): {@code <dir>/data.pkl}, a pickle of the saved object whose tensors point at raw storages
 * {@code <dir>/data/<key>}, and {@code <dir>/byteorder} ("little" when absent). The pickle goes through the
 * restricted {@link Unpickler}, which never runs code: it refuses a file that names a global able to run code or
 * reach the system anywhere, and keeps any other global a state dict does not need as an inert placeholder.
 *
 * <p>The result is the state dict: the saved object itself, or its entry "model" or "state_dict" (as training
 * checkpoints such as MoBY's and DeiT's hold it, beside an optimizer state, a yacs config or argparse arguments,
 * which may hold placeholders), in its own order. The state dict itself may hold only tensors and plain
 * containers: a placeholder anywhere inside it is refused, naming its key. Only its tensors are read (the
 * storages of other tensors, such as optimizer moments, are never touched); f64, f16 and bf16
 * become f32, integers and bool become i32 (64-bit values must fit). A legacy (non-zip) file, a truncated file,
 * a missing storage or a storage of the wrong size is a {@link FormatException} naming the file and the key.
 */
public final class PthReader {
    private PthReader() {}

    /** Where training checkpoints keep their state dict, in the order they are tried. */
    static final String[] NESTED = {"model", "state_dict"};

    /** The state dict of the checkpoint {@code file}, by key, in the file's order. */
    public static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            if (isLegacy(bytes.asSlice(0, Math.min(3, bytes.byteSize())).toArray(ValueLayout.JAVA_BYTE)))
                throw new FormatException(file, "a PyTorch checkpoint in the legacy format (PyTorch before 1.6, or "
                        + "_use_new_zipfile_serialization=False), which mobyc does not read; re-save it with torch.save's "
                        + "default format: torch.save(torch.load(\"old.pth\"), \"new.pth\")");
            if (!isZip(bytes))
                throw new FormatException(file, "not a PyTorch checkpoint (no zip archive)");
            ZipArchive zip = ZipArchive.read(file, bytes);
            String dir = archiveDirectory(file, zip);
            boolean big = bigEndian(file, zip, dir);
            ZipArchive.Entry pickle = zip.entry(dir + "/data.pkl");
            if (!pickle.complete()) throw new FormatException(file, "truncated: " + pickle.name() + " is cut off");
            if (pickle.size() > Integer.MAX_VALUE) throw new FormatException(file, pickle.name() + " is larger than 2 GB");
            Object root = Unpickler.load(file, pickle.name(), zip.data(pickle).toArray(ValueLayout.JAVA_BYTE));
            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, Pickled.TensorRef> e : stateDict(file, root).entrySet())
                out.put(e.getKey(), tensor(file, zip, dir, big, e.getKey(), e.getValue()));
            return out;
        }
    }

    /**
     * Whether {@code head} starts like torch.save's legacy format: a pickle (PROTO 2 to 5) whose first value is
     * its magic number, a LONG1.
     */
    static boolean isLegacy(byte[] head) {
        return head.length >= 3 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5 && (head[2] & 0xFF) == 0x8a;
    }

    /** Whether {@code bytes} start like a zip file (a local file header). */
    static boolean isZip(MemorySegment bytes) {
        return bytes.byteSize() >= 4 && bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) == 0x04034b50;
    }

    /** The folder holding data.pkl: torch.save names it after the file ("archive" in newer versions). */
    private static String archiveDirectory(Path file, ZipArchive zip) throws FormatException {
        String found = null;
        for (ZipArchive.Entry e : zip.entries()) {
            String n = e.name();
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                if (found != null) throw new FormatException(file, "not a PyTorch checkpoint: the zip archive holds two data.pkl");
                found = n.substring(0, n.length() - "/data.pkl".length());
            }
        }
        if (found == null)
            throw new FormatException(file, zip.truncated() ? "truncated: the zip archive ends before its data.pkl"
                    : "not a PyTorch checkpoint: the zip archive holds no data.pkl");
        return found;
    }

    private static boolean bigEndian(Path file, ZipArchive zip, String dir) throws FormatException {
        ZipArchive.Entry e = zip.entry(dir + "/byteorder");
        if (e == null) return false;
        String order = new String(zip.data(e).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
        return switch (order) {
            case "little" -> false;
            case "big" -> true;
            default -> throw new FormatException(file, e.name() + " says '" + order + "', not little or big");
        };
    }

    /** The saved object if it maps names to tensors, else its "model" or "state_dict" entry. */
    private static LinkedHashMap<String, Pickled.TensorRef> stateDict(Path file, Object root) throws FormatException {
        if (!(root instanceof Map<?, ?> top))
            throw new FormatException(file, "holds an object of type " + Pickled.typeName(root) + ", not a state dict (a dict of tensors)");
        Map<?, ?> dict = top;
        String where = "", path = "";
        for (String name : NESTED) {
            if (top.get(name) instanceof Map<?, ?> nested) {
                dict = nested;
                where = " (in its '" + name + "' entry)";
                path = name;
                break;
            }
        }
        refusePlaceholders(file, dict, path);
        LinkedHashMap<String, Pickled.TensorRef> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String key))
                throw new FormatException(file, "the state dict" + where + " has a key of type " + Pickled.typeName(e.getKey()) + ": " + e.getKey());
            if (!(e.getValue() instanceof Pickled.TensorRef t))
                throw new FormatException(file, "'" + key + "' in the state dict" + where + " holds an object of type " + Pickled.typeName(e.getValue()) + ", not a tensor");
            out.put(key, t);
        }
        return out;
    }

    /**
     * Refuses a state dict with a placeholder (a global outside the unpickler's allowlist, or an object made of
     * one) anywhere inside it, naming the first in file order by its key path ("model.foo", "model.bar[2]").
     * Walks without recursion and visits each container once, so deep or cyclic pickles end.
     */
    private static void refusePlaceholders(Path file, Map<?, ?> dict, String path) throws FormatException {
        var seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<Object, Boolean>());
        var todo = new java.util.ArrayDeque<Object[]>(); // {value, path}, the next on top
        todo.push(new Object[] {dict, path});
        while (!todo.isEmpty()) {
            Object[] next = todo.pop();
            Object value = next[0];
            String at = (String) next[1];
            switch (value) {
                case Pickled.Made m when m.tensor -> throw new FormatException(file, where(at) + ": holds a tensor of "
                        + m.origin() + ", a storage type mobyc does not read");
                case Pickled.Inert i -> throw new FormatException(file, where(at) + ": holds an object of " + i.origin()
                        + "; a state dict needs only tensors and plain containers");
                case Map<?, ?> m when seen.add(m) -> {
                    var children = new ArrayList<Object[]>();
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        children.add(new Object[] {e.getKey(), "a key of " + (at.isEmpty() ? "the state dict" : at)});
                        children.add(new Object[] {e.getValue(), at.isEmpty() ? String.valueOf(e.getKey()) : at + "." + e.getKey()});
                    }
                    for (Object[] c : children.reversed()) todo.push(c);
                }
                case List<?> l when seen.add(l) -> {
                    for (int i = l.size() - 1; i >= 0; i--) todo.push(new Object[] {l.get(i), at + "[" + i + "]"});
                }
                case Pickled.Tuple t when seen.add(t) -> {
                    for (int i = t.size() - 1; i >= 0; i--) todo.push(new Object[] {t.get(i), at + "[" + i + "]"});
                }
                case null, default -> {}
            }
        }
    }

    private static String where(String path) { return path.isEmpty() ? "the state dict" : path; }

    private static Tensor tensor(Path file, ZipArchive zip, String dir, boolean big, String key, Pickled.TensorRef t) throws FormatException {
        Pickled.Storage s = t.storage();
        String name = dir + "/data/" + s.key();
        ZipArchive.Entry e = zip.entry(name);
        if (zip.truncated() && (e == null || !e.complete()))
            throw new FormatException(file, "truncated: the zip archive has lost its central directory, and tensor '" + key
                    + "' needs " + name + ", which the file does not hold whole");
        if (e == null) throw new FormatException(file, "tensor '" + key + "': its storage " + name + " is missing from the zip archive");
        long needed = s.numel() > Long.MAX_VALUE / 8 ? -1 : s.numel() * s.type().size;
        if (e.size() != needed)
            throw new FormatException(file, "tensor '" + key + "': its storage " + name + " holds " + e.size() + " bytes, a "
                    + s.type().global() + " of " + s.numel() + " elements needs " + needed);
        return StridedCopy.copy(t, zip.data(e), big, file, key);
    }
}
