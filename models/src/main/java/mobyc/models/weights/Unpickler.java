package mobyc.models.weights;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.runtime.io.FormatException;

/**
 * A restricted unpickler for the {@code data.pkl} of a torch.save checkpoint. It runs the pickle opcodes that
 * torch.save emits (protocol 2, and the protocol 3-5 variants of the same operations) on a stack of plain values
 * ({@link Pickled}) and never executes code. Every global falls in one of three classes:
 *
 * <ul>
 *   <li>{@link #ALLOWED}, the globals a state dict needs, which it evaluates itself;
 *   <li>{@linkplain #denied denied}: globals that can run code or reach the system, which no checkpoint needs.
 *       A file that names one anywhere is refused at once, before anything is built from it;
 *   <li>any other global (a training checkpoint's yacs {@code CfgNode}, argparse {@code Namespace}, a set, a
 *       numpy scalar) becomes an inert {@link Pickled.Foreign} placeholder, never resolved, imported or called.
 *       REDUCE and NEWOBJ of a placeholder make a new one ({@link Pickled.Made}); SETITEM(S), APPEND(S) and
 *       BUILD on one drop what they would have set. So the rest of such a checkpoint parses, and a state dict
 *       beside it can be read. {@link PthReader} refuses a state dict with a placeholder anywhere inside it.
 * </ul>
 *
 * Tensors come back as {@link Pickled.TensorRef}s, read from the zip archive later (only those of the state dict).
 */
final class Unpickler {
    /** The globals a state dict needs, evaluated here; any other is an inert placeholder, or refused if {@link #denied}. */
    static final Set<String> ALLOWED;

    static {
        var allowed = new java.util.TreeSet<>(List.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                "torch._utils._rebuild_parameter"));
        for (StorageType t : StorageType.values()) allowed.add(t.global());
        ALLOWED = java.util.Collections.unmodifiableSet(allowed);
    }

    /**
     * Modules refused anywhere in a file, with their submodules: they run code, processes or other pickles, or
     * reach files, the network or the interpreter. Python 2 names ({@code __builtin__}, {@code cPickle},
     * {@code commands}) count as their Python 3 modules ({@link #PY2_MODULES}).
     */
    static final Set<String> DENIED_MODULES = Set.of("os", "posix", "nt", "posixpath", "ntpath", "subprocess",
            "_posixsubprocess", "pty", "sys", "socket", "shutil", "importlib", "pickle", "_pickle", "dill",
            "cloudpickle", "marshal", "runpy", "types", "code", "codeop", "ctypes", "_ctypes", "multiprocessing",
            "asyncio", "webbrowser", "pdb", "bdb", "timeit", "profile", "cProfile", "trace", "torch.hub");

    /**
     * Single globals refused anywhere in a file: builtins that run code or reach attributes, files or input
     * ({@code builtins.reduce} is how Python 2 names functools.reduce), file openers, and wrappers that call
     * or look up what they are given.
     */
    static final Set<String> DENIED_GLOBALS = Set.of("builtins.eval", "builtins.exec", "builtins.compile",
            "builtins.__import__", "builtins.open", "builtins.getattr", "builtins.setattr", "builtins.delattr",
            "builtins.globals", "builtins.locals", "builtins.vars", "builtins.breakpoint", "builtins.input",
            "builtins.exit", "builtins.quit", "builtins.help", "builtins.__build_class__", "builtins.reduce", "io.open", "io.open_code",
            "_io.open", "_io.open_code", "io.FileIO", "_io.FileIO", "codecs.open", "functools.partial",
            "functools.partialmethod", "functools.reduce", "operator.attrgetter", "operator.methodcaller",
            "torch.load");

    /** Python 2 module names that Python's unpickler reads as these Python 3 modules (its fix_imports). */
    static final Map<String, String> PY2_MODULES = Map.of("__builtin__", "builtins", "exceptions", "builtins",
            "copy_reg", "copyreg", "cPickle", "pickle", "commands", "subprocess", "StringIO", "io", "cStringIO", "io");

    private static final Object MARK = new Object() {
        @Override public String toString() { return "mark"; }
    };

    private final Path file;
    private final String entry;
    private final byte[] data;
    private int pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();
    private final HashMap<String, Pickled.Storage> storages = new HashMap<>();

    private Unpickler(Path file, String entry, byte[] data) {
        this.file = file;
        this.entry = entry;
        this.data = data;
    }

    /** The object pickled in {@code data} (the zip entry {@code entry} of {@code file}). */
    static Object load(Path file, String entry, byte[] data) throws FormatException {
        return new Unpickler(file, entry, data).run();
    }

    private Object run() throws FormatException {
        while (true) {
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int version = u8();
                    if (version > 5) throw bad(at, "pickle protocol " + version + " (this reader knows 2 to 5)");
                }
                case 0x95 -> skip(8); // FRAME: a length hint
                case '.' -> { // STOP
                    Object result = pop(at);
                    if (!marks.isEmpty()) throw bad(at, "STOP inside an unclosed MARK");
                    return result;
                }
                case '(' -> marks.add(stack.size()); // MARK
                case '0' -> pop(at); // POP
                case '1' -> popMark(at); // POP_MARK
                case '2' -> push(peek(at)); // DUP
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(new Pickled.Tuple(List.of())); // EMPTY_TUPLE
                case 't' -> push(new Pickled.Tuple(popMark(at))); // TUPLE
                case 0x85, 0x86, 0x87 -> { // TUPLE1, TUPLE2, TUPLE3
                    int n = op - 0x84;
                    if (stack.size() - base() < n) throw bad(at, "TUPLE" + n + " on a stack of " + (stack.size() - base()));
                    List<Object> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
                    stack.subList(stack.size() - n, stack.size()).clear();
                    push(new Pickled.Tuple(items));
                }
                case 'X' -> push(utf8(at, u32(at))); // BINUNICODE
                case 0x8c -> push(utf8(at, u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(at, u64(at))); // BINUNICODE8
                case 'B' -> push(bytes(at, u32(at))); // BINBYTES
                case 'C' -> push(bytes(at, u8())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(at, u64(at))); // BINBYTES8
                case 'J' -> push((long) s32()); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) u16()); // BININT2
                case 0x8a -> push(integer(at, u8())); // LONG1
                case 0x8b -> push(integer(at, s32())); // LONG4
                case 'G' -> push(Double.longBitsToDouble(s64BigEndian())); // BINFLOAT
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(null); // NONE
                // SETITEM(S) and APPEND(S) on a placeholder (a dict or list subclass such as yacs's CfgNode) drop the items
                case 's' -> { // SETITEM
                    Object value = pop(at), key = pop(at);
                    if (!(peek(at) instanceof Pickled.Inert)) put(at, dict(at, peek(at)), key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(at);
                    if (items.size() % 2 != 0) throw bad(at, "SETITEMS with an odd number of items");
                    if (peek(at) instanceof Pickled.Inert) continue;
                    Map<Object, Object> d = dict(at, peek(at));
                    for (int i = 0; i < items.size(); i += 2) put(at, d, items.get(i), items.get(i + 1));
                }
                case 'a' -> { // APPEND
                    Object value = pop(at);
                    if (!(peek(at) instanceof Pickled.Inert)) list(at, peek(at)).add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(at);
                    if (!(peek(at) instanceof Pickled.Inert)) list(at, peek(at)).addAll(items);
                }
                case 'q' -> memo.put((long) u8(), peek(at)); // BINPUT
                case 'r' -> memo.put(u32(at), peek(at)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE
                case 'h' -> push(memoGet(at, u8())); // BINGET
                case 'j' -> push(memoGet(at, u32(at))); // LONG_BINGET
                case 'c' -> push(global(line(at), line(at))); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at), module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) throw bad(at, "STACK_GLOBAL on non-strings");
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(at), callable = pop(at);
                    push(call(at, callable, args));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                    Object args = pop(at), cls = pop(at);
                    if (cls instanceof Pickled.Inert i) {
                        push(new Pickled.Made(i.origin(), false));
                        continue;
                    }
                    if (!(cls instanceof Pickled.Global g && g.toString().equals("collections.OrderedDict")))
                        throw bad(at, "NEWOBJ of " + Pickled.typeName(cls) + " (only OrderedDict is built this way)");
                    push(new LinkedHashMap<>());
                }
                case 'b' -> { // BUILD: sets attributes; a state dict's OrderedDict carries _metadata, which is dropped
                    Object state = pop(at), target = peek(at);
                    if (target instanceof Pickled.Inert) continue; // nothing is set on a placeholder
                    if (!(target instanceof Map<?, ?>) || !(state instanceof Map<?, ?> || state instanceof Pickled.Tuple || state == null))
                        throw bad(at, "BUILD of " + Pickled.typeName(target) + " with " + Pickled.typeName(state));
                }
                case 'Q' -> push(storage(at, pop(at))); // BINPERSID
                default -> throw bad(at, String.format("unsupported pickle opcode 0x%02x", op));
            }
        }
    }

    /**
     * An allowed global as a {@link Pickled.Global}, any other as an inert {@link Pickled.Foreign}; a denied one is
     * refused before anything else happens to it.
     */
    private Object global(String module, String name) throws FormatException {
        String full = module + "." + name;
        if (ALLOWED.contains(full)) return new Pickled.Global(module, name);
        if (denied(module, name))
            throw new FormatException(file, "refuses to load global " + full + ": it can run code or reach the system, which a checkpoint never needs");
        return new Pickled.Foreign(module, name);
    }

    /**
     * Whether a global is one no checkpoint may name: in {@link #DENIED_MODULES} (or a submodule), or one of
     * {@link #DENIED_GLOBALS}. A dotted name (protocol 4 looks it up attribute by attribute) is denied when any
     * of its attributes is a dunder ({@code __globals__}, {@code __class__}) or when it reaches a denied module or
     * global through a module that imported it ({@code torch.serialization} + {@code os.system}).
     */
    static boolean denied(String module, String name) {
        List<String> path = new ArrayList<>(List.of(module.split("\\.", -1)));
        path.set(0, PY2_MODULES.getOrDefault(path.getFirst(), path.getFirst()));
        int attributes = path.size();
        path.addAll(List.of(name.split("\\.", -1)));
        if (path.size() - attributes > 1)
            for (int i = attributes; i < path.size(); i++) if (isDunder(path.get(i))) return true;
        // the global as named, then each attribute path inside a dotted name
        for (int start = 0; start < path.size(); start = start == 0 ? attributes : start + 1) {
            String prefix = path.get(start);
            for (int end = start; end < path.size() - 1; prefix += "." + path.get(++end))
                if (DENIED_MODULES.contains(prefix)) return true;
            if (DENIED_GLOBALS.contains(prefix)) return true;
        }
        return false;
    }

    private static boolean isDunder(String s) { return s.length() > 4 && s.startsWith("__") && s.endsWith("__"); }

    /**
     * REDUCE: the allowed callables, evaluated here (OrderedDict(), _rebuild_tensor_v2(...), _rebuild_parameter(...));
     * a placeholder "called" gives a new placeholder, and nothing is called.
     */
    private Object call(int at, Object callable, Object argsObject) throws FormatException {
        if (callable instanceof Pickled.Inert i) {
            if (!(argsObject instanceof Pickled.Tuple)) throw bad(at, "REDUCE of " + i.origin() + " with " + Pickled.typeName(argsObject) + " arguments");
            return new Pickled.Made(i.origin(), false);
        }
        if (!(callable instanceof Pickled.Global g)) throw bad(at, "REDUCE calls a " + Pickled.typeName(callable));
        if (!(argsObject instanceof Pickled.Tuple args)) throw bad(at, "REDUCE of " + g + " with " + Pickled.typeName(argsObject) + " arguments");
        switch (g.toString()) {
            case "collections.OrderedDict" -> {
                LinkedHashMap<Object, Object> d = new LinkedHashMap<>();
                if (args.size() == 0) return d;
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        if (!(p instanceof Pickled.Tuple t) || t.size() != 2) throw bad(at, "OrderedDict of a list that does not hold pairs");
                        put(at, d, t.get(0), t.get(1));
                    }
                    return d;
                }
                throw bad(at, "OrderedDict called with " + args.size() + " arguments");
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (args.size() != 6 && args.size() != 7) throw bad(at, "_rebuild_tensor_v2 with " + args.size() + " arguments");
                if (args.get(0) instanceof Pickled.Inert i) return new Pickled.Made(i.origin(), true); // an element type outside the allowlist
                if (!(args.get(0) instanceof Pickled.Storage s)) throw bad(at, "_rebuild_tensor_v2 of a " + Pickled.typeName(args.get(0)));
                long offset = nonNegative(at, args.get(1), "storage offset");
                long[] size = longs(at, args.get(2), "size"), stride = longs(at, args.get(3), "stride");
                if (size.length != stride.length)
                    throw bad(at, "a tensor whose size " + java.util.Arrays.toString(size) + " and stride "
                            + java.util.Arrays.toString(stride) + " differ in rank");
                return new Pickled.TensorRef(s, offset, size, stride);
            }
            case "torch._utils._rebuild_parameter" -> {
                // (data, requires_grad, backward_hooks)
                if (args.size() != 3 || !(args.get(0) instanceof Pickled.TensorRef || args.get(0) instanceof Pickled.Made m && m.tensor))
                    throw bad(at, "_rebuild_parameter of unexpected arguments");
                return args.get(0);
            }
            default -> throw bad(at, "REDUCE calls " + g + ", which is not callable here");
        }
    }

    /**
     * A persistent id ('storage', torch.XStorage, key, location, numel): the storage in zip entry data/key. One of
     * an element type outside the allowlist is a placeholder ({@link PthReader} refuses it in the state dict).
     */
    private Object storage(int at, Object pid) throws FormatException {
        if (!(pid instanceof Pickled.Tuple t) || t.size() != 5 || !"storage".equals(t.get(0)))
            throw bad(at, "a persistent id that is not ('storage', type, key, location, numel)");
        if (t.get(1) instanceof Pickled.Foreign f) {
            if (!(t.get(2) instanceof String) || !(t.get(3) instanceof String))
                throw bad(at, "a storage whose key or location is not a string");
            nonNegative(at, t.get(4), "storage size");
            return new Pickled.Made(f, false);
        }
        if (!(t.get(1) instanceof Pickled.Global g) || StorageType.of(g) == null)
            throw bad(at, "a storage of " + Pickled.typeName(t.get(1)));
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location))
            throw bad(at, "a storage whose key or location is not a string");
        Pickled.Storage s = new Pickled.Storage(StorageType.of(g), key, location, nonNegative(at, t.get(4), "storage size"));
        Pickled.Storage seen = storages.putIfAbsent(key, s);
        if (seen != null && !seen.equals(s)) throw bad(at, "storage " + key + " described twice, differently");
        return s;
    }

    private long nonNegative(int at, Object o, String what) throws FormatException {
        if (!(o instanceof Long v) || v < 0) throw bad(at, "a tensor whose " + what + " is " + (o instanceof Long ? o : Pickled.typeName(o)));
        return v;
    }

    private long[] longs(int at, Object o, String what) throws FormatException {
        if (!(o instanceof Pickled.Tuple t)) throw bad(at, "a tensor whose " + what + " is a " + Pickled.typeName(o));
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(at, t.get(i), what);
        return out;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(int at, Object o) throws FormatException {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad(at, "setting items of a " + Pickled.typeName(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(int at, Object o) throws FormatException {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw bad(at, "appending to a " + Pickled.typeName(o));
    }

    private void put(int at, Map<Object, Object> d, Object key, Object value) throws FormatException {
        if (!hashable(key)) throw bad(at, "a dict key of type " + Pickled.typeName(key));
        d.put(key, value);
    }

    /** Python's hashable values among ours: no lists, dicts or bytes, also not inside tuples (which keeps hashing finite). */
    private static boolean hashable(Object key) {
        if (key instanceof Pickled.Tuple t) {
            for (Object o : t.items()) if (!hashable(o)) return false;
            return true;
        }
        return !(key instanceof List<?> || key instanceof Map<?, ?> || key instanceof byte[] || key instanceof Pickled.TensorRef);
    }

    private Object memoGet(int at, long index) throws FormatException {
        if (!memo.containsKey(index)) throw bad(at, "memo entry " + index + " was never stored");
        return memo.get(index);
    }

    private void push(Object o) { stack.add(o); }

    /** The lowest stack index the current MARK leaves to the opcodes inside it. */
    private int base() { return marks.isEmpty() ? 0 : marks.getLast(); }

    private Object pop(int at) throws FormatException {
        if (stack.size() <= base()) throw bad(at, "the pickle stack is empty");
        return stack.removeLast();
    }

    private Object peek(int at) throws FormatException {
        if (stack.size() <= base()) throw bad(at, "the pickle stack is empty");
        return stack.getLast();
    }

    private List<Object> popMark(int at) throws FormatException {
        if (marks.isEmpty()) throw bad(at, "no MARK to pop to");
        int from = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(from, stack.size()));
        stack.subList(from, stack.size()).clear();
        return items;
    }

    private void need(int at, long n) throws FormatException {
        if (n < 0 || n > data.length - pos) throw bad(at, "the pickle ends inside an opcode");
    }

    private void skip(long n) throws FormatException {
        need(pos, n);
        pos += (int) n;
    }

    private int u8() throws FormatException {
        need(pos, 1);
        return data[pos++] & 0xFF;
    }

    private int u16() throws FormatException { return u8() | u8() << 8; }

    private int s32() throws FormatException { return u16() | u16() << 16; }

    private long u32(int at) throws FormatException { return s32() & 0xFFFF_FFFFL; }

    private long u64(int at) throws FormatException {
        long v = u32(at) | u32(at) << 32;
        if (v < 0) throw bad(at, "a length of " + Long.toUnsignedString(v) + " bytes");
        return v;
    }

    private long s64BigEndian() throws FormatException {
        long v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | u8();
        return v;
    }

    private String utf8(int at, long n) throws FormatException {
        need(at, n);
        String s = new String(data, pos, (int) n, StandardCharsets.UTF_8);
        pos += (int) n;
        return s;
    }

    private byte[] bytes(int at, long n) throws FormatException {
        need(at, n);
        byte[] b = java.util.Arrays.copyOfRange(data, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    /** A little-endian two's-complement integer of {@code n} bytes, as a Long where it fits. */
    private Object integer(int at, long n) throws FormatException {
        need(at, n);
        byte[] be = new byte[(int) n];
        for (int i = 0; i < n; i++) be[i] = data[pos + (int) n - 1 - i];
        pos += (int) n;
        if (n == 0) return 0L;
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** The text up to the next newline (a GLOBAL's module or name). */
    private String line(int at) throws FormatException {
        int start = pos;
        while (true) {
            need(at, 1);
            if (data[pos++] == '\n') return new String(data, start, pos - 1 - start, StandardCharsets.UTF_8);
        }
    }

    private FormatException bad(int at, String what) {
        return new FormatException(file, entry + ": malformed at byte " + at + ": " + what);
    }
}
