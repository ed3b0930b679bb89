package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The local scopes of one function activation (or of a module body), innermost last. */
final class Frame {
    final ModuleInstance self;
    private final List<Map<String, Value>> scopes = new ArrayList<>();

    Frame(ModuleInstance self) {
        this.self = self;
        push();
    }

    void push() { scopes.add(new HashMap<>()); }
    void pop() { scopes.removeLast(); }

    Value lookup(String name) {
        for (int i = scopes.size() - 1; i >= 0; i--) {
            Value v = scopes.get(i).get(name);
            if (v != null) return v;
        }
        return null;
    }

    boolean definedHere(String name) { return scopes.getLast().containsKey(name); }
    void define(String name, Value v) { scopes.getLast().put(name, v); }

    /** Reassigns the innermost binding; false when the name is not a local. */
    boolean assign(String name, Value v) {
        for (int i = scopes.size() - 1; i >= 0; i--) {
            if (scopes.get(i).containsKey(name)) {
                scopes.get(i).put(name, v);
                return true;
            }
        }
        return false;
    }

    /** Depth of the scope holding a name (for no_grad: which outer variables a block changed). */
    int depthOf(String name) {
        for (int i = scopes.size() - 1; i >= 0; i--) if (scopes.get(i).containsKey(name)) return i;
        return -1;
    }

    int depth() { return scopes.size(); }

    Set<String> names() {
        Set<String> out = new TreeSet<>();
        for (var s : scopes) out.addAll(s.keySet());
        return out;
    }
}
