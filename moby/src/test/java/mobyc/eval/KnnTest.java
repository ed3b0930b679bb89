package mobyc.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import mobyc.runtime.Tensor;
import mobyc.runtime.cpu.Gemm;
import mobyc.runtime.cpu.Gemms;
import mobyc.runtime.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Weighted k-NN against PyTorch goldens of DINO's knn_classifier (tests/golden/make_knn_goldens.py), with the fast
 * sgemm and its scalar twin, and the tie rules on constructed cases.
 */
class KnnTest {
    static final List<String> CASES = List.of("base", "k3", "sparse_votes", "chunks");

    record Golden(FeatureSet train, FeatureSet test, int k, double temperature, int classes, double top1, double top5,
                  int[] neighbours, float[] similarities, float[] scores, int[] predictions, int[] top5Hit) {}

    static Golden golden(String name) throws IOException, URISyntaxException {
        Path dir = Path.of(KnnTest.class.getResource("/knn/" + name + "/case.json").toURI()).getParent();
        JsonNode c = new ObjectMapper().readTree(dir.resolve("case.json").toFile());
        return new Golden(features(dir, "train"), features(dir, "test"), c.get("k").asInt(), c.get("temperature").asDouble(),
                c.get("classes").asInt(), c.get("top1").asDouble(), c.get("top5").asDouble(), ints(dir, "neighbours"),
                floats(dir, "similarities"), floats(dir, "scores"), ints(dir, "predictions"), ints(dir, "top5_hit"));
    }

    private static FeatureSet features(Path dir, String split) throws IOException {
        Tensor x = Npy.read(dir.resolve(split + "_x.npy"));
        return new FeatureSet((int) x.dim(0), (int) x.dim(1), x.toFloatArray(), ints(dir, split + "_y"));
    }

    private static int[] ints(Path dir, String name) throws IOException { return Npy.read(dir.resolve(name + ".npy")).toIntArray(); }

    private static float[] floats(Path dir, String name) throws IOException { return Npy.read(dir.resolve(name + ".npy")).toFloatArray(); }

    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar", "best"})
    void matchesDinoGoldens(String gemmName) throws Exception {
        Gemm gemm = gemmName.equals("best") ? Gemms.best() : Gemms.named(gemmName);
        for (String name : CASES) {
            Golden g = golden(name);
            Knn.Result r = Knn.classify(g.train(), g.test(), g.classes(), g.k(), g.temperature(), gemm);
            String what = name + " with " + gemm.name();
            assertArrayEquals(g.predictions(), r.predictions(), what + ": predicted classes");
            for (int i = 0; i < g.top5Hit().length; i++) assertEquals(g.top5Hit()[i] == 1, r.top5Hits()[i], what + ": top-5 of test row " + i);
            assertEquals(g.top1(), r.top1(), 1e-9, what);
            assertEquals(g.top5(), r.top5(), 1e-9, what);
            assertEquals(g.test().n(), r.images());
            assertNeighbours(g, r, what);
        }
    }

    /** Same neighbours with the same similarities; two may trade places only where their similarities nearly tie. */
    private static void assertNeighbours(Golden g, Knn.Result r, String what) {
        int k = g.k();
        for (int i = 0; i < g.test().n(); i++) {
            Set<Integer> want = new HashSet<>(), got = new HashSet<>();
            for (int j = 0; j < k; j++) {
                int at = i * k + j;
                want.add(g.neighbours()[at]);
                got.add(r.neighbours()[at]);
                assertEquals(g.similarities()[at], r.similarities()[at], 2e-6, what + ": similarity " + j + " of row " + i);
                if (g.neighbours()[at] != r.neighbours()[at]) {
                    boolean nearTie = (j > 0 && g.similarities()[at - 1] - g.similarities()[at] < 1e-5)
                            || (j + 1 < k && g.similarities()[at] - g.similarities()[at + 1] < 1e-5);
                    assertTrue(nearTie, what + ": neighbour " + j + " of row " + i + " is " + r.neighbours()[at] + ", PyTorch's " + g.neighbours()[at]);
                }
            }
            assertEquals(want, got, what + ": neighbours of row " + i);
        }
    }

    @Test
    void votesMatchDinoScores() throws Exception {
        for (String name : CASES) {
            Golden g = golden(name);
            int k = g.k(), c = g.classes();
            for (int i = 0; i < g.test().n(); i++) {
                double[] scores = new double[c];
                Knn.addVotes(g.train().labels(), g.neighbours(), g.similarities(), i * k, k, g.temperature(), scores);
                for (int j = 0; j < c; j++) {
                    float want = g.scores()[i * c + j];
                    assertEquals(want, scores[j], 1e-5 * Math.max(1, Math.abs(want)), name + ": score of class " + j + " for row " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 13, 25, 207, 4098})
    void chunksOfAnySizeGiveTheSameResult(int rows) throws Exception {
        Golden g = golden("chunks");
        long bytes = (long) rows * g.train().n() * Tensor.ELEMENT_BYTES;
        Knn.Result whole = Knn.classify(g.train(), g.test(), g.classes(), g.k(), g.temperature(), Gemms.scalar());
        Knn.Result chunked = Knn.classify(g.train(), g.test(), g.classes(), g.k(), g.temperature(), Gemms.scalar(), bytes);
        assertArrayEquals(whole.neighbours(), chunked.neighbours());
        assertArrayEquals(whole.similarities(), chunked.similarities());
        assertArrayEquals(whole.predictions(), chunked.predictions());
        assertArrayEquals(g.predictions(), chunked.predictions());
    }

    /** The k best of a row against a full sort by (value descending, index ascending), with many equal values. */
    @ParameterizedTest
    @ValueSource(ints = {1, 13, 25, 207, 4098})
    void nearestIsTheTopOfAFullSort(int n) {
        Random rnd = new Random(n);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(Math.max(2, n / 8)) / 7f - 3f; // few distinct values: ties everywhere
        MemorySegment s = Tensor.of(v, n).segment();
        for (int k : new int[] {1, 2, 5, 20, n}) {
            if (k > n) continue;
            int[] idx = new int[k + 3];
            float[] val = new float[k + 3];
            Knn.nearest(s, 0, n, k, idx, val, 3);
            Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -v[i]).thenComparingInt(i -> i));
            for (int j = 0; j < k; j++) {
                assertEquals(order[j], idx[3 + j], "n=" + n + " k=" + k + " position " + j);
                assertEquals(v[order[j]], val[3 + j]);
            }
        }
    }

    @Test
    void tiesGoToTheLowerIndex() {
        // train: four copies of the same direction with labels 2, 0, 1, 1 and one opposite; k = 2 picks indices 0 and 1
        float[] train = {1, 0, 2, 0, 3, 0, 4, 0, -1, 0};
        FeatureSet tr = new FeatureSet(5, 2, train, new int[] {2, 0, 1, 1, 0});
        FeatureSet te = new FeatureSet(2, 2, new float[] {5, 0, 0, 0}, new int[] {0, 1});
        Knn.Result r = Knn.classify(tr, te, 4, 2, 0.07, Gemms.scalar());
        assertArrayEquals(new int[] {0, 1}, Arrays.copyOfRange(r.neighbours(), 0, 2));
        // equal weights for classes 2 and 0: class 0 (lower index) is predicted, and is right
        assertEquals(0, r.predictions()[0]);
        // a zero test feature is similar to nothing (all 0): the first k training images, in order
        assertArrayEquals(new int[] {0, 1}, Arrays.copyOfRange(r.neighbours(), 2, 4));
        assertEquals(0f, r.similarities()[2]);
        assertEquals(50.0, r.top1(), 1e-12);
        // top-5 means top-min(5, k) = top-2: classes ranked 0, 2 (votes), then 1, 3 (none): label 1 is out
        assertTrue(r.top5Hits()[0]);
        assertEquals(false, r.top5Hits()[1]);
    }

    @Test
    void classesWithoutVotesRankByIndex() {
        // one neighbour (k = 1) of class 4; with 7 classes the top 5 is 4, 0, 1, 2, 3
        FeatureSet tr = new FeatureSet(1, 1, new float[] {1}, new int[] {4});
        int[] labels = {4, 0, 3, 5, 6};
        FeatureSet te = new FeatureSet(5, 1, new float[] {1, 1, 1, 1, 1}, labels);
        Knn.Result r = Knn.classify(tr, te, 7, 1, 0.07, Gemms.scalar());
        assertArrayEquals(new int[] {4, 4, 4, 4, 4}, r.predictions());
        // k = 1: top-5 is top-1
        assertEquals(20.0, r.top5(), 1e-12);
        FeatureSet tr5 = new FeatureSet(5, 1, new float[] {1, 1, 1, 1, 1}, new int[] {4, 4, 4, 4, 4});
        Knn.Result r5 = Knn.classify(tr5, te, 7, 5, 0.07, Gemms.scalar());
        boolean[] want = {true, true, true, false, false};
        for (int i = 0; i < want.length; i++) assertEquals(want[i], r5.top5Hits()[i], "label " + labels[i]);
    }

    @Test
    void rejectsWhatCannotBeClassified() {
        FeatureSet tr = new FeatureSet(3, 2, new float[] {1, 0, 0, 1, 1, 1}, new int[] {0, 1, 1});
        FeatureSet te = new FeatureSet(1, 2, new float[] {1, 2}, new int[] {1});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Knn.classify(tr, te, 2, 4, 0.07)).getMessage().contains("k=4"));
        assertThrows(IllegalArgumentException.class, () -> Knn.classify(tr, te, 2, 0, 0.07));
        assertThrows(IllegalArgumentException.class, () -> Knn.classify(tr, te, 2, 1, 0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Knn.classify(tr, te, 1, 1, 0.07)).getMessage().contains("label 1"));
        FeatureSet wide = new FeatureSet(1, 3, new float[] {1, 2, 3}, new int[] {0});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Knn.classify(tr, wide, 2, 1, 0.07)).getMessage().contains("dimension"));
        FeatureSet nan = new FeatureSet(1, 2, new float[] {Float.NaN, 2}, new int[] {0});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Knn.classify(tr, nan, 2, 1, 0.07)).getMessage().contains("not finite"));
        assertThrows(IllegalArgumentException.class, () -> new FeatureSet(2, 2, new float[3], new int[2]));
        Knn.Result none = Knn.classify(tr, new FeatureSet(0, 2, new float[0], new int[0]), 2, 1, 0.07);
        assertEquals(0, none.images());
    }
}
