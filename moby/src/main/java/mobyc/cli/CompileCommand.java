package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import mobyc.compiler.fuse.Pipeline;
import mobyc.compiler.ir.Op;
import mobyc.compiler.ir.Printer;
import mobyc.compiler.kernel.FusedKernel;
import mobyc.compiler.lower.Lower;
import mobyc.compiler.lower.Program;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.diag.Diagnostics;
import mobyc.runtime.cpu.codegen.KernelCompiler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mobyc compile FILE --module NAME --emit ir|kernels|java|memory}: shows what the compiler makes of a module.
 * {@code kernels} and {@code java} show the program after the cpu backend's passes: the kernel list with each fused
 * kernel's IR, or the Java source the cpu backend generates for each fused kernel.
 */
@Command(name = "compile", description = {"Compile a module and print its graph IR (--emit ir), kernel program with the fused kernels' IR (--emit kernels),",
        "the Java source of the cpu backend's fused kernels (--emit java) or memory plan (--emit memory).",
        "--train --backward compiles the training step (forward in training mode, loss, gradients)."})
final class CompileCommand implements Callable<Integer> {
    enum Emit { ir, kernels, java, memory }

    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Option(names = "--module", paramLabel = "NAME", description = "Module (or top-level function) to compile; default: the last module of FILE.") String module;
    @Option(names = "--function", paramLabel = "FN", defaultValue = "forward", description = "Function of the module (default: ${DEFAULT-VALUE}).") String function;
    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Hyper-parameter (repeatable).") List<String> sets = new ArrayList<>();
    @Option(names = "--emit", defaultValue = "ir", description = "What to print: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).") Emit emit;
    @Option(names = "--train", description = "Build the training-mode graph (dropout, stochastic depth, batch statistics).") boolean train;
    @Option(names = "--backward", description = "Add the gradients: of the scalar output of an objective, or of a classifier's cross-entropy.") boolean backward;
    @Option(names = "--batch", defaultValue = "1", paramLabel = "N", description = "Size given to symbolic dimensions (B) for the memory plan (default: ${DEFAULT-VALUE}).") long batch;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(List.of(file), diags, err);
        String entry = module != null ? module : ForwardCommand.lastModule(c, file);
        Frontend.Built b = Programs.build(c, new Frontend.Request(entry, function, Programs.sets(sets, diags, err), train), err);
        mobyc.compiler.ir.Graph g = b.graph();
        if (backward) {
            var o = g.outputs().get("out");
            g = o != null && o.shape().rank() == 0 ? mobyc.compiler.autodiff.Autodiff.differentiate(g, "out") : mobyc.train.ClassifierProgram.training(g);
        }
        if (emit != Emit.ir) g = Pipeline.backend(g); // what the cpu backend compiles and plans
        Program program = emit == Emit.ir ? null : Lower.lower(g);
        switch (emit) {
            case ir -> out.print(Printer.print(g));
            case kernels -> out.print(kernels(program) + fusedKernels(program, false));
            case java -> out.print(fusedKernels(program, true));
            case memory -> { }
        }
        if (program != null) {
            if (batch <= 0) throw new UserError("--batch must be positive");
            java.util.Map<String, Long> bind = new java.util.HashMap<>();
            for (Program.Buffer buf : program.buffers()) for (String sym : buf.shape().symbols()) bind.put(sym, batch);
            var plan = mobyc.compiler.plan.MemoryPlan.of(program, bind, false); // as the cpu backend runs it
            long temps = program.buffers().stream().filter(x -> x.kind() == Program.Kind.TEMP).count();
            long outBytes = 0;
            for (int id : new java.util.HashSet<>(program.outputs().values())) {
                long n = 4;
                for (long d : program.buffer(id).shape().evaluate(bind)) n *= d;
                outBytes += n;
            }
            if (emit != Emit.java) out.println((emit == Emit.kernels ? "// " : "") + plan.summary((int) temps)
                    + "; outputs " + mobyc.compiler.plan.MemoryPlan.human(outBytes) + (bind.isEmpty() ? "" : " (at " + String.join(", ", bind.keySet()) + " = " + batch + ")"));
        }
        return Main.OK;
    }

    /** Each distinct fused kernel of {@code p} once: its IR, or the Java source the cpu backend compiles. */
    static String fusedKernels(Program p, boolean java) {
        java.util.LinkedHashMap<FusedKernel, List<Integer>> where = new java.util.LinkedHashMap<>();
        for (Program.Kernel k : p.kernels())
            if (k.op() instanceof Op.Fused f) where.computeIfAbsent(f.kernel(), x -> new ArrayList<>()).add(k.output());
        StringBuilder sb = new StringBuilder();
        where.forEach((k, outs) -> {
            sb.append("\n// ").append(k.summary()).append(" -> ");
            for (int i = 0; i < outs.size(); i++) sb.append(i == 0 ? "b" : ", b").append(outs.get(i));
            sb.append('\n').append(java ? KernelCompiler.source(k).text() : k.toString());
        });
        if (java && where.isEmpty()) sb.append("// no fused kernels\n");
        return sb.toString();
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
