package mobyc.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import mobyc.dsl.Compilation;
import mobyc.dsl.Frontend;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.eval.Value;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mobyc check FILE...}: diagnostics, then a line per module with its parameters and forward FLOPs. */
@Command(name = "check", description = "Check .moby files; on success print each module's parameter count and forward FLOPs.")
final class CheckCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = ".moby source files") List<Path> files;

    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "A hyper-parameter for the modules checked (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--module", paramLabel = "NAME", description = "Only this module.") String module;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    /** The module a declaration stands for (following aliases), collecting the hyper-parameters aliases fix. */
    static Decl.Module target(Compilation c, Decl d, Set<String> preset) {
        for (int i = 0; i < 64 && d != null; i++) {
            if (d instanceof Decl.Module m) return m;
            if (!(d instanceof Decl.ModuleAlias a)) return null;
            for (var arg : a.args()) if (arg.name() != null) preset.add(arg.name());
            d = c.globals().get(a.target());
        }
        return null;
    }

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Diagnostics diags = new Diagnostics();
        Compilation c = Programs.load(files, diags, err);
        Map<String, Value> values = Programs.sets(sets, diags, err);
        List<String> lines = new ArrayList<>();
        boolean any = false;
        for (Decl.FileUnit u : c.roots()) {
            for (Decl d : u.decls()) {
                if (!(d instanceof Decl.Module) && !(d instanceof Decl.ModuleAlias)) continue;
                if (module != null && !module.equals(d.name())) continue;
                Set<String> preset = new HashSet<>();
                Decl.Module m = target(c, d, preset);
                if (m == null) continue;
                any = true;
                boolean hasForward = m.members().stream().anyMatch(x -> x instanceof Decl.Fn f && f.name().equals("forward"));
                List<String> missing = m.hyperParams().stream()
                        .filter(p -> p.defaultValue() == null && !values.containsKey(p.name()) && !preset.contains(p.name())).map(Decl.Param::name).toList();
                if (!hasForward) { lines.add(d.name() + ": no forward function"); continue; }
                if (!missing.isEmpty()) { lines.add(d.name() + ": needs hyper-parameters " + String.join(", ", missing) + " (give them with --set)"); continue; }
                Map<String, Value> own = new java.util.LinkedHashMap<>();
                values.forEach((k, v) -> { if (m.hyperParams().stream().anyMatch(p -> p.name().equals(k))) own.put(k, v); });
                Frontend.Built b = Programs.withBigStack(() -> Frontend.build(c, Frontend.Request.forward(d.name(), own)));
                if (b != null) lines.add(Summary.line(d.name(), b.graph()));
            }
        }
        if (diags.hasErrors()) Programs.fail(diags, err);
        for (String k : values.keySet()) {
            boolean used = c.roots().stream().flatMap(u -> u.decls().stream())
                    .anyMatch(d -> (module == null || module.equals(d.name())) && target(c, d, new HashSet<>()) instanceof Decl.Module m
                            && m.hyperParams().stream().anyMatch(p -> p.name().equals(k)));
            if (!used) throw new UserError("--set " + k + ": no module checked has a hyper-parameter named '" + k + "'");
        }
        if (module != null && !any) throw new UserError("no module named '" + module + "' in " + files);
        for (String l : lines) out.println(l);
        if (!any) out.println("ok (no modules)");
        return Main.OK;
    }
}
