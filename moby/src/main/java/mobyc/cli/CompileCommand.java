package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import mobyc.compiler.ir.Printer;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mobyc compile FILE --module NAME --emit ir|kernels}: shows what the compiler makes of a module. */
@Command(name = "compile", description = "Compile a module and print its graph IR (--emit ir) or kernel program (--emit kernels).")
final class CompileCommand implements Callable<Integer> {
    enum Emit { ir, kernels }

    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Option(names = "--module", paramLabel = "NAME", description = "Module (or top-level function) to compile; default: the last module of FILE.") String module;
    @Option(names = "--function", paramLabel = "FN", defaultValue = "forward", description = "Function of the module (default: ${DEFAULT-VALUE}).") String function;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--emit", defaultValue = "ir", description = "What to print: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).") Emit emit;
    @Option(names = "--train", description = "Build the training-mode graph (dropout, stochastic depth, batch statistics).") boolean train;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : ForwardCommand.lastModule(c, file);
        Frontend.Built b = Programs.build(c, new Frontend.Request(entry, function, Programs.sets(sets, diags, err), train), err);
        switch (emit) {
            case ir -> out.print(Printer.print(b.graph()));
            case kernels -> out.print(kernels(Lower.lower(b.graph())));
        }
        return Main.OK;
    }

    static String kernels(Program p) {
        StringBuilder sb = new StringBuilder("program ").append(p.graph().name()).append(" {\n");
        for (Program.Buffer b : p.buffers())
            if (b.kind() != Program.Kind.TEMP) sb.append("  buffer b").append(b.id()).append(" ").append(b.kind().name().toLowerCase())
                    .append(" ").append(b.name()).append(" : ").append(b.dtype()).append(b.shape()).append('\n');
        for (Program.Kernel k : p.kernels()) {
            Program.Buffer o = p.buffer(k.output());
            sb.append("  b").append(k.output()).append(" : ").append(o.dtype()).append(o.shape()).append(" = ").append(k.op().name());
            String a = k.op().attrs();
            sb.append('(');
            for (int i = 0; i < k.inputs().size(); i++) sb.append(i > 0 ? ", b" : "b").append(k.inputs().get(i));
            sb.append(')');
            if (!a.isEmpty()) sb.append(" {").append(a).append('}');
            sb.append('\n');
        }
        p.outputs().forEach((n, id) -> sb.append("  output ").append(n).append(" = b").append(id).append('\n'));
        p.updates().forEach((n, id) -> sb.append("  update ").append(n).append(" := b").append(id).append('\n'));
        return sb.append("}\n").toString();
    }
}
