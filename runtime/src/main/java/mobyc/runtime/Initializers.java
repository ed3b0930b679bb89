package mobyc.runtime;

import java.nio.charset.StandardCharsets;
import java.util.function.LongToDoubleFunction;
import java.util.stream.LongStream;
import mobyc.compiler.ir.DType;
import mobyc.compiler.ir.Init;

/**
 * Fills parameter and state tensors with their initial values. Random initialisers draw element {@code i} from
 * the Philox block (seed, step 0, stream = {@link #streamOf}(path), element i), so a tensor's starting values
 * depend only on the seed and its path: not on the backend, the order of initialisation or other tensors.
 */
public final class Initializers {
    private Initializers() {}

    private static final double SQRT2 = Math.sqrt(2.0);

    /** Fills {@code t} as {@code init} says; random inits need an f32 tensor. */
    public static void fill(Tensor t, Init init, long seed, String path) {
        long stream = streamOf(path);
        switch (init) {
            case Init.Zeros z -> constant(t, 0.0);
            case Init.Ones o -> constant(t, 1.0);
            case Init.Constant c -> constant(t, c.value());
            case Init.Normal nd -> {
                requireFloat(t, init, path);
                each(t, i -> nd.mean() + nd.std() * Philox.normal(seed, 0, stream, i));
            }
            case Init.Uniform u -> {
                requireFloat(t, init, path);
                each(t, i -> u.low() + (u.high() - u.low()) * Philox.uniform2(seed, 0, stream, i)[0]);
            }
            case Init.TruncNormal tn -> {
                requireFloat(t, init, path);
                truncNormal(t, tn, seed, stream);
            }
            case Init.UnitNormal un -> {
                requireFloat(t, init, path);
                each(t, i -> Philox.normal(seed, 0, stream, i));
                unitSlices(t, un.axis(), path);
            }
            case Init.Copy c -> throw new IllegalArgumentException(path + ": " + init + " is filled by ParameterStore from " + c.from());
        }
    }

    /** A stable 64-bit stream id for a path: FNV-1a over its UTF-8 bytes. */
    public static long streamOf(String path) {
        long h = 0xcbf29ce484222325L;
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * As torch.nn.init.trunc_normal_: u uniform in [Phi(alpha), Phi(beta)], x = mean + std*sqrt(2)*erfinv(2u-1),
     * clamped to [a, b], where alpha and beta are the bounds in standard units.
     */
    private static void truncNormal(Tensor t, Init.TruncNormal tn, long seed, long stream) {
        double low = 2.0 * SpecialFunctions.normalCdf((tn.a() - tn.mean()) / tn.std()) - 1.0;
        double high = 2.0 * SpecialFunctions.normalCdf((tn.b() - tn.mean()) / tn.std()) - 1.0;
        each(t, i -> {
            double v = low + (high - low) * Philox.uniform2(seed, 0, stream, i)[0];
            return Math.clamp(tn.mean() + tn.std() * SQRT2 * SpecialFunctions.erfinv(v), tn.a(), tn.b());
        });
    }

    /** Elements per task of {@link #each}. */
    static final int CHUNK = 1 << 15;
    /** A thread that never runs: a segment it may access is one any thread may access. */
    private static final Thread ANY_OTHER_THREAD = Thread.ofPlatform().unstarted(() -> {});

    /**
     * t[i] = (float) value(i) for every element. Each element depends on its index alone (Philox is counter-based), so
     * large tensors are filled in chunks on the common pool with the same bits as one loop: a Swin-T's 28 M
     * trunc_normal draws (an erfinv each, ~0.6 us) took 18 s on one thread. A segment only its owner may touch is
     * filled on the calling thread.
     */
    static void each(Tensor t, LongToDoubleFunction value) {
        long n = t.numel();
        if (n <= CHUNK || !t.segment().isAccessibleBy(ANY_OTHER_THREAD)) {
            for (long i = 0; i < n; i++) t.setFloat(i, (float) value.applyAsDouble(i));
            return;
        }
        LongStream.range(0, (n + CHUNK - 1) / CHUNK).parallel().forEach(c -> {
            for (long i = c * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) t.setFloat(i, (float) value.applyAsDouble(i));
        });
    }

    /** Scales every slice of {@code t} along {@code axis} to unit L2 norm (as torch.nn.functional.normalize(dim=axis)). */
    private static void unitSlices(Tensor t, int axis, String path) {
        long[] shape = t.shape();
        int ax = axis < 0 ? axis + shape.length : axis;
        if (ax < 0 || ax >= shape.length) throw new IllegalArgumentException(path + ": unit_normal axis " + axis + " is out of range for rank " + shape.length);
        long inner = 1, outer = 1, len = shape[ax];
        for (int i = ax + 1; i < shape.length; i++) inner *= shape[i];
        for (int i = 0; i < ax; i++) outer *= shape[i];
        for (long o = 0; o < outer; o++)
            for (long in = 0; in < inner; in++) {
                long base = o * len * inner + in;
                double ss = 0;
                for (long k = 0; k < len; k++) {
                    double v = t.getFloat(base + k * inner);
                    ss += v * v;
                }
                double scale = 1.0 / Math.max(Math.sqrt(ss), 1e-12);
                for (long k = 0; k < len; k++) t.setFloat(base + k * inner, (float) (t.getFloat(base + k * inner) * scale));
            }
    }

    private static void constant(Tensor t, double v) {
        for (long i = 0, n = t.numel(); i < n; i++) {
            if (t.dtype() == DType.F32) t.setFloat(i, (float) v);
            else t.setInt(i, (int) v);
        }
    }

    private static void requireFloat(Tensor t, Init init, String path) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(path + ": " + init + " needs an f32 tensor, not " + t.dtype());
    }
}
