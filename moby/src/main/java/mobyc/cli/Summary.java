package mobyc.cli;

import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Graph;
import mobyc.compiler.ir.Node;

/** One line about a built graph: parameters and forward FLOPs for the declared input shape. */
final class Summary {
    private Summary() {}

    static String line(String name, Graph g) {
        Long params = g.parameterCount();
        Dim flops = g.flops();
        String inputs = g.inputs().stream().map(n -> ((mobyc.compiler.ir.Op.Input) n.op()).inputName() + ": " + n.dtype() + n.shape())
                .collect(Collectors.joining(", "));
        String at = flops.symbols().stream().map(s -> s + "=1").collect(Collectors.joining(", "));
        Map<String, Long> ones = flops.symbols().stream().collect(Collectors.toMap(s -> s, s -> 1L));
        String f = human(flops.evaluate(ones)) + "FLOPs" + (at.isEmpty() ? "" : " at " + at);
        return String.format(Locale.ROOT, "%s: %s parameters, forward %s (input %s)", name,
                params == null ? "?" : String.format(Locale.ROOT, "%,d", params), f, inputs);
    }

    static String human(double v) {
        String[] units = {"", "K", "M", "G", "T", "P"};
        int u = 0;
        while (Math.abs(v) >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return (u == 0 ? String.format(Locale.ROOT, "%.0f ", v) : String.format(Locale.ROOT, "%.2f ", v)) + units[u];
    }

    static String shape(Node n) { return n.dtype() + n.shape().toString(); }
}
