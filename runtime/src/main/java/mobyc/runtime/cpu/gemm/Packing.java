package mobyc.runtime.cpu.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Copies blocks of op(A) and op(B) into the contiguous layout the micro-kernel streams through; transposition and
 * alpha are absorbed here, so the kernel sees one of two layouts whatever the operands' order.
 * <ul>
 *   <li>A block (mc x kc), multiplied by alpha, in one of two layouts the kernel takes as strides ({@link #aLayout}),
 *       neither of them a transposition. A stored m x k stays row-major, in panels of MR rows: element (i, p) of
 *       panel q at {@code q*kc*MR + i*kc + p}, rows past mc zero. A stored k x m (A^T) stays k-major as a whole block:
 *       element (i, p) at {@code p*mc + i}, each k step one bulk copy; a last partial panel reads past mc into the
 *       next k step, rows the driver never stores. Each A panel is read once per B micro-panel, often once in all
 *       (a narrow B), so transposing it into k-major panels cost more than it saved: 16384 x 192 by 192 x 48 went
 *       from 175 to 245 GFLOP/s (2 threads, cold caches) when A's rows stopped being transposed.</li>
 *   <li>B block (kc x nc) -> ceil(nc/NR) micro-panels of kc x NR floats, k-major: element (p, j) of panel q at
 *       {@code q*kc*NR + p*NR + j}. Columns past nc are zero.</li>
 * </ul>
 * Zero padding lets the kernel always compute full MR x NR tiles; the driver stores only the valid part. The
 * operands are read only by bulk copies (see {@link MicroKernel} for why no vector touches a memory segment):
 * where B^T runs along k, 8 runs at a time are staged and whole 8 x L blocks go through {@link Transpose8}, what is
 * left is moved one float at a time; where B runs along n one k step of the whole block is staged and each
 * panel's part is one array copy.
 */
final class Packing {
    private Packing() {}

    private static final ValueLayout.OfFloat IN = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int MR = MicroKernel.MR, NR = MicroKernel.NR, L = MicroKernel.S.length();

    /** Floats of staging {@link #packB} needs for blocks of at most these sizes. */
    static int stageFloats(int kc, int nc) { return Math.max(8 * kc, nc); }

    /** Packs rows [i0, i0+mc) and columns [p0, p0+kc) of alpha * op(A) into {@code dst}. */
    static void packA(Operands o, int i0, int mc, int p0, int kc, float[] dst) {
        final float alpha = o.alpha();
        MemorySegment a = o.a();
        int panels = (mc + MR - 1) / MR;
        if (o.transA()) { // stored k x m: each k step's run of mc floats, as it is; one copy where the runs abut
            if (o.lda() == mc) MemorySegment.copy(a, IN, (o.aOffset() + i0 + (long) p0 * mc) * Float.BYTES, dst, 0, kc * mc);
            else for (int p = 0; p < kc; p++)
                MemorySegment.copy(a, IN, (o.aOffset() + i0 + (long) (p0 + p) * o.lda()) * Float.BYTES, dst, p * mc, mc);
            if (alpha != 1f) for (int d = 0; d < kc * mc; d++) dst[d] *= alpha;
            return;
        }
        // Stored m x k: MR row runs along k, copied as they are (the kernel reads the panel row-major). Whole rows that
        // abut (lda == kc: all of k in one block) are the packed layout already: one copy for the block.
        if (o.lda() == kc) {
            MemorySegment.copy(a, IN, (o.aOffset() + (long) i0 * kc) * Float.BYTES, dst, 0, mc * kc);
            if (alpha != 1f) for (int d = 0; d < mc * kc; d++) dst[d] *= alpha;
            Arrays.fill(dst, mc * kc, panels * MR * kc, 0f);
            return;
        }
        for (int q = 0; q < panels; q++) {
            int rows = Math.min(MR, mc - q * MR), panel = q * kc * MR;
            stageRuns(a, o.aOffset() + (long) (i0 + q * MR) * o.lda() + p0, o.lda(), rows, kc, dst, panel);
            if (alpha != 1f) for (int d = panel; d < panel + rows * kc; d++) dst[d] *= alpha;
            Arrays.fill(dst, panel + rows * kc, panel + MR * kc, 0f);
        }
    }

    /**
     * Where the kernel finds the A panels {@link #packA} left: panel q (rows q*MR..) at {@code q * panel}, its element
     * (r, p) {@code p * step + r * row} further on.
     */
    record ALayout(int panel, int step, int row) {}

    /** The layout of a packed mc x kc block of op(A). */
    static ALayout aLayout(Operands o, int mc, int kc) { return o.transA() ? new ALayout(MR, mc, 1) : new ALayout(kc * MR, 1, kc); }

    /** Floats a packed block of at most mc x kc needs: whole panels, and the reads past the end of a k-major block. */
    static int aFloats(int mc, int kc) { return (mc + MR - 1) / MR * MR * kc + MR; }

    /** Packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into {@code dst}. */
    static void packB(Operands o, int p0, int kc, int j0, int nc, float[] dst, float[] stage) { packB(o, p0, kc, j0, nc, dst, 0, stage); }

    /** {@link #packB} into {@code dst} from float index {@code at}. */
    static void packB(Operands o, int p0, int kc, int j0, int nc, float[] dst, int at, float[] stage) {
        MemorySegment b = o.b();
        int panels = (nc + NR - 1) / NR;
        if (!o.transB()) { // stored k x n
            packAlongPanels(b, o.bOffset() + (long) p0 * o.ldb() + j0, o.ldb(), kc, nc, NR, dst, at, stage);
            return;
        }
        // Stored n x k: each column of a panel runs along k; 8 columns are staged and transposed 8 x L at a time.
        for (int q = 0; q < panels; q++) {
            int cols = Math.min(NR, nc - q * NR), panel = at + q * kc * NR;
            for (int c = 0; c < cols; c += 8) {
                int group = Math.min(8, cols - c), d = panel + c;
                stageRuns(b, o.bOffset() + (long) (j0 + q * NR + c) * o.ldb() + p0, o.ldb(), group, kc, stage, 0);
                int p = 0;
                if (group == 8 && Transpose8.SUPPORTED)
                    for (; p + L <= kc; p += L) Transpose8.rows(stage, p, kc, 1f, dst, d + p * NR, NR);
                for (; p < kc; p++)
                    for (int j = 0; j < group; j++) dst[d + p * NR + j] = stage[j * kc + p];
            }
            if (cols < NR)
                for (int p = 0; p < kc; p++) Arrays.fill(dst, panel + p * NR + cols, panel + (p + 1) * NR, 0f);
        }
    }

    /**
     * Packs a block stored k-major (k steps {@code stride} floats apart from float index {@code at}, each a
     * contiguous run of {@code extent} floats across the panels) into panels of {@code width}: each k step is staged
     * with one bulk copy, and each panel's part is one array copy, zero-padded past the extent.
     */
    private static void packAlongPanels(MemorySegment src, long at, long stride, int kc, int extent, int width,
                                        float[] dst, int to, float[] stage) {
        int panels = (extent + width - 1) / width;
        if (panels == 1) { // the panel's rows straight from the source: one copy for the block where they abut
            if (extent == width && stride == width) {
                MemorySegment.copy(src, IN, at * Float.BYTES, dst, to, kc * width);
                return;
            }
            for (int p = 0; p < kc; p++) {
                MemorySegment.copy(src, IN, (at + p * stride) * Float.BYTES, dst, to + p * width, extent);
                if (extent < width) Arrays.fill(dst, to + p * width + extent, to + (p + 1) * width, 0f);
            }
            return;
        }
        for (int p = 0; p < kc; p++) {
            MemorySegment.copy(src, IN, (at + p * stride) * Float.BYTES, stage, 0, extent);
            for (int q = 0; q < panels; q++) {
                int valid = Math.min(width, extent - q * width), d = to + q * kc * width + p * width;
                System.arraycopy(stage, q * width, dst, d, valid);
                if (valid < width) Arrays.fill(dst, d + valid, d + width, 0f);
            }
        }
    }

    /**
     * Copies {@code runs} runs of {@code len} floats, {@code stride} floats apart from float index {@code at}, back to
     * back into {@code dst} from {@code d}.
     */
    private static void stageRuns(MemorySegment src, long at, long stride, int runs, int len, float[] dst, int d) {
        for (int r = 0; r < runs; r++) MemorySegment.copy(src, IN, (at + r * stride) * Float.BYTES, dst, d + r * len, len);
    }
}
