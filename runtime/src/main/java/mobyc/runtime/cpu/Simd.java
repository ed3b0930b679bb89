package mobyc.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes the cpu kernels use, and the loops over tensor memory they share (little-endian 4-byte
 * elements, indices in elements). {@link #F} is the machine's preferred float vector; {@link #D} the preferred
 * double vector and {@link #H} the float vector of as many lanes as {@link #D}, for kernels that compute in double.
 *
 * <p>Two rules keep the JIT's vector code fast and its results fixed, and every kernel follows them:
 * <ul>
 *   <li>No method of this package takes or returns a vector. The JIT stops inlining ordinary methods once a
 *       compilation grows big (the Vector API's own are always inlined), and a vector handed to a method that was
 *       not inlined is boxed on the heap, thirty times slower. Vector values live inside one loop; methods take
 *       segments and offsets.</li>
 *   <li>No {@code reduceLanes(ADD)} on floating lanes and no vector EXP, LOG or TANH: they are intrinsics in
 *       compiled code and Java loops in the interpreter, and the two differ in the last bit. Lanes are summed in
 *       lane order; transcendentals come from {@link CpuMath}, built from IEEE operations.</li>
 * </ul>
 */
final class Simd {
    private Simd() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> H = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    static final int FL = F.length(), DL = D.length();

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT.withOrder(LE);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(LE);

    static float get(MemorySegment s, long i) { return s.getAtIndex(FLOAT, i); }

    static void set(MemorySegment s, long i, float v) { s.setAtIndex(FLOAT, i, v); }

    static int bits(MemorySegment s, long i) { return s.getAtIndex(INT, i); }

    static void setBits(MemorySegment s, long i, int v) { s.setAtIndex(INT, i, v); }

    /** Per thread: room for the lanes of one double vector, summed in lane order. */
    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[DL]);

    /** The sum of {@code len} floats from element {@code at}, accumulated in double, lanes added in order. */
    static double sum(MemorySegment s, long at, long len) {
        if (len < 2L * DL) {
            double sum = 0;
            for (long i = 0; i < len; i++) sum += get(s, at + i);
            return sum;
        }
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
        long i = 0;
        for (long bound = len - 2L * DL; i <= bound; i += 2L * DL) {
            a0 = a0.add(FloatVector.fromMemorySegment(H, s, (at + i) << 2, LE).convertShape(VectorOperators.F2D, D, 0));
            a1 = a1.add(FloatVector.fromMemorySegment(H, s, (at + i + DL) << 2, LE).convertShape(VectorOperators.F2D, D, 0));
        }
        double[] lanes = LANES.get();
        a0.add(a1).intoArray(lanes, 0);
        double sum = 0;
        for (double l : lanes) sum += l;
        for (; i < len; i++) sum += get(s, at + i);
        return sum;
    }

    /** The sum of (x - centre)^2 over {@code len} floats from {@code at}, in double. */
    static double sumSquares(MemorySegment s, long at, long len, double centre) {
        if (len < DL) {
            double sum = 0;
            for (long i = 0; i < len; i++) {
                double d = get(s, at + i) - centre;
                sum += d * d;
            }
            return sum;
        }
        DoubleVector c = DoubleVector.broadcast(D, centre), acc = DoubleVector.zero(D);
        long i = 0;
        for (long bound = len - DL; i <= bound; i += DL) {
            DoubleVector d = ((DoubleVector) FloatVector.fromMemorySegment(H, s, (at + i) << 2, LE).convertShape(VectorOperators.F2D, D, 0)).sub(c);
            acc = d.fma(d, acc);
        }
        double[] lanes = LANES.get();
        acc.intoArray(lanes, 0);
        double sum = 0;
        for (double l : lanes) sum += l;
        for (; i < len; i++) {
            double d = get(s, at + i) - centre;
            sum += d * d;
        }
        return sum;
    }

    /** The largest of {@code len} floats from element {@code at}; NaN if any is NaN; -infinity if len is 0. */
    static float max(MemorySegment s, long at, long len) {
        if (len < FL) {
            float r = Float.NEGATIVE_INFINITY;
            for (long i = 0; i < len; i++) r = Math.max(r, get(s, at + i));
            return r;
        }
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        long i = 0;
        for (long bound = len - 4L * FL; i <= bound; i += 4L * FL) { // four chains: max has a long latency
            m0 = m0.max(FloatVector.fromMemorySegment(F, s, (at + i) << 2, LE));
            m1 = m1.max(FloatVector.fromMemorySegment(F, s, (at + i + FL) << 2, LE));
            m2 = m2.max(FloatVector.fromMemorySegment(F, s, (at + i + 2 * FL) << 2, LE));
            m3 = m3.max(FloatVector.fromMemorySegment(F, s, (at + i + 3 * FL) << 2, LE));
        }
        for (long bound = len - FL; i <= bound; i += FL) m0 = m0.max(FloatVector.fromMemorySegment(F, s, (at + i) << 2, LE));
        float r = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) r = Math.max(r, get(s, at + i));
        return r;
    }

    /** out[i] = x[i] * factor for {@code len} floats (in place when out is x). */
    static void scale(MemorySegment x, long at, long len, float factor, MemorySegment out, long to) {
        FloatVector f = FloatVector.broadcast(F, factor);
        long i = 0;
        for (long bound = len - FL; i <= bound; i += FL)
            FloatVector.fromMemorySegment(F, x, (at + i) << 2, LE).mul(f).intoMemorySegment(out, (to + i) << 2, LE);
        for (; i < len; i++) set(out, to + i, get(x, at + i) * factor);
    }

    /** out[i] = x[i] - shift for {@code len} floats. */
    static void subtract(MemorySegment x, long at, long len, float shift, MemorySegment out, long to) {
        FloatVector f = FloatVector.broadcast(F, shift);
        long i = 0;
        for (long bound = len - FL; i <= bound; i += FL)
            FloatVector.fromMemorySegment(F, x, (at + i) << 2, LE).sub(f).intoMemorySegment(out, (to + i) << 2, LE);
        for (; i < len; i++) set(out, to + i, get(x, at + i) - shift);
    }

    /** A loop over whole vectors: it handles [from, to) as far as whole vectors go and returns where it stopped. */
    @FunctionalInterface
    interface Loop {
        long run(MemorySegment x, MemorySegment out, long from, long to);
    }

    /** Floats of the per-thread tail scratch: a whole number of vectors of every species here. */
    private static final int TAIL = Math.max(FL, 2 * DL);
    private static final ThreadLocal<MemorySegment> TAIL_SCRATCH = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(TAIL * 4L, 64));

    /**
     * Runs an elementwise {@code loop} over [from, to), finishing the elements after its last whole vector on a
     * zero-padded copy, so each vector function is written once, with no masked twin.
     */
    static void elementwise(Loop loop, MemorySegment x, MemorySegment out, long from, long to) {
        long i = loop.run(x, out, from, to);
        if (i >= to) return;
        long rest = to - i;
        MemorySegment t = TAIL_SCRATCH.get();
        t.fill((byte) 0);
        MemorySegment.copy(x, i << 2, t, 0, rest << 2);
        loop.run(t, t, 0, TAIL);
        MemorySegment.copy(t, 0, out, i << 2, rest << 2);
    }

    /** Fills {@code len} elements from {@code at} with the 32-bit pattern {@code bits}. */
    static void fill(MemorySegment s, long at, long len, int bits) {
        if (bits == 0) {
            s.asSlice(at << 2, len << 2).fill((byte) 0);
            return;
        }
        IntVector v = IntVector.broadcast(I, bits);
        long i = 0;
        for (long bound = len - I.length(); i <= bound; i += I.length()) v.intoMemorySegment(s, (at + i) << 2, LE);
        for (; i < len; i++) setBits(s, at + i, bits);
    }

    /** Copies {@code len} elements (raw bits) from {@code src[from]} to {@code dst[to]}. */
    static void copy(MemorySegment src, long from, MemorySegment dst, long to, long len) {
        if (len >= 8) {
            MemorySegment.copy(src, from << 2, dst, to << 2, len << 2);
        } else {
            for (long i = 0; i < len; i++) setBits(dst, to + i, bits(src, from + i));
        }
    }
}
