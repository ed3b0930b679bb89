package mobyc.data;

import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import mobyc.data.aug.Image;

/**
 * The zip format of the Swin Transformer and MoBY reference code ({@code DATA.ZIP_MODE}): images inside
 * {@code <split>.zip} and a map {@code <split>_map.txt} with one line per image, {@code <path inside the zip>}, a
 * tab, {@code <label>} (integer; further tab-separated fields are ignored). As the reference
 * ({@code cached_image_folder.make_dataset_with_ann} and {@code zipreader.ZipReader}): the map's order is the data
 * set's order, the path is looked up in the zip with leading and trailing {@code /} removed, and its extension must be
 * one of {@link #EXTENSIONS} (any case). The reference fixes 1000 classes for ImageNet; here {@code classes} is
 * given, or the largest label plus one.
 *
 * <p>The map is checked when opened: a line without a tab, a label that is not a non-negative integer (or not below
 * {@code classes}), a path with another extension, or one missing from the zip is a {@link DataException}
 * {@code <map>:<line>: <problem>}, listing every bad line. Blank lines are skipped (the reference would fail on them).
 * Images are decoded lazily by {@link #read} ({@link ImageSource#decodeRgb}); close the source to close the zip.
 */
public final class ZipMapSource implements ImageSource, AutoCloseable {
    /** The reference's {@code IMG_EXTENSIONS}, lower case. */
    public static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif");
    private static final int MAX_LISTED = 20;

    private final Path zipPath, mapPath;
    private final ZipFile zip;
    private final String[] names;
    private final int[] labels;
    private final int classes;

    private ZipMapSource(Path zipPath, Path mapPath, ZipFile zip, String[] names, int[] labels, int classes) {
        this.zipPath = zipPath;
        this.mapPath = mapPath;
        this.zip = zip;
        this.names = names;
        this.labels = labels;
        this.classes = classes;
    }

    /** The reference's files of one split: {@code root/<split>.zip} and {@code root/<split>_map.txt}; classes from the labels. */
    public static ZipMapSource open(Path root, String split) {
        return open(root.resolve(split + ".zip"), root.resolve(split + "_map.txt"), 0);
    }

    /** {@code zip} with the map {@code map}; {@code classes <= 0}: the largest label plus one. */
    public static ZipMapSource open(Path zipPath, Path mapPath, int classes) {
        List<String> lines;
        try {
            lines = readLines(mapPath);
        } catch (NoSuchFileException e) {
            throw new DataException(mapPath.toString(), "no such file", e);
        } catch (IOException e) {
            throw new DataException(mapPath.toString(), "cannot read: " + e.getMessage(), e);
        }
        ZipFile zip;
        try {
            zip = new ZipFile(zipPath.toFile(), StandardCharsets.UTF_8);
        } catch (NoSuchFileException | FileNotFoundException e) {
            throw new DataException(zipPath.toString(), "no such file", e);
        } catch (IOException e) {
            throw new DataException(zipPath.toString(), "not a readable zip file: " + e.getMessage(), e);
        }
        try {
            return parse(zipPath, mapPath, zip, lines, classes);
        } catch (RuntimeException e) {
            try {
                zip.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Lines split at \n, \r\n or \r (Python's universal newlines), UTF-8. */
    private static List<String> readLines(Path map) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(map, StandardCharsets.UTF_8)) {
            return in.lines().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static ZipMapSource parse(Path zipPath, Path mapPath, ZipFile zip, List<String> lines, int classes) {
        List<String> names = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        int errorCount = 0, max = -1;
        String zipName = zipPath.getFileName().toString();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank()) continue;
            String problem = null, name = null;
            int label = -1;
            int tab = line.indexOf('\t');
            if (tab < 0) {
                problem = "expected '<path inside the zip>\\t<label>', found no tab in '" + abbreviate(line) + "'";
            } else {
                name = strip(line.substring(0, tab), '/');
                int end = line.indexOf('\t', tab + 1);
                String labelText = line.substring(tab + 1, end < 0 ? line.length() : end).strip();
                try {
                    label = Integer.parseInt(labelText);
                } catch (NumberFormatException e) {
                    label = -1;
                    problem = "label '" + abbreviate(labelText) + "' is not an integer";
                }
                if (problem == null && label < 0) problem = "label " + label + " is negative";
                else if (problem == null && classes > 0 && label >= classes) problem = "label " + label + " is outside [0, " + classes + ")";
                else if (problem == null && name.isEmpty()) problem = "empty path";
                else if (problem == null && !EXTENSIONS.contains(extension(name)))
                    problem = "'" + abbreviate(name) + "' does not end with an image extension (" + String.join(" ", EXTENSIONS) + ")";
                else if (problem == null && zip.getEntry(name) == null) problem = "no entry '" + abbreviate(name) + "' in " + zipName;
            }
            if (problem != null) {
                if (errorCount++ < MAX_LISTED) errors.add((n + 1) + ": " + problem);
                continue;
            }
            names.add(name);
            labels.add(label);
            max = Math.max(max, label);
        }
        if (errorCount > 0) {
            // "map:3: problem", then one "map:line: problem" line per further bad line
            StringBuilder message = new StringBuilder(errors.getFirst());
            for (int k = 1; k < errors.size(); k++) message.append('\n').append(mapPath).append(':').append(errors.get(k));
            if (errorCount > errors.size()) message.append("\n... and ").append(errorCount - errors.size()).append(" more bad lines");
            int colon = message.indexOf(": ");
            throw new DataException(mapPath + ":" + message.substring(0, colon), message.substring(colon + 2));
        }
        if (names.isEmpty()) throw new DataException(mapPath.toString(), "no images listed");
        return new ZipMapSource(zipPath, mapPath, zip, names.toArray(String[]::new), labels.stream().mapToInt(Integer::intValue).toArray(),
                classes > 0 ? classes : max + 1);
    }

    /** {@code os.path.splitext(name)[1].lower()}: the last dot of the last component, not a leading one. */
    static String extension(String name) {
        String base = name.substring(name.lastIndexOf('/') + 1);
        int leadingDots = 0;
        while (leadingDots < base.length() && base.charAt(leadingDots) == '.') leadingDots++;
        int dot = base.lastIndexOf('.');
        return dot >= leadingDots ? base.substring(dot).toLowerCase(Locale.ROOT) : "";
    }

    private static String strip(String s, char c) {
        int a = 0, b = s.length();
        while (a < b && s.charAt(a) == c) a++;
        while (b > a && s.charAt(b - 1) == c) b--;
        return s.substring(a, b);
    }

    private static String abbreviate(String s) { return s.length() <= 80 ? s : s.substring(0, 77) + "..."; }

    public Path zipPath() { return zipPath; }

    public Path mapPath() { return mapPath; }

    /** The path inside the zip of image {@code i}. */
    public String entry(int i) { return names[Objects.checkIndex(i, names.length)]; }

    @Override public int size() { return names.length; }

    @Override public int label(int i) { return labels[Objects.checkIndex(i, labels.length)]; }

    @Override public int classes() { return classes; }

    @Override public int channels() { return 3; }

    @Override public String source() { return "zip " + zipPath + " + " + mapPath + " (" + names.length + " images, " + classes + " classes)"; }

    @Override
    public Image read(int i) {
        String name = entry(i), where = zipPath + "@" + name;
        byte[] bytes;
        try {
            ZipEntry e = zip.getEntry(name);
            if (e == null) throw new DataException(where, "no such entry");
            try (InputStream in = zip.getInputStream(e)) {
                bytes = in.readAllBytes();
            }
        } catch (IOException e) {
            throw new DataException(where, "cannot read from the zip: " + e.getMessage(), e);
        }
        return ImageSource.decodeRgb(where, bytes);
    }

    /** Closes the zip file; {@link #read} fails afterwards. */
    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException e) {
            throw new DataException(zipPath.toString(), "cannot close: " + e.getMessage(), e);
        }
    }

    @Override public String toString() { return source(); }
}
