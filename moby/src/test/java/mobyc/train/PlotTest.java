package mobyc.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training plot: a PNG of the loss and the accuracies of a metrics.jsonl, unusable lines skipped and counted. */
class PlotTest {
    @TempDir Path tmp;

    @Test
    void writesLossAndAccuracyCharts() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int step = 0; step < 300; step++) {
            lines.add(String.format(Locale.ROOT, "{\"step\": %d, \"epoch\": %d, \"loss\": %.4f, \"lr\": 0.001, \"grad_norm\": 1.0}",
                    step, step / 100, 2.3 * Math.exp(-step / 150.0) + 0.1 * Math.sin(step)));
            if (step % 100 == 99) {
                lines.add("{\"step\": " + step + ", \"epoch\": " + step / 100 + ", \"test_top1\": " + (40 + step / 10) + ", \"test_top5\": 90}");
                lines.add("{\"step\": " + step + ", \"knn_top1\": " + (30 + step / 12) + ", \"knn_top5\": 80}");
            }
        }
        lines.add(17, "{\"step\": 17, \"loss\": \"NaN\"}"); // a NaN loss as Jackson writes it: left out, the line is fine
        lines.add(40, "");                                 // blank
        lines.add(41, "{\"step\": 4");                     // cut by a crash
        lines.add(42, "[1, 2]");                           // not an object
        lines.add(43, "{\"loss\": 1.0}");                  // no step
        lines.add("garbage");
        Path metrics = tmp.resolve("metrics.jsonl"), png = tmp.resolve("plot.png");
        Files.write(metrics, lines);
        Plot.Summary s = Plot.write(metrics, png);
        assertEquals(lines.size(), s.lines());
        assertEquals(5, s.skipped());
        assertEquals(300, s.lossPoints());
        assertEquals(List.of("knn_top1", "test_top1"), s.accuracySeries());
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "not a readable image");
        assertEquals(Plot.WIDTH, img.getWidth());
        assertEquals(2 * Plot.HEIGHT, img.getHeight());
        try (var files = Files.list(tmp)) {
            assertEquals(List.of("metrics.jsonl", "plot.png"), files.map(p -> p.getFileName().toString()).sorted().toList(), "a temporary file was left");
        }
    }

    @Test
    void lossOnlyGivesOneChartAndNothingToPlotIsAnError() throws IOException {
        Path metrics = tmp.resolve("m.jsonl"), png = tmp.resolve("p.png");
        Files.write(metrics, List.of("{\"step\": 0, \"loss\": 2.0}", "{\"step\": 1, \"loss\": 1.5}"));
        Plot.Summary s = Plot.write(metrics, png, 400, 300);
        assertEquals(0, s.skipped());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(400, img.getWidth());
        assertEquals(300, img.getHeight());
        Files.write(metrics, List.of("nonsense", "{\"step\": 3, \"lr\": 0.1}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Plot.write(metrics, png));
        assertTrue(e.getMessage().contains("nothing to plot (2 lines, 1 skipped)"), e::getMessage);
    }

    @Test
    void movingAverageAndThinning() {
        assertArrayEquals(new double[] {1, 1.5, 2.5, 3.5}, Plot.movingAverage(List.of(1.0, 2.0, 3.0, 4.0), 2), 1e-12);
        assertEquals(1, Plot.window(10));
        assertEquals(20, Plot.window(1000));
        double[] many = new double[10_001];
        for (int i = 0; i < many.length; i++) many[i] = i;
        double[] thin = Plot.thin(many);
        assertTrue(thin.length <= Plot.MAX_POINTS, "" + thin.length);
        assertEquals(0, thin[0]);
        assertEquals(10_000, thin[thin.length - 1]);
    }
}
