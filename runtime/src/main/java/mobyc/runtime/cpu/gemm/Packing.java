package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies blocks of op(A) and op(B) into the contiguous layout the micro-kernel streams through; transposition and
 * alpha are absorbed here, so the kernel sees one layout whatever the operands' order.
 * <ul>
 *   <li>A block (mc x kc) -> ceil(mc/MR) micro-panels of kc x MR floats, k-major: element (i, p) of panel q at
 *       {@code q*kc*MR + p*MR + i}, multiplied by alpha. Rows past mc are zero.</li>
 *   <li>B block (kc x nc) -> ceil(nc/NR) micro-panels of kc x NR floats, k-major: element (p, j) of panel q at
 *       {@code q*kc*NR + p*NR + j}. Columns past nc are zero.</li>
 * </ul>
 * Zero padding lets the kernel always compute full MR x NR tiles; the driver stores only the valid part. Where the
 * source runs along k (A, and B^T) whole 8 x L blocks go through {@link Transpose8}, what is left is copied one
 * float at a time; where it runs along m or n (A^T, B) each k step is one vector copy.
 */
final class Packing {
    private Packing() {}

    private static final ValueLayout.OfFloat IN = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfFloat OUT = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = MicroKernel.S;
    private static final int MR = MicroKernel.MR, NR = MicroKernel.NR, L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int F = Float.BYTES;
    /** The lanes of one k step of a packed A panel, when a vector holds at least MR floats. */
    private static final VectorMask<Float> PANEL_ROWS = S.indexInRange(0, Math.min(MR, L));

    /** Packs rows [i0, i0+mc) and columns [p0, p0+kc) of alpha * op(A) into {@code dst}. */
    static void packA(Operands o, int i0, int mc, int p0, int kc, MemorySegment dst) {
        final float alpha = o.alpha();
        long rowStride = o.aRowStride(), colStride = o.aColStride();
        MemorySegment a = o.a();
        for (int q = 0, r0 = 0; r0 < mc; q++, r0 += MR) {
            int rows = Math.min(MR, mc - r0);
            long panel = (long) q * kc * MR * F;
            long src = o.aOffset() + (i0 + r0) * rowStride + p0 * colStride;
            if (o.transA() && MR <= L) {
                // Stored k x m: the MR values of one k step are contiguous, one masked vector each.
                VectorMask<Float> valid = S.indexInRange(0, rows);
                for (int p = 0; p < kc; p++) {
                    FloatVector x = FloatVector.fromMemorySegment(S, a, (src + p * colStride) * F, ORDER, valid);
                    if (alpha != 1f) x = x.mul(alpha);
                    x.intoMemorySegment(dst, panel + (long) p * MR * F, ORDER, PANEL_ROWS);
                }
                continue;
            }
            if (o.transA()) {
                for (int p = 0; p < kc; p++) {
                    long s = (src + p * colStride) * F, d = panel + (long) p * MR * F;
                    int r = 0;
                    for (; r < rows; r++) dst.set(OUT, d + r * F, alpha * a.get(IN, s + r * F));
                    for (; r < MR; r++) dst.set(OUT, d + r * F, 0f);
                }
                continue;
            }
            // Stored m x k: MR row streams along k, transposed 8 x L at a time.
            int p = 0;
            if (rows == MR && MR == 8 && Transpose8.SUPPORTED) {
                for (; p + L <= kc; p += L)
                    Transpose8.rows(a, (src + p) * F, rowStride * F, alpha, dst, panel + (long) p * MR * F, MR * F);
            }
            for (; p < kc; p++) {
                long d = panel + (long) p * MR * F;
                int r = 0;
                for (; r < rows; r++) dst.set(OUT, d + r * F, alpha * a.get(IN, (src + r * rowStride + p) * F));
                for (; r < MR; r++) dst.set(OUT, d + r * F, 0f);
            }
        }
    }

    /** Packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into {@code dst}. */
    static void packB(Operands o, int p0, int kc, int j0, int nc, MemorySegment dst) {
        long rowStride = o.bRowStride(), colStride = o.bColStride();
        MemorySegment b = o.b();
        for (int q = 0, c0 = 0; c0 < nc; q++, c0 += NR) {
            int cols = Math.min(NR, nc - c0);
            long panel = (long) q * kc * NR * F;
            long src = o.bOffset() + (long) p0 * rowStride + (j0 + c0) * colStride;
            if (!o.transB()) {
                // Stored k x n: the NR values of one k step are contiguous.
                for (int p = 0; p < kc; p++) {
                    long s = (src + p * rowStride) * F, d = panel + (long) p * NR * F;
                    for (int v = 0; v < NR; v += L) {
                        long off = (long) v * F;
                        FloatVector x = v + L <= cols
                                ? FloatVector.fromMemorySegment(S, b, s + off, ORDER)
                                : FloatVector.fromMemorySegment(S, b, s + off, ORDER, S.indexInRange(v, cols));
                        x.intoMemorySegment(dst, d + off, ORDER);
                    }
                }
                continue;
            }
            // Stored n x k: each column of the panel runs along k; groups of 8 columns are transposed 8 x L at a time.
            int c = 0;
            if (Transpose8.SUPPORTED) {
                for (; c + 8 <= cols; c += 8) {
                    long s = src + c * colStride, d = panel + (long) c * F;
                    int p = 0;
                    for (; p + L <= kc; p += L)
                        Transpose8.rows(b, (s + p) * F, colStride * F, 1f, dst, d + (long) p * NR * F, NR * F);
                    for (; p < kc; p++)
                        for (int j = 0; j < 8; j++)
                            dst.set(OUT, d + ((long) p * NR + j) * F, b.get(IN, (s + j * colStride + p) * F));
                }
            }
            for (; c < cols; c++) {
                long s = (src + c * colStride) * F, d = panel + (long) c * F;
                for (int p = 0; p < kc; p++) dst.set(OUT, d + (long) p * NR * F, b.get(IN, s + (long) p * F));
            }
            for (; c < NR; c++) {
                long d = panel + (long) c * F;
                for (int p = 0; p < kc; p++) dst.set(OUT, d + (long) p * NR * F, 0f);
            }
        }
    }
}
