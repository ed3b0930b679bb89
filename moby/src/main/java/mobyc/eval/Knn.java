package mobyc.eval;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.IntStream;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import mobyc.runtime.cpu.CpuPool;
import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Gemms;

/**
 * Weighted k-nearest-neighbour classification of features, as {@code knn_classifier} of DINO's
 * {@code eval_knn.py} (facebookresearch/dino), the k-NN monitor of self-supervised training:
 *
 * <ol>
 *   <li>train and test features are L2-normalised, {@code x / max(|x|, 1e-12)}, so cosine similarity is a dot
 *       product;</li>
 *   <li>for each test feature, the {@code k} training features of highest similarity {@code s} (k = 20 by
 *       default) each give their class the weight {@code exp(s / T)} (T = 0.07 by default);</li>
 *   <li>classes are ranked by their summed weight: top-1 is right when the first is the label, top-5 when the
 *       label is among the first {@code min(5, k)}.</li>
 * </ol>
 *
 * <p>Similarities are computed a chunk of test rows at a time (about {@value #CHUNK_BYTES} bytes of them) with the
 * runtime's sgemm; each row's k best are selected with a bounded heap in one pass (no sort of the row), rows in
 * parallel on {@link CpuPool}.
 *
 * <p>Ties, which DINO leaves to {@code torch.topk} and an unstable sort: of equal similarities the lower training
 * index is the nearer neighbour; of equal class scores (in practice, classes without a vote) the lower class index
 * ranks first, as a stable descending sort would. The result is deterministic and independent of the thread count.
 * Scores are summed in double precision (DINO: float32), neighbours in order of decreasing similarity.
 */
public final class Knn {
    public static final int DEFAULT_K = 20;
    public static final double DEFAULT_TEMPERATURE = 0.07;
    /** The memory of similarities computed at once; bounds the memory, not the result. */
    static final long CHUNK_BYTES = 64L << 20;
    private static final float NORM_EPS = 1e-12f;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Knn() {}

    /**
     * The outcome over {@code images} test features: {@code top1} and {@code top5} in percent; per test row
     * {@code i}, its predicted class {@code predictions[i]}, whether its label is in the top 5 {@code top5Hits[i]},
     * and its neighbours {@code neighbours[i * k + j]} (training indices, most similar first) with their cosine
     * similarities {@code similarities[i * k + j]}.
     */
    public record Result(int images, int train, int k, double temperature, double top1, double top5, int[] predictions,
                         boolean[] top5Hits, int[] neighbours, float[] similarities) {}

    /** Classifies {@code test} by its neighbours in {@code train}, with the sgemm {@link Gemms#best()}. */
    public static Result classify(FeatureSet train, FeatureSet test, int classes, int k, double temperature) {
        return classify(train, test, classes, k, temperature, Gemms.best());
    }

    /**
     * Classifies {@code test} by its neighbours in {@code train}; labels lie in {@code [0, classes)}. Fails with
     * IllegalArgumentException when the dimensions differ, {@code k} exceeds the training features, a label is out
     * of range or a feature is not finite (NaN or infinite: a model that diverged).
     */
    public static Result classify(FeatureSet train, FeatureSet test, int classes, int k, double temperature, Gemm gemm) {
        return classify(train, test, classes, k, temperature, gemm, CHUNK_BYTES);
    }

    /** As above, computing about {@code chunkBytes} of similarities at a time (at least one row). */
    static Result classify(FeatureSet train, FeatureSet test, int classes, int k, double temperature, Gemm gemm, long chunkBytes) {
        if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
        if (!(temperature > 0) || !Double.isFinite(temperature))
            throw new IllegalArgumentException("the temperature must be positive and finite, got " + temperature);
        if (train.dim() != test.dim())
            throw new IllegalArgumentException("train features have dimension " + train.dim() + ", test features " + test.dim());
        if (k > train.n())
            throw new IllegalArgumentException("k=" + k + " needs at least " + k + " training features; there are " + train.n());
        checkLabels(train, classes, "train");
        checkLabels(test, classes, "test");
        int n = train.n(), m = test.n(), d = train.dim();
        MemorySegment a = normalised(train, "train"), b = normalised(test, "test");
        int chunk = (int) Math.max(1, Math.min(m, chunkBytes / ((long) Tensor.ELEMENT_BYTES * n)));
        MemorySegment sim = m == 0 ? null : Tensor.zeros(DType.F32, chunk, n).segment();
        int[] trainLabels = train.labels(), testLabels = test.labels(), predictions = new int[m], neighbours = new int[m * k];
        boolean[] top5Hits = new boolean[m];
        float[] similarities = new float[m * k];
        int top5Of = Math.min(5, k);
        for (int start = 0; start < m; start += chunk) {
            int rows = Math.min(chunk, m - start), first = start;
            gemm.sgemm(false, true, rows, n, d, 1f, b, (long) start * d, d, a, 0, d, 0f, sim, 0, n);
            CpuPool.pool().submit(() -> IntStream.range(0, rows).parallel().forEach(r -> {
                int row = first + r;
                nearest(sim, (long) r * n, n, k, neighbours, similarities, row * k);
                double[] scores = new double[classes];
                addVotes(trainLabels, neighbours, similarities, row * k, k, temperature, scores);
                int label = testLabels[row], above = 0, best = 0;
                for (int c = 0; c < classes; c++) {
                    if (scores[c] > scores[label] || (scores[c] == scores[label] && c < label)) above++;
                    if (scores[c] > scores[best]) best = c;
                }
                predictions[row] = best;
                top5Hits[row] = above < top5Of;
            })).join();
        }
        int hit1 = 0, hit5 = 0;
        for (int i = 0; i < m; i++) {
            if (predictions[i] == testLabels[i]) hit1++;
            if (top5Hits[i]) hit5++;
        }
        return new Result(m, n, k, temperature, m == 0 ? 0 : 100.0 * hit1 / m, m == 0 ? 0 : 100.0 * hit5 / m, predictions, top5Hits,
                neighbours, similarities);
    }

    /**
     * Adds the votes of neighbours {@code [at, at + k)} to {@code scores}: each adds {@code exp(similarity / T)} to its
     * training label's class.
     */
    static void addVotes(int[] trainLabels, int[] neighbours, float[] similarities, int at, int k, double temperature,
            double[] scores) {
        for (int j = at; j < at + k; j++) scores[trainLabels[neighbours[j]]] += Math.exp(similarities[j] / temperature);
    }

    /**
     * The {@code k} largest of the {@code n} floats at {@code base} (element index) of {@code s}, by decreasing value
     * and, among equal values, increasing index: written to {@code idx} and {@code val} from {@code at}. One pass with
     * a heap of the k best so far whose root is the worst of them; a later element enters only when strictly greater,
     * since on equality the earlier index wins.
     */
    static void nearest(MemorySegment s, long base, int n, int k, int[] idx, float[] val, int at) {
        float[] hv = new float[k];
        int[] hi = new int[k];
        for (int j = 0; j < k; j++) {
            hv[j] = s.getAtIndex(F32, base + j);
            hi[j] = j;
            siftUp(hv, hi, j);
        }
        for (int j = k; j < n; j++) {
            float v = s.getAtIndex(F32, base + j);
            if (v > hv[0]) {
                hv[0] = v;
                hi[0] = j;
                siftDown(hv, hi, k);
            }
        }
        // order the k by decreasing value, then increasing index (insertion sort: k is small)
        for (int i = 1; i < k; i++) {
            float v = hv[i];
            int x = hi[i], j = i - 1;
            while (j >= 0 && (hv[j] < v || (hv[j] == v && hi[j] > x))) {
                hv[j + 1] = hv[j];
                hi[j + 1] = hi[j];
                j--;
            }
            hv[j + 1] = v;
            hi[j + 1] = x;
        }
        System.arraycopy(hv, 0, val, at, k);
        System.arraycopy(hi, 0, idx, at, k);
    }

    /** Whether entry {@code a} of the heap is a worse neighbour than entry {@code b}. */
    private static boolean worse(float[] hv, int[] hi, int a, int b) {
        return hv[a] < hv[b] || (hv[a] == hv[b] && hi[a] > hi[b]);
    }

    private static void siftUp(float[] hv, int[] hi, int p) {
        while (p > 0) {
            int parent = (p - 1) >>> 1;
            if (!worse(hv, hi, p, parent)) return;
            swap(hv, hi, p, parent);
            p = parent;
        }
    }

    private static void siftDown(float[] hv, int[] hi, int size) {
        int p = 0;
        while (true) {
            int c = 2 * p + 1;
            if (c >= size) return;
            if (c + 1 < size && worse(hv, hi, c + 1, c)) c++;
            if (!worse(hv, hi, c, p)) return;
            swap(hv, hi, p, c);
            p = c;
        }
    }

    private static void swap(float[] hv, int[] hi, int a, int b) {
        float v = hv[a];
        hv[a] = hv[b];
        hv[b] = v;
        int i = hi[a];
        hi[a] = hi[b];
        hi[b] = i;
    }

    /** The features L2-normalised as torch.nn.functional.normalize does, off-heap for the sgemm. */
    private static MemorySegment normalised(FeatureSet f, String which) {
        int n = f.n(), d = f.dim();
        float[] x = f.data();
        MemorySegment out = Tensor.zeros(DType.F32, Math.max(n, 1), d).segment();
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = i * d; j < i * d + d; j++) sum += (double) x[j] * x[j];
            if (!Double.isFinite(sum))
                throw new IllegalArgumentException(which + " feature " + i + " is not finite (NaN or infinite): did the model diverge?");
            float norm = Math.max((float) Math.sqrt(sum), NORM_EPS);
            for (int j = i * d; j < i * d + d; j++) out.setAtIndex(F32, j, x[j] / norm);
        }
        return out;
    }

    private static void checkLabels(FeatureSet f, int classes, String which) {
        if (classes < 1) throw new IllegalArgumentException("classes must be at least 1, got " + classes);
        int[] labels = f.labels();
        for (int i = 0; i < labels.length; i++)
            if (labels[i] < 0 || labels[i] >= classes)
                throw new IllegalArgumentException(which + " label " + labels[i] + " of feature " + i + " is outside [0, " + classes + ")");
    }
}
