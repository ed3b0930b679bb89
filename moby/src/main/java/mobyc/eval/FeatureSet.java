package mobyc.eval;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import mobyc.data.Batches;
import mobyc.data.ImageDataset;

/**
 * One feature vector per image with its label: {@code data} is {@code [n, dim]} row-major, {@code labels} has
 * {@code n} entries. Arrays are kept as given (not copied).
 */
public record FeatureSet(int n, int dim, float[] data, int[] labels) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public FeatureSet {
        if (n < 0 || dim < 1) throw new IllegalArgumentException(n + " features of dimension " + dim);
        if ((long) n * dim != data.length)
            throw new IllegalArgumentException(data.length + " values for " + n + " features of dimension " + dim);
        if (labels.length != n) throw new IllegalArgumentException(labels.length + " labels for " + n + " features");
    }

    /** Feature {@code i} (a copy). */
    public float[] row(int i) { return Arrays.copyOfRange(data, i * dim, i * dim + dim); }

    /**
     * The images themselves as features: pixels normalised as {@link Batches} does for Fashion-MNIST
     * ({@code (x / 255 - mean) / std}), flattened to {@code C * H * W} values. The raw-pixel baseline of k-NN.
     */
    public static FeatureSet rawPixels(ImageDataset ds) {
        int dim = ds.imageBytes();
        float[] data = new float[Math.multiplyExact(ds.size(), dim)];
        Batches batches = new Batches(ds, 1024, false, false, 0);
        int at = 0;
        for (int i = 0; i < batches.batchesPerEpoch(); i++) {
            Batches.Batch b = batches.get(0, i);
            MemorySegment.copy(b.images().segment(), F32, 0, data, at, b.size() * dim);
            at += b.size() * dim;
        }
        return new FeatureSet(ds.size(), dim, data, ds.labels());
    }
}
