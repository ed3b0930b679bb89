package mobyc.models.weights;

import java.util.Arrays;
import java.util.List;

/**
 * The Python objects of a state-dict pickle that have no plain Java counterpart. The others are: None as null,
 * bool as Boolean, int as Long (or BigInteger beyond 64 bits), float as Double, str as String, bytes as byte[],
 * list as ArrayList and dict (OrderedDict too) as LinkedHashMap.
 *
 * <p>A global outside {@link Unpickler#ALLOWED} (a training checkpoint's yacs {@code CfgNode}, argparse
 * {@code Namespace}, a set, a numpy scalar) becomes an {@link Inert} placeholder: a {@link Foreign} for the name
 * itself and a {@link Made} for whatever the pickle builds from it. Placeholders only record names; nothing is
 * ever resolved, imported or called for them.
 */
final class Pickled {
    private Pickled() {}

    /** A module-level name: one of the few {@link Unpickler#ALLOWED}, which the unpickler evaluates itself. */
    record Global(String module, String name) {
        @Override public String toString() { return module + "." + name; }
    }

    /** A placeholder for a global outside the allowlist, or for something the pickle made of one. */
    sealed interface Inert permits Foreign, Made {
        /** The global it stands for or was made from. */
        Foreign origin();
    }

    /** A global outside the allowlist, by name only: never resolved, imported or called. */
    record Foreign(String module, String name) implements Inert {
        @Override public Foreign origin() { return this; }
        @Override public String toString() { return module + "." + name; }
    }

    /**
     * What the pickle made of a placeholder (REDUCE or NEWOBJ of it, the items and state it was given dropped),
     * or a storage or tensor of an element type outside the allowlist ({@code tensor}). Nothing was called to make
     * it. Each is a distinct object (identity equality), as the Python objects it stands for would be.
     */
    static final class Made implements Inert {
        private final Foreign origin;
        final boolean tensor;

        Made(Foreign origin, boolean tensor) {
            this.origin = origin;
            this.tensor = tensor;
        }

        @Override public Foreign origin() { return origin; }
        @Override public String toString() { return (tensor ? "tensor of " : "object of ") + origin; }
    }

    /** A tuple (immutable, usable as a dict key). */
    record Tuple(List<Object> items) {
        Tuple { items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items)); }
        int size() { return items.size(); }
        Object get(int i) { return items.get(i); }
    }

    /** A storage of {@code numel} elements of {@code type}, held in the zip entry {@code data/<key>}. */
    record Storage(StorageType type, String key, String location, long numel) {}

    /** A tensor: a strided view of a storage, materialised only when asked for. */
    record TensorRef(Storage storage, long offset, long[] size, long[] stride) {
        @Override public boolean equals(Object o) {
            return o instanceof TensorRef t && storage.equals(t.storage) && offset == t.offset
                    && Arrays.equals(size, t.size) && Arrays.equals(stride, t.stride);
        }
        @Override public int hashCode() { return 31 * (31 * storage.hashCode() + Long.hashCode(offset)) + Arrays.hashCode(size); }
        @Override public String toString() { return "tensor " + Arrays.toString(size) + " of " + storage.type().global(); }
    }

    /** A short Python-like name of an object's type, for messages. */
    static String typeName(Object o) {
        return switch (o) {
            case null -> "None";
            case Boolean b -> "bool";
            case Long l -> "int";
            case java.math.BigInteger b -> "int";
            case Double d -> "float";
            case String s -> "str";
            case byte[] b -> "bytes";
            case java.util.List<?> l -> "list";
            case java.util.Map<?, ?> m -> "dict";
            case Tuple t -> "tuple";
            case Global g -> "global " + g;
            case Foreign f -> "global " + f;
            case Made m -> m.tensor ? "tensor of " + m.origin() : m.origin().toString();
            case Storage s -> "storage";
            case TensorRef t -> "tensor";
            default -> o.getClass().getSimpleName();
        };
    }
}
