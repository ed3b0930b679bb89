package mobyc.runtime.cpu.codegen;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import mobyc.compiler.kernel.FusedKernel;

/**
 * Turns fused kernels into loaded {@link FusedCode} classes: renders each with {@link JavaRenderer}, names it by the
 * hash of its source, and takes it from the in-memory cache (one compilation per distinct kernel per JVM), else from
 * the disk cache ({@link KernelCache}), else compiles all the missing ones in one javac task (javax.tools, in memory)
 * and stores them on disk. The disk cache is {@code -Dmobyc.kernel.cache} (default
 * {@code ~/.cache/mobyc/kernels}). {@link #available()} is false where the JDK has no javac (a jlink image without
 * jdk.compiler); callers then use interp's kernel and say so once.
 */
public final class KernelCompiler {
    public static final String CACHE_PROPERTY = "mobyc.kernel.cache";
    /** Bumped whenever the renderer's output changes meaning; part of every hash. */
    private static final String VERSION = "1";

    private static final JavaCompiler JAVAC = ToolProvider.getSystemJavaCompiler();
    private static volatile KernelCompiler shared;

    private final KernelCache disk;
    private final Map<FusedKernel, FusedCode> byKernel = new ConcurrentHashMap<>();
    private final Map<String, FusedCode> byHash = new ConcurrentHashMap<>();
    private final AtomicInteger compiled = new AtomicInteger(), loadedFromDisk = new AtomicInteger(), javacRuns = new AtomicInteger();

    /** A compiler with its own in-memory cache over the disk cache in {@code cacheDir}. */
    public KernelCompiler(Path cacheDir) { this.disk = new KernelCache(cacheDir); }

    /** The JVM's compiler, over the disk cache the property names. */
    public static KernelCompiler shared() {
        KernelCompiler c = shared;
        if (c == null) {
            synchronized (KernelCompiler.class) {
                if (shared == null) shared = new KernelCompiler(defaultCacheDir());
                c = shared;
            }
        }
        return c;
    }

    public static Path defaultCacheDir() {
        String p = System.getProperty(CACHE_PROPERTY);
        return p != null && !p.isBlank() ? Path.of(p) : Path.of(System.getProperty("user.home"), ".cache", "mobyc", "kernels");
    }

    /** Whether javac is in this JVM (module jdk.compiler). */
    public static boolean available() { return JAVAC != null; }

    /** Classes compiled by javac so far, classes loaded from the disk cache, and javac tasks run. */
    public int compiledCount() { return compiled.get(); }
    public int diskHits() { return loadedFromDisk.get(); }
    public int javacRuns() { return javacRuns.get(); }
    public Path cacheDir() { return disk.dir(); }

    /** The class name and source of {@code k}: {@code K} and the first 16 bytes of the source's SHA-256, in hex. */
    public static Source source(FusedKernel k) {
        String text = JavaRenderer.render(k);
        String hash = KernelCache.hash(VERSION + "/" + Runtime.version().feature() + "\n" + text);
        String name = "K" + hash;
        return new Source(name, hash, text.replace(JavaRenderer.NAME, name));
    }

    public record Source(String className, String hash, String text) {
        public String qualifiedName() { return JavaRenderer.PACKAGE + "." + className; }
    }

    /** The code of one kernel (compiled on its own when no batch prepared it). */
    public FusedCode get(FusedKernel k) {
        FusedCode c = byKernel.get(k);
        return c != null ? c : compileAll(List.of(k)).get(k);
    }

    /** The code of every kernel, compiling all that no cache holds in one javac task. */
    public synchronized Map<FusedKernel, FusedCode> compileAll(Collection<FusedKernel> kernels) {
        Map<FusedKernel, FusedCode> out = new LinkedHashMap<>();
        Map<String, Source> missing = new LinkedHashMap<>();
        Map<FusedKernel, Source> sources = new LinkedHashMap<>();
        for (FusedKernel k : kernels) {
            FusedCode c = byKernel.get(k);
            if (c != null) { out.put(k, c); continue; }
            Source s = source(k);
            sources.put(k, s);
            c = byHash.get(s.hash());
            if (c == null) {
                byte[] bytes = disk.read(s.hash());
                if (bytes != null) {
                    c = tryLoad(s, bytes);
                    if (c != null) {
                        loadedFromDisk.incrementAndGet();
                        byHash.put(s.hash(), c);
                    }
                }
            }
            if (c == null) missing.put(s.hash(), s);
        }
        if (!missing.isEmpty()) {
            Map<String, byte[]> classes = javac(missing.values());
            for (Source s : missing.values()) {
                byte[] bytes = classes.get(s.qualifiedName());
                if (bytes == null) throw new IllegalStateException("javac made no class " + s.qualifiedName());
                FusedCode c = tryLoad(s, bytes);
                if (c == null) throw new IllegalStateException("the compiled kernel " + s.qualifiedName() + " does not load");
                compiled.incrementAndGet();
                byHash.put(s.hash(), c);
                disk.write(s.hash(), bytes);
            }
        }
        sources.forEach((k, s) -> {
            FusedCode c = byHash.get(s.hash());
            byKernel.put(k, c);
            out.put(k, c);
        });
        return out;
    }

    /** Defines and instantiates the class, or null when the bytes do not make one (a damaged cache entry). */
    private static FusedCode tryLoad(Source s, byte[] bytes) {
        try {
            Class<?> c = new Loader(s.qualifiedName(), bytes).loadClass(s.qualifiedName());
            return (FusedCode) c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            return null;
        }
    }

    /** One javac task over all sources; the class files stay in memory. */
    private Map<String, byte[]> javac(Collection<Source> sources) {
        if (JAVAC == null) throw new IllegalStateException("no Java compiler in this JVM (module jdk.compiler is absent)");
        javacRuns.incrementAndGet();
        List<JavaFileObject> units = new ArrayList<>();
        for (Source s : sources) units.add(new StringSource(s.qualifiedName(), s.text()));
        DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
        Map<String, ByteArrayOutputStream> classes = new ConcurrentHashMap<>();
        StandardJavaFileManager std = JAVAC.getStandardFileManager(diags, null, null);
        List<String> options = List.of("--add-modules", "jdk.incubator.vector", "-classpath", classPath(),
                "-proc:none", "-implicit:none", "-g:source,lines", "-nowarn", "-Xlint:none");
        JavaFileManager files = new ForwardingJavaFileManager<>(std) {
            @Override
            public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
                return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + kind.extension), kind) {
                    @Override public OutputStream openOutputStream() {
                        return classes.computeIfAbsent(className, n -> new ByteArrayOutputStream());
                    }
                };
            }
        };
        StringWriter log = new StringWriter();
        boolean ok = JAVAC.getTask(log, files, diags, options, null, units).call();
        if (!ok) {
            StringBuilder sb = new StringBuilder("javac failed on generated kernels:");
            for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics())
                if (d.getKind() == Diagnostic.Kind.ERROR)
                    sb.append("\n  ").append(d.getSource() != null ? d.getSource().getName() : "").append(':').append(d.getLineNumber())
                            .append(": ").append(d.getMessage(null));
            throw new IllegalStateException(sb.toString());
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        classes.forEach((n, b) -> out.put(n, b.toByteArray()));
        return out;
    }

    /** Where FusedCode and FusedMath come from (a classes folder or a jar), then the JVM's class path. */
    private static String classPath() {
        List<String> parts = new ArrayList<>();
        try {
            parts.add(Path.of(FusedCode.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        } catch (Exception e) {
            // fall back to the class path alone
        }
        String cp = System.getProperty("java.class.path");
        if (cp != null && !cp.isBlank()) parts.add(cp);
        return String.join(File.pathSeparator, parts);
    }

    private static final class StringSource extends SimpleJavaFileObject {
        private final String text;

        StringSource(String qualifiedName, String text) {
            super(URI.create("string:///" + qualifiedName.replace('.', '/') + Kind.SOURCE.extension), Kind.SOURCE);
            this.text = text;
        }

        @Override public CharSequence getCharContent(boolean ignoreEncodingErrors) { return text; }
    }

    /** Defines one generated class; everything else comes from the runtime's loader. */
    private static final class Loader extends ClassLoader {
        private final String name;
        private final byte[] bytes;

        Loader(String name, byte[] bytes) {
            super("mobyc-kernel", FusedCode.class.getClassLoader());
            this.name = name;
            this.bytes = bytes;
        }

        @Override
        protected Class<?> findClass(String n) throws ClassNotFoundException {
            if (!n.equals(name)) throw new ClassNotFoundException(n);
            return defineClass(n, bytes, 0, bytes.length);
        }
    }
}
