package mobyc.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Philox;
import mobyc.runtime.Tensor;

/**
 * Deterministic mini-batches of an {@link ImageDataset}: images as {@code f32 [B, C, H, W]} normalised as
 * {@code (x / 255 - mean) / std}, labels as {@code i32 [B]}.
 *
 * <p>Epoch {@code e} visits the images in one order: the identity without shuffling, otherwise a permutation made
 * by Fisher-Yates driven by {@link Philox} (key {@code seed}, step {@code e}, stream {@link #SHUFFLE_STREAM},
 * element {@code i} for the swap at position {@code i}). Batch {@code index} of epoch {@code e} is positions
 * {@code [index * batch, index * batch + batch)} of that order, so {@code (seed, epoch, index)} alone determines a
 * batch: a resumed run sees the same data in the same order without stored state. With {@code dropLast} a final
 * partial batch is skipped; without it the last batch may be smaller.
 *
 * <p>{@link #get} fills tensors allocated once per instance (one pair for full batches, one for a smaller last
 * batch): <b>a returned {@link Batch} is valid until the next {@code get} call</b>; {@link Batch#copy()} keeps one.
 * {@code get} is for one thread at a time; a {@link Prefetcher} fills its own buffers on its own thread.
 */
public final class Batches {
    /** Fashion-MNIST's pixel mean and standard deviation (of x / 255 over the training set). */
    public static final float FASHION_MNIST_MEAN = 0.2860f, FASHION_MNIST_STD = 0.3530f;
    /** The Philox stream of data-order shuffles: "SHUF". */
    public static final long SHUFFLE_STREAM = 0x5348_5546L;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One mini-batch: {@code images} {@code f32 [B, C, H, W]}, {@code labels} {@code i32 [B]}, and the positions of
     * its images in the data set. Its memory is reused by the next call that filled it.
     */
    public record Batch(Tensor images, Tensor labels, int[] indices) {
        /** The number of images, {@code B}. */
        public int size() { return indices.length; }

        /** A copy that stays valid whatever happens to this batch's buffers. */
        public Batch copy() { return new Batch(images.copy(), labels.copy(), indices.clone()); }
    }

    private final ImageDataset ds;
    private final int batch;
    private final boolean shuffle, dropLast;
    private final long seed;
    private final int batchesPerEpoch;
    /** Per channel, the normalised value of each byte value. */
    private final float[][] table;
    private final Buffers own = new Buffers();
    private volatile EpochOrder lastOrder;

    private record EpochOrder(long epoch, int[] order) {}

    /** Batches normalised with Fashion-MNIST's mean and std ({@link #FASHION_MNIST_MEAN}, {@link #FASHION_MNIST_STD}). */
    public Batches(ImageDataset ds, int batch, boolean shuffle, boolean dropLast, long seed) {
        this(ds, batch, shuffle, dropLast, seed, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
    }

    /** Batches normalised with one mean and std for every channel. */
    public Batches(ImageDataset ds, int batch, boolean shuffle, boolean dropLast, long seed, float mean, float std) {
        this(ds, batch, shuffle, dropLast, seed, new float[] {mean}, new float[] {std});
    }

    /** Batches normalised per channel: {@code mean} and {@code std} hold one value, or one per channel. */
    public Batches(ImageDataset ds, int batch, boolean shuffle, boolean dropLast, long seed, float[] mean, float[] std) {
        this.ds = Objects.requireNonNull(ds, "ds");
        if (batch < 1) throw new IllegalArgumentException("batch size " + batch + " must be at least 1");
        int c = ds.channels();
        if ((mean.length != 1 && mean.length != c) || (std.length != 1 && std.length != c))
            throw new IllegalArgumentException("mean and std need 1 or " + c + " values, not " + mean.length + " and " + std.length);
        this.batch = batch;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.batchesPerEpoch = dropLast ? ds.size() / batch : (ds.size() + batch - 1) / batch;
        this.table = new float[c][256];
        for (int ch = 0; ch < c; ch++) {
            float m = mean[mean.length == 1 ? 0 : ch], s = std[std.length == 1 ? 0 : ch];
            if (!(s > 0) || !Float.isFinite(s) || !Float.isFinite(m))
                throw new IllegalArgumentException("channel " + ch + ": mean " + m + " and std " + s + " must be finite, std positive");
            for (int v = 0; v < 256; v++) table[ch][v] = (v / 255f - m) / s;
        }
    }

    public ImageDataset dataset() { return ds; }

    /** The size of a full batch. */
    public int batchSize() { return batch; }

    public boolean shuffles() { return shuffle; }

    public boolean dropsLast() { return dropLast; }

    public long seed() { return seed; }

    public int batchesPerEpoch() { return batchesPerEpoch; }

    /** The number of images in batch {@code index}: the batch size, or fewer for the last one without dropLast. */
    public int sizeOf(int index) {
        Objects.checkIndex(index, batchesPerEpoch);
        return Math.min(batch, ds.size() - index * batch);
    }

    /** The order in which epoch {@code epoch} visits the data set: a permutation of {@code [0, N)} (a copy). */
    public int[] order(long epoch) { return orderOf(epoch).clone(); }

    /** Batch {@code index} of epoch {@code epoch}, in this instance's buffers: valid until the next {@code get}. */
    public Batch get(long epoch, int index) { return fill(epoch, index, own); }

    /** The batch of global step {@code step}: epoch {@code step / batchesPerEpoch()}, index {@code step % batchesPerEpoch()}. */
    public Batch atStep(long step) {
        if (step < 0) throw new IllegalArgumentException("negative step " + step);
        if (batchesPerEpoch == 0) throw new IllegalStateException("no batches: " + ds.size() + " images, batch " + batch + ", dropLast");
        return get(step / batchesPerEpoch, (int) (step % batchesPerEpoch));
    }

    /** Fills batch {@code index} of {@code epoch} into {@code into}; safe on any thread as long as {@code into} is its own. */
    Batch fill(long epoch, int index, Buffers into) {
        int b = sizeOf(index), start = index * batch;
        int[] order = orderOf(epoch);
        Batch out = into.batch(b == batch, b, ds);
        int[] indices = out.indices();
        System.arraycopy(order, start, indices, 0, b);
        byte[] pixels = ds.pixelArray();
        int perImage = ds.imageBytes(), plane = ds.height() * ds.width();
        float[] scratch = into.scratch(perImage);
        MemorySegment images = out.images().segment();
        for (int k = 0; k < b; k++) {
            int at = ds.offsetOf(indices[k]);
            for (int ch = 0; ch < table.length; ch++) {
                float[] t = table[ch];
                for (int p = ch * plane, end = p + plane; p < end; p++) scratch[p] = t[pixels[at + p] & 0xFF];
            }
            MemorySegment.copy(scratch, 0, images, F32, (long) k * perImage * Tensor.ELEMENT_BYTES, perImage);
            out.labels().setInt(k, ds.label(indices[k]));
        }
        return out;
    }

    private int[] orderOf(long epoch) {
        EpochOrder last = lastOrder;
        if (last != null && last.epoch == epoch) return last.order;
        int[] order = shuffle ? permutation(seed, epoch, ds.size()) : identity(ds.size());
        lastOrder = new EpochOrder(epoch, order);
        return order;
    }

    /**
     * Fisher-Yates over {@code [0, n)}: for {@code i} from {@code n - 1} down to 1, swap position {@code i} with
     * {@code j} uniform in {@code [0, i]}, taken from 64 bits of Philox block (seed, epoch, SHUFFLE_STREAM, i) by
     * Lemire's multiply-high (bias under {@code n / 2^64}).
     */
    static int[] permutation(long seed, long epoch, int n) {
        int[] order = identity(n);
        for (int i = n - 1; i > 0; i--) {
            int[] block = Philox.block(seed, epoch, SHUFFLE_STREAM, i);
            long bits = ((long) block[0] << 32) | (block[1] & 0xFFFF_FFFFL);
            int j = (int) Math.unsignedMultiplyHigh(bits, i + 1L);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        return order;
    }

    /** Output tensors for one batch at a time: a pair for full batches and one for a smaller last batch, made on first use. */
    static final class Buffers {
        private Batch full, tail;
        private float[] scratch;

        Batch batch(boolean isFull, int b, ImageDataset ds) {
            if (isFull) return full != null ? full : (full = allocate(b, ds));
            return tail != null && tail.size() == b ? tail : (tail = allocate(b, ds));
        }

        float[] scratch(int n) { return scratch != null ? scratch : (scratch = new float[n]); }

        private static Batch allocate(int b, ImageDataset ds) {
            return new Batch(Tensor.zeros(DType.F32, b, ds.channels(), ds.height(), ds.width()), Tensor.zeros(DType.I32, b), new int[b]);
        }
    }
}
