package mobyc.dsl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mobyc.dsl.ast.Decl;
import mobyc.dsl.diag.Diagnostics;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.diag.SourceFile;

/**
 * A loaded program: the files given and everything they import, with their top-level declarations by name.
 * Imports are looked up next to the importing file, then in the built-in library (resources under mobyc/lib/).
 */
public final class Compilation {
    private final Diagnostics diags;
    private final List<Decl.FileUnit> units = new ArrayList<>();
    private final Map<String, Decl> globals = new LinkedHashMap<>();
    private final Map<String, Decl.FileUnit> owner = new LinkedHashMap<>();
    private final List<Decl.FileUnit> roots = new ArrayList<>();
    private final Set<String> loaded = new HashSet<>();

    public Compilation(Diagnostics diags) { this.diags = diags; }

    public Diagnostics diagnostics() { return diags; }
    public Map<String, Decl> globals() { return globals; }
    public List<Decl.FileUnit> units() { return units; }
    /** The files named on the command line (not their imports). */
    public List<Decl.FileUnit> roots() { return roots; }
    public Decl.FileUnit ownerOf(String global) { return owner.get(global); }

    /** Loads a file given by the user. */
    public Decl.FileUnit addFile(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        SourceFile src = SourceReader.read(abs, path.toString(), diags);
        Decl.FileUnit u = src == null ? null : add(src, abs.getParent(), abs.toString());
        if (u != null) roots.add(u);
        return u;
    }

    /** Loads source text (tests, --expr). */
    public Decl.FileUnit addSource(String name, String text, Path dir) {
        SourceFile src = SourceReader.decode(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), name, diags);
        Decl.FileUnit u = src == null ? null : add(src, dir, "source:" + name + ":" + text.hashCode());
        if (u != null) roots.add(u);
        return u;
    }

    private Decl.FileUnit add(SourceFile src, Path dir, String key) {
        if (!loaded.add(key)) return null;
        Decl.FileUnit unit = Parse.parse(src, diags);
        if (unit == null) return null;
        if (unit.imports().isEmpty() && unit.decls().isEmpty())
            diags.add(new mobyc.dsl.diag.Diagnostic(mobyc.dsl.diag.Diagnostic.Severity.WARNING, new Pos(src, 1, 1),
                    "the file declares nothing", src.text().isBlank() ? "the file is empty" : null));
        units.add(unit);
        for (Decl.Import imp : unit.imports()) resolveImport(imp, dir);
        for (Decl d : unit.decls()) {
            Decl old = globals.get(d.name());
            if (old != null) {
                diags.error(d.pos(), "'" + d.name() + "' is already defined at " + old.pos());
                continue;
            }
            if (mobyc.dsl.eval.Builtins.isBuiltin(d.name()))
                diags.error(d.pos(), "'" + d.name() + "' is the name of a built-in function", "choose another name");
            globals.put(d.name(), d);
            owner.put(d.name(), unit);
        }
        return unit;
    }

    private void resolveImport(Decl.Import imp, Path dir) {
        String name = imp.name();
        if (name.isEmpty() || name.contains("\0")) {
            diags.error(imp.pos(), "empty import path");
            return;
        }
        if (dir != null) {
            Path p = dir.resolve(name).normalize();
            if (Files.isRegularFile(p)) {
                SourceFile src = SourceReader.read(p, displayPath(p), diags);
                if (src != null) add(src, p.getParent(), p.toString());
                return;
            }
        }
        String res = "mobyc/lib/" + name;
        try (InputStream in = Compilation.class.getClassLoader().getResourceAsStream(res)) {
            if (in != null) {
                byte[] bytes = in.readAllBytes();
                SourceFile src = SourceReader.decode(bytes, "<lib>/" + name, diags);
                if (src != null) add(src, null, "lib:" + name);
                return;
            }
        } catch (IOException e) {
            diags.error(imp.pos(), "cannot read library file '" + name + "': " + e.getMessage());
            return;
        }
        diags.error(imp.pos(), "cannot find '" + name + "' to import",
                "imports are looked up next to the importing file, then in the built-in library (nn.moby)");
    }

    private static String displayPath(Path p) {
        Path cwd = Path.of("").toAbsolutePath();
        return p.startsWith(cwd) ? cwd.relativize(p).toString() : p.toString();
    }

    /** A position for errors that belong to no source line (command-line arguments). */
    public static Pos commandLine(String what) { return new Pos(new SourceFile(what, ""), 1, 1); }
}
