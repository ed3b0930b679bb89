package mobyc.dsl.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import mobyc.dsl.ast.Decl;

/**
 * A module with its hyper-parameters bound: members (parameters, state, submodules, values) by name, and the
 * path that prefixes its parameter names ("layers.0.blocks.1").
 */
public final class ModuleInstance {
    private final Decl.Module decl;
    private final String path;
    private final Map<String, Value> hyper = new LinkedHashMap<>();
    private final Map<String, Value> members = new LinkedHashMap<>();
    private final Map<String, Decl.Fn> fns = new LinkedHashMap<>();
    private final Map<String, String> statePaths = new LinkedHashMap<>();
    private final Map<String, String> paramPaths = new LinkedHashMap<>();

    public ModuleInstance(Decl.Module decl, String path) {
        this.decl = decl;
        this.path = path;
    }

    public Decl.Module decl() { return decl; }
    public String path() { return path; }
    public Map<String, Value> hyper() { return hyper; }
    public Map<String, Value> members() { return members; }
    public Map<String, Decl.Fn> fns() { return fns; }
    /** member name -> full state path, for {@code :=}. */
    public Map<String, String> statePaths() { return statePaths; }
    public Map<String, String> paramPaths() { return paramPaths; }

    public String child(String name) { return path.isEmpty() ? name : path + "." + name; }
}
