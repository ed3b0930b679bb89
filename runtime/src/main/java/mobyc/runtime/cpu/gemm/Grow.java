package mobyc.runtime.cpu.gemm;

/** Per-thread scratch that only grows: the GEMMs' buffers keep the largest size a thread has needed. */
final class Grow {
    private Grow() {}

    /** {@code have} when it holds at least {@code n} floats, else a new array of {@code n}. */
    static float[] floats(float[] have, int n) { return have.length >= n ? have : new float[n]; }
}
