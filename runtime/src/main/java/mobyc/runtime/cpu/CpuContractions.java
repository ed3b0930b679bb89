package mobyc.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import mobyc.compiler.ir.Op;
import mobyc.runtime.Tensor;

/**
 * Float matmul and conv2d (with its two gradient ops) on a {@link Gemm}. Batched matmul calls sgemm once per
 * output matrix at the operands' (broadcast) offsets, or once for all of them when the right operand is shared
 * and the left one is a dense stack ([B, M, K] @ [K, N] is one [B*M, K] @ [K, N]). conv2d lowers each image to
 * columns (im2col) and multiplies by the weight; its input gradient multiplies by the transposed weight and folds
 * the columns back (col2im); its weight gradient accumulates gy @ columns^T over the batch.
 */
final class CpuContractions {
    private CpuContractions() {}

    /** A matmul's inputs: the operands, then the addend and the activation's inputs where it has them. */
    static void matmul(Gemm gemm, Op.MatMul op, Tensor[] in, Tensor out) { matmul(gemm, op, in, out, null); }

    /**
     * A matmul with, for a GELU product, its {@code derivative} (a dgelu product of the same operands, of the output's
     * shape; null for none) written from the same GEMM: GELU's derivative of each element before GELU replaces it.
     */
    static void matmul(Gemm gemm, Op.MatMul op, Tensor[] in, Tensor out, Tensor derivative) {
        int extra = op.activation().extraInputs();
        matmul(gemm, op, in[0], in[1], in.length > 2 + extra ? in[2] : null, Arrays.copyOfRange(in, in.length - extra, in.length), out, derivative);
    }

    /**
     * [..., M, K] @ [..., K, N]: the batch axes broadcast against each other; either operand may be stored transposed.
     * The activation is the GEMM's epilogue: GELU (and its derivative into {@code derivative}, when not null); GELU's
     * derivative; the product times the gate; the product times GELU's derivative of the gate; plus the residual;
     * times the sample's scale, plus the residual ({@code extras}: the gate, the residual, or the scale and the
     * residual; a gate or residual has the output's layout, so an element of C and its own share an index).
     */
    static void matmul(Gemm gemm, Op.MatMul op, Tensor a, Tensor b, Tensor addend, Tensor[] extras, Tensor out, Tensor derivative) {
        if (derivative != null && (op.activation() != Op.Activation.GELU || !Arrays.equals(derivative.shape(), out.shape())))
            throw new IllegalArgumentException("a derivative beside " + op + " of shape " + Arrays.toString(derivative.shape()));
        long[] as = a.shape(), bs = b.shape(), os = out.shape();
        int ra = as.length, rb = bs.length, ro = os.length;
        boolean ta = op.transA(), tb = op.transB();
        int m = (int) (ta ? as[ra - 1] : as[ra - 2]), k = (int) (ta ? as[ra - 2] : as[ra - 1]), n = (int) (tb ? bs[rb - 2] : bs[rb - 1]);
        int lda = ta ? m : k, ldb = tb ? k : n;
        long batches = Shapes.numel(Arrays.copyOf(os, ro - 2));
        MemorySegment am = a.segment(), bm = b.segment(), om = out.segment();
        if (out.numel() == 0) return;
        // The epilogue: a bias row (the addend varies along N only) is added by the GEMM as it stores C; any other
        // addend is written into C first, and the product added to it (beta = 1).
        MemorySegment bias = addend != null && isRow(addend.shape(), n) ? addend.segment() : null;
        if (addend != null && bias == null) CpuMovement.expand(addend, out);
        float beta = addend != null ? 1f : 0f;
        Gemm.Epilogue then = switch (op.activation()) {
            case NONE -> null;
            case GELU -> {
                if (derivative == null) yield CpuMath::geluBlock;
                MemorySegment ds = derivative.segment();
                yield (c, corner, rows, cols, ldc) -> CpuMath.geluWithDerivativeBlock(c, ds, corner, rows, cols, ldc);
            }
            case DGELU -> CpuMath::dgeluBlock;
            case GATE -> {
                MemorySegment gs = extras[0].segment();
                yield (c, corner, rows, cols, ldc) -> CpuElementwise.mulBlock(c, gs, corner, rows, cols, ldc);
            }
            case DGELU_GATE -> {
                MemorySegment gs = extras[0].segment();
                yield (c, corner, rows, cols, ldc) -> CpuMath.mulDgeluBlock(c, gs, corner, rows, cols, ldc);
            }
            case RESIDUAL -> {
                MemorySegment rs = extras[0].segment();
                yield (c, corner, rows, cols, ldc) -> CpuElementwise.addBlock(c, rs, corner, rows, cols, ldc);
            }
            case SCALED_RESIDUAL -> {
                Tensor scale = extras[0];
                MemorySegment rs = extras[1].segment();
                long perSample = scale.numel() == 1 ? Long.MAX_VALUE : out.numel() / scale.numel(); // floats of C a sample's scale covers
                yield (c, corner, rows, cols, ldc) -> CpuElementwise.scaleAddBlock(c, scale.segment(), perSample, rs, corner, rows, cols, ldc);
            }
        };
        if (k == 0) {
            if (bias != null) CpuMovement.expand(addend, out);
            else if (addend == null) Simd.fill(om, 0, out.numel(), 0);
            if (then != null) then.apply(om, 0, Math.toIntExact(out.numel() / n), n, n);
            return;
        }
        if (!ta && b.numel() == (long) k * n && a.numel() == batches * m * k) { // shared right operand: one tall product
            product(gemm, false, tb, Math.toIntExact(batches * m), n, k, am, 0, k, bm, 0, ldb, bias, beta, then, om, 0);
            return;
        }
        long[] batch = Arrays.copyOf(os, ro - 2);
        long[] aBatch = batchStrides(as, batch), bBatch = batchStrides(bs, batch);
        Parallel.forItems(batches, (long) m * n * k, (from, to) -> {
            Odometer ao = new Odometer(batch, aBatch), bo = new Odometer(batch, bBatch);
            long aOff = ao.seek(from), bOff = bo.seek(from);
            for (long p = from; p < to; p++, aOff = ao.next(), bOff = bo.next())
                product(gemm, ta, tb, m, n, k, am, aOff, lda, bm, bOff, ldb, bias, beta, then, om, p * m * n);
        });
    }

    /**
     * A weight's gradient {@code out = a^T b} (a [k, m], b [k, n], rank 2, no epilogue) and the sums of a over its rows
     * into {@code sums} (m floats): its bias's gradient, from the same reads of a ({@link Gemm#sgemmColumnSums}).
     */
    static void matmulWithSums(Gemm gemm, Op.MatMul op, Tensor a, Tensor b, Tensor out, MemorySegment sums) {
        long[] as = a.shape(), bs = b.shape();
        if (!op.transA() || op.transB() || op.activation() != Op.Activation.NONE || as.length != 2 || bs.length != 2 || as[0] != bs[0])
            throw new IllegalArgumentException("column sums beside " + op + " of " + Arrays.toString(as) + " and " + Arrays.toString(bs));
        int k = Math.toIntExact(as[0]), m = Math.toIntExact(as[1]), n = Math.toIntExact(bs[1]);
        gemm.sgemmColumnSums(m, n, k, a.segment(), 0, m, b.segment(), 0, n, out.segment(), 0, n, sums, 0);
    }

    /** One product into C (leading dimension n): with the bias row added, or C = product + beta C; then the epilogue. */
    private static void product(Gemm gemm, boolean ta, boolean tb, int m, int n, int k, MemorySegment a, long aOff, int lda,
                                MemorySegment b, long bOff, int ldb, MemorySegment bias, float beta, Gemm.Epilogue then,
                                MemorySegment c, long cOff) {
        if (then != null) gemm.sgemmThen(ta, tb, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, bias, 0, beta, c, cOff, n, then);
        else if (bias != null) gemm.sgemmBias(ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, bias, 0, c, cOff, n);
        else gemm.sgemm(ta, tb, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, n);
    }

    /** Whether an addend of this shape is one row of n values broadcast over everything else. */
    private static boolean isRow(long[] shape, int n) {
        if (shape.length == 0 || shape[shape.length - 1] != n) return false;
        for (int i = 0; i < shape.length - 1; i++) if (shape[i] != 1) return false;
        return true;
    }

    /** The strides with which the output's batch index walks an operand's matrices (0 on broadcast axes). */
    private static long[] batchStrides(long[] shape, long[] batch) {
        int r = shape.length;
        long[] own = Arrays.copyOf(shape, r - 2), strides = Shapes.broadcastStrides(own, batch);
        long matrix = shape[r - 2] * shape[r - 1];
        for (int i = 0; i < strides.length; i++) strides[i] *= matrix;
        return strides;
    }

    /** The geometry of a convolution: x [N, C, H, W], weight [O, C, KH, KW], y [N, O, OH, OW]. */
    private record Conv(int batch, int channels, int h, int w, int outChannels, int kh, int kw, int oh, int ow,
                        int sh, int sw, int ph, int pw) {
        static Conv of(long[] x, long[] weight, long[] y, int sh, int sw, int ph, int pw) {
            return new Conv((int) x[0], (int) x[1], (int) x[2], (int) x[3], (int) weight[0], (int) weight[2], (int) weight[3],
                    (int) y[2], (int) y[3], sh, sw, ph, pw);
        }

        /** Rows of the column matrix: C * KH * KW. */
        int patch() { return channels * kh * kw; }

        /** Columns of the column matrix: OH * OW. */
        int pixels() { return oh * ow; }

        long image() { return (long) channels * h * w; }
    }

    static void conv2d(Gemm gemm, Workspace ws, Op.Conv2d op, Tensor x, Tensor weight, Tensor out) {
        Conv c = Conv.of(x.shape(), weight.shape(), out.shape(), op.strideH(), op.strideW(), op.padH(), op.padW());
        MemorySegment xs = x.segment(), wm = weight.segment(), os = out.segment();
        if (out.numel() == 0) return;
        if (c.patch() == 0) {
            Simd.fill(os, 0, out.numel(), 0);
            return;
        }
        // Images in parallel (a patch embedding's products are too small to split), each through its thread's columns.
        Parallel.forItems(c.batch, (long) c.outChannels * c.pixels() * c.patch(), (from, to) -> {
            MemorySegment col = columns((long) c.patch() * c.pixels());
            for (int n = (int) from; n < to; n++) {
                im2col(c, xs, n * c.image(), col);
                gemm.sgemm(false, false, c.outChannels, c.pixels(), c.patch(), 1f, wm, 0, c.patch(), col, 0, c.pixels(),
                        0f, os, (long) n * c.outChannels * c.pixels(), c.pixels());
            }
        });
    }

    private static final ThreadLocal<MemorySegment[]> COLUMNS = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    /** This thread's column matrix of at least {@code floats} floats (contents left by its previous use). */
    private static MemorySegment columns(long floats) {
        MemorySegment[] holder = COLUMNS.get();
        if (holder[0].byteSize() < floats * Float.BYTES) holder[0] = java.lang.foreign.Arena.ofAuto().allocate(Math.max(floats, 16) * Float.BYTES, 64);
        return holder[0];
    }

    /** Groups of images the weight gradient sums separately, then in group order: from the batch alone. */
    static final int WEIGHT_GRAD_GROUPS = 16;

    /** gx = col2im(weight^T @ gy[n]) for each image n. */
    static void conv2dInputGrad(Gemm gemm, Workspace ws, Op.Conv2dInputGrad op, Tensor gy, Tensor weight, Tensor out) {
        Conv c = Conv.of(out.shape(), weight.shape(), gy.shape(), op.strideH(), op.strideW(), op.padH(), op.padW());
        MemorySegment gs = gy.segment(), wm = weight.segment(), os = out.segment();
        Simd.fill(os, 0, out.numel(), 0);
        if (out.numel() == 0 || c.patch() == 0 || c.pixels() == 0 || c.outChannels == 0) return;
        MemorySegment col = ws.floats((long) c.patch() * c.pixels());
        for (int n = 0; n < c.batch; n++) {
            gemm.sgemm(true, false, c.patch(), c.pixels(), c.outChannels, 1f, wm, 0, c.patch(),
                    gs, (long) n * c.outChannels * c.pixels(), c.pixels(), 0f, col, 0, c.pixels());
            col2im(c, col, os, n * c.image());
        }
    }

    /** gw = sum over images of gy[n] @ columns(x[n])^T. */
    static void conv2dWeightGrad(Gemm gemm, Workspace ws, Op.Conv2dWeightGrad op, Tensor x, Tensor gy, Tensor out) {
        Conv c = Conv.of(x.shape(), out.shape(), gy.shape(), op.strideH(), op.strideW(), op.padH(), op.padW());
        MemorySegment xs = x.segment(), gs = gy.segment(), os = out.segment();
        if (out.numel() == 0) return;
        if (c.batch == 0 || c.pixels() == 0) {
            Simd.fill(os, 0, out.numel(), 0);
            return;
        }
        // Fixed groups of images (by the batch alone, so the sums do not depend on the thread count), in parallel, each
        // summing its images' products into its own partial; then the partials added in group order.
        int groups = Math.min(c.batch, WEIGHT_GRAD_GROUPS);
        long cells = (long) c.outChannels * c.patch();
        MemorySegment partial = ws.floats(groups * cells);
        Parallel.forItems(groups, (long) Parallel.ceilDiv(c.batch, groups) * c.outChannels * c.pixels() * c.patch(), (from, to) -> {
            MemorySegment col = columns((long) c.patch() * c.pixels());
            for (int g = (int) from; g < to; g++)
                for (int n = c.batch * g / groups, end = c.batch * (g + 1) / groups, first = n; n < end; n++) {
                    im2col(c, xs, n * c.image(), col);
                    gemm.sgemm(false, true, c.outChannels, c.patch(), c.pixels(), 1f, gs, (long) n * c.outChannels * c.pixels(), c.pixels(),
                            col, 0, c.pixels(), n == first ? 0f : 1f, partial, g * cells, c.patch());
                }
        });
        MemorySegment.copy(partial, 0, os, 0, cells * Float.BYTES);
        for (int g = 1; g < groups; g++)
            for (long e = 0; e < cells; e++) Simd.set(os, e, Simd.get(os, e) + Simd.get(partial, g * cells + e));
    }

    /** col[(ch*KH + i)*KW + j, y*OW + z] = x[ch, y*sh - ph + i, z*sw - pw + j], zero outside the image. */
    private static void im2col(Conv c, MemorySegment x, long image, MemorySegment col) {
        int pixels = c.pixels();
        Parallel.forItems(c.patch(), pixels, (from, to) -> {
            for (long row = from; row < to; row++) {
                int j = (int) (row % c.kw), i = (int) (row / c.kw % c.kh), ch = (int) (row / ((long) c.kw * c.kh));
                long dst = row * pixels, plane = image + (long) ch * c.h * c.w;
                for (int y = 0; y < c.oh; y++) {
                    int r = y * c.sh - c.ph + i;
                    long at = dst + (long) y * c.ow;
                    if (r < 0 || r >= c.h) {
                        Simd.fill(col, at, c.ow, 0);
                        continue;
                    }
                    long src = plane + (long) r * c.w;
                    if (c.sw == 1) {
                        int z0 = Math.clamp(c.pw - j, 0, c.ow), z1 = Math.clamp(c.w + c.pw - j, z0, c.ow); // columns inside the image
                        Simd.fill(col, at, z0, 0);
                        Simd.copy(x, src + z0 - c.pw + j, col, at + z0, z1 - z0);
                        Simd.fill(col, at + z1, c.ow - z1, 0);
                    } else {
                        for (int z = 0; z < c.ow; z++) {
                            int s = z * c.sw - c.pw + j;
                            Simd.setBits(col, at + z, s < 0 || s >= c.w ? 0 : Simd.bits(x, src + s));
                        }
                    }
                }
            }
        });
    }

    /** The adjoint of im2col: every column entry added back to the pixel it came from; parallel over channels. */
    private static void col2im(Conv c, MemorySegment col, MemorySegment gx, long image) {
        int pixels = c.pixels();
        Parallel.forItems(c.channels, (long) c.kh * c.kw * pixels, (from, to) -> {
            for (long ch = from; ch < to; ch++) {
                long plane = image + ch * c.h * c.w;
                for (int i = 0; i < c.kh; i++)
                    for (int j = 0; j < c.kw; j++) {
                        long src = ((ch * c.kh + i) * c.kw + j) * pixels;
                        for (int y = 0; y < c.oh; y++) {
                            int r = y * c.sh - c.ph + i;
                            if (r < 0 || r >= c.h) continue;
                            long at = src + (long) y * c.ow, dst = plane + (long) r * c.w;
                            for (int z = 0; z < c.ow; z++) {
                                int s = z * c.sw - c.pw + j;
                                if (s < 0 || s >= c.w) continue;
                                Simd.set(gx, dst + s, Simd.get(gx, dst + s) + Simd.get(col, at + z));
                            }
                        }
                    }
            }
        });
    }
}
