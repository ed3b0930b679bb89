package mobyc.runtime;

import mobyc.compiler.lower.Program;

/**
 * A way to run kernel programs, found by {@link java.util.ServiceLoader} (register the implementation in
 * {@code META-INF/services/mobyc.runtime.Backend}). {@link Backends#select} picks one by name or by rank.
 */
public interface Backend {
    /** A short lower-case name, as the {@code mobyc.backend} property and the CLI spell it ("interp", "cpu"). */
    String name();

    /** Preference among available backends: the highest rank is the default. The scalar reference is 0. */
    int rank();

    /** Whether this backend can run on this machine (a device, a native library, an SDK is present). */
    boolean isAvailable();

    /** Prepares {@code p} to run; fails with IllegalArgumentException if the program is not executable. */
    Executable compile(Program p);
}
