package mobyc.dsl.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.dsl.diag.Names;
import mobyc.dsl.diag.Pos;

/** Evaluated call arguments: positional then named. Binds them to a parameter list with clear errors. */
public record Args(Pos pos, List<Value> positional, LinkedHashMap<String, Value> named, Map<String, Pos> namedPos) {

    /**
     * Binds to {@code params} (names; a trailing '?' marks optional ones), returning name -> value with
     * nulls for optional parameters not given.
     */
    public Map<String, Value> bind(String fn, String... params) {
        List<String> names = new ArrayList<>();
        for (String p : params) names.add(p.endsWith("?") ? p.substring(0, p.length() - 1) : p);
        if (positional.size() > params.length)
            throw new EvalError(pos, fn + "() takes at most " + params.length + " argument" + (params.length == 1 ? "" : "s") + ", got " + positional.size(),
                    "its parameters are (" + String.join(", ", names) + ")");
        Map<String, Value> out = new LinkedHashMap<>();
        for (int i = 0; i < positional.size(); i++) out.put(names.get(i), positional.get(i));
        for (var e : named.entrySet()) {
            if (!names.contains(e.getKey()))
                throw new EvalError(namedPos.getOrDefault(e.getKey(), pos), fn + "() has no parameter '" + e.getKey() + "'",
                        hintFor(e.getKey(), names));
            if (out.containsKey(e.getKey()))
                throw new EvalError(namedPos.getOrDefault(e.getKey(), pos), fn + "() got '" + e.getKey() + "' twice");
            out.put(e.getKey(), e.getValue());
        }
        for (int i = 0; i < params.length; i++) {
            if (!out.containsKey(names.get(i))) {
                if (params[i].endsWith("?")) out.put(names.get(i), null);
                else throw new EvalError(pos, fn + "() is missing its argument '" + names.get(i) + "'");
            }
        }
        return out;
    }

    private static String hintFor(String name, List<String> names) {
        String d = Names.didYouMean(name, names);
        return d != null ? d : "its parameters are (" + String.join(", ", names) + ")";
    }
}
