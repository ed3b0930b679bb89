package mobyc.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import mobyc.runtime.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A PNG of a run's metrics.jsonl: on top the training loss against the step (every logged value, pale, and its
 * trailing moving average over {@link #window} points, bold); below, every accuracy series (fields named
 * {@code *_top1}: {@code test_top1}, {@code knn_top1}, ...) against the step, in percent, on the same step axis.
 * A chart without data (no accuracy yet) is left out.
 *
 * <p>Lines that are blank, not JSON (a line cut by a crash), not an object, or without a numeric {@code step} are
 * skipped and counted; a field that is not a finite number (a NaN loss) is left out of its series. Series of more
 * than {@link #MAX_POINTS} points are thinned by an even stride for drawing (the average is computed on all of
 * them). The file is written atomically; nothing needs a display ({@code java.awt.headless} is set).
 */
public final class Plot {
    public static final int WIDTH = 900, HEIGHT = 360;
    static final int MAX_POINTS = 4000;
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private Plot() {}

    /** What was read: {@code lines} in all, {@code skipped} unusable, loss points, and the accuracy series' names. */
    public record Summary(int lines, int skipped, int lossPoints, List<String> accuracySeries) {}

    /** The series read from a metrics file: x (step) and y per name, in file order. */
    record Series(int lines, int skipped, Points loss, Map<String, Points> accuracy) {}

    record Points(List<Double> x, List<Double> y) {
        Points() { this(new ArrayList<>(), new ArrayList<>()); }

        void add(double step, double value) {
            x.add(step);
            y.add(value);
        }

        int size() { return x.size(); }
    }

    /** Writes the charts of {@code metrics} to {@code png}, each chart {@link #WIDTH} x {@link #HEIGHT} pixels. */
    public static Summary write(Path metrics, Path png) throws IOException { return write(metrics, png, WIDTH, HEIGHT); }

    /**
     * Writes the charts of {@code metrics} to {@code png}, stacked, each {@code width x height} pixels. Fails with
     * IllegalArgumentException when the file has nothing to plot (no loss and no accuracy).
     */
    public static Summary write(Path metrics, Path png, int width, int height) throws IOException {
        Series s = read(metrics);
        if (s.loss().size() == 0 && s.accuracy().isEmpty())
            throw new IllegalArgumentException(metrics + ": nothing to plot (" + s.lines() + " lines, " + s.skipped() + " skipped)");
        List<XYChart> charts = new ArrayList<>();
        if (s.loss().size() > 0) charts.add(lossChart(s.loss(), width, height));
        if (!s.accuracy().isEmpty()) charts.add(accuracyChart(s.accuracy(), width, height));
        // one step axis for both charts, so that an evaluation lines up with the loss at its step; the small margin
        // past the last step also keeps XChart from placing ticks at odd data steps (0, 91, 182, ...)
        double first = Double.POSITIVE_INFINITY, last = Double.NEGATIVE_INFINITY;
        for (Points p : allSeries(s)) for (double x : p.x()) {
            first = Math.min(first, x);
            last = Math.max(last, x);
        }
        for (XYChart c : charts) {
            c.getStyler().setXAxisMin(first);
            c.getStyler().setXAxisMax(last + Math.max(1, 0.03 * (last - first)));
        }
        AtomicFiles.write(png, ch -> {
            OutputStream out = Channels.newOutputStream(ch);
            BitmapEncoder.saveBitmap(charts, charts.size(), 1, out, BitmapEncoder.BitmapFormat.PNG);
            out.flush();
        });
        return new Summary(s.lines(), s.skipped(), s.loss().size(), List.copyOf(s.accuracy().keySet()));
    }

    /** Reads the loss and the {@code *_top1} series of a metrics file, skipping and counting unusable lines. */
    static Series read(Path metrics) throws IOException {
        Points loss = new Points();
        Map<String, Points> accuracy = new TreeMap<>();
        int lines = 0, skipped = 0;
        try (BufferedReader r = Files.newBufferedReader(metrics, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                lines++;
                JsonNode n;
                try {
                    n = line.isBlank() ? null : JSON.readTree(line);
                } catch (IOException e) {
                    n = null;
                }
                if (n == null || !n.isObject() || !n.path("step").isNumber()) {
                    skipped++;
                    continue;
                }
                double step = n.get("step").asDouble();
                if (finite(n.get("loss"))) loss.add(step, n.get("loss").asDouble());
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    if (f.getKey().endsWith("_top1") && finite(f.getValue()))
                        accuracy.computeIfAbsent(f.getKey(), k -> new Points()).add(step, f.getValue().asDouble());
                }
            }
        }
        return new Series(lines, skipped, loss, accuracy);
    }

    private static List<Points> allSeries(Series s) {
        List<Points> all = new ArrayList<>(s.accuracy().values());
        all.add(s.loss());
        return all;
    }

    private static boolean finite(JsonNode v) { return v != null && v.isNumber() && Double.isFinite(v.asDouble()); }

    /** The moving-average window for {@code n} points: a fiftieth of them, at least 1, at most 1000. */
    static int window(int n) { return Math.clamp(n / 50, 1, 1000); }

    /** The trailing moving average: element i is the mean of elements {@code max(0, i - w + 1)} to {@code i}. */
    static double[] movingAverage(List<Double> y, int w) {
        double[] out = new double[y.size()];
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            sum += y.get(i);
            if (i >= w) sum -= y.get(i - w);
            out[i] = sum / Math.min(i + 1, w);
        }
        return out;
    }

    private static XYChart lossChart(Points loss, int width, int height) {
        XYChart c = chart("Training loss", "loss", width, height);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE); // a falling curve leaves the top right free
        int w = window(loss.size());
        double[] x = thin(toArray(loss.x()));
        XYSeries raw = c.addSeries("loss", x, thin(toArray(loss.y())));
        raw.setMarker(SeriesMarkers.NONE);
        if (w == 1) { // too few points to smooth: the raw curve, bold
            raw.setLineColor(new Color(20, 60, 160));
            raw.setLineStyle(new BasicStroke(2.5f));
            return c;
        }
        raw.setLineColor(new Color(120, 160, 220));
        raw.setLineStyle(new BasicStroke(1f));
        XYSeries smooth = c.addSeries("moving average of " + w, x, thin(movingAverage(loss.y(), w)));
        smooth.setMarker(SeriesMarkers.NONE);
        smooth.setLineColor(new Color(20, 60, 160));
        smooth.setLineStyle(new BasicStroke(2.5f));
        return c;
    }

    private static XYChart accuracyChart(Map<String, Points> accuracy, int width, int height) {
        XYChart c = chart("Accuracy", "top-1 (%)", width, height);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE); // a rising curve leaves the bottom right free
        accuracy.forEach((name, p) -> {
            XYSeries s = c.addSeries(name, thin(toArray(p.x())), thin(toArray(p.y())));
            s.setMarker(p.size() > 200 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
            s.setLineStyle(new BasicStroke(2f));
        });
        return c;
    }

    private static XYChart chart(String title, String yTitle, int width, int height) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle("step").yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setxAxisTickLabelsFormattingFunction(x -> String.format(Locale.ROOT, "%.0f", x)); // steps: no grouping commas
        c.getStyler().setPlotGridLinesVisible(true);
        c.getStyler().setAntiAlias(true);
        return c;
    }

    private static double[] toArray(List<Double> xs) { return xs.stream().mapToDouble(Double::doubleValue).toArray(); }

    /** At most {@link #MAX_POINTS} of {@code a}: every stride-th, and always the last. */
    static double[] thin(double[] a) {
        if (a.length <= MAX_POINTS) return a;
        int stride = (a.length + MAX_POINTS - 2) / (MAX_POINTS - 1);
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < a.length; i += stride) out.add(a[i]);
        if ((a.length - 1) % stride != 0) out.add(a[a.length - 1]);
        return toArray(out);
    }
}
