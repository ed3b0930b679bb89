package mobyc.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Finds backends with {@link ServiceLoader} and picks one: by name, else by the {@code mobyc.backend} system
 * property, else the available backend of highest rank. The choice is logged once, at DEBUG level.
 */
public final class Backends {
    private Backends() {}

    /** The system property that overrides the default choice. */
    public static final String PROPERTY = "mobyc.backend";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private static final class Registry {
        static final List<Backend> ALL = load();

        private static List<Backend> load() {
            List<Backend> found = new ArrayList<>();
            ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(found::add);
            found.sort(Comparator.comparingInt(Backend::rank).reversed().thenComparing(Backend::name));
            return List.copyOf(found);
        }
    }

    /** Every registered backend, available or not, highest rank first. */
    public static List<Backend> all() { return Registry.ALL; }

    /** The registered backends that can run here, highest rank first. */
    public static List<Backend> available() {
        return all().stream().filter(Backend::isAvailable).toList();
    }

    /**
     * The backend named {@code nameOrNull}; when null, the one named by the {@code mobyc.backend} property if set,
     * else the available backend of highest rank. An unknown or unavailable name throws IllegalArgumentException
     * listing the available ones.
     */
    public static Backend select(String nameOrNull) {
        String name = nameOrNull;
        String why = "requested";
        if (name == null) {
            String property = System.getProperty(PROPERTY);
            if (property != null && !property.isBlank()) {
                name = property.strip();
                why = "from -D" + PROPERTY;
            }
        }
        Backend chosen;
        if (name == null) {
            List<Backend> ok = available();
            if (ok.isEmpty()) throw new IllegalStateException("no backend is available (none registered with ServiceLoader)");
            chosen = ok.getFirst();
            why = "highest rank available";
        } else {
            chosen = byName(name);
        }
        if (LOGGED.compareAndSet(false, true))
            LOG.log(System.Logger.Level.DEBUG, "backend {0} ({1})", chosen.name(), why);
        return chosen;
    }

    private static Backend byName(String name) {
        String names = available().stream().map(Backend::name).collect(Collectors.joining(", "));
        for (Backend b : all()) {
            if (!b.name().equals(name)) continue;
            if (!b.isAvailable()) throw new IllegalArgumentException("backend '" + name + "' is not available on this machine; available: " + names);
            return b;
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; available: " + names);
    }
}
