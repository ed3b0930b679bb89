package mobyc.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;
import mobyc.data.aug.Image;

/**
 * torchvision's {@code ImageFolder} layout: {@code root/<class>/.../<file>}. Classes are the subdirectories of
 * {@code root} sorted by name (label = position); within a class, directories are visited in sorted order of their
 * paths (as {@code sorted(os.walk(...))}) and their files sorted by name; a file counts when its name ends (in any
 * case) with one of {@link #EXTENSIONS}. Names sort by Unicode code point, as Python sorts strings.
 *
 * <p>Files are decoded lazily by {@link #read} with javax.imageio to RGB ({@link ImageSource#decodeRgb}); grayscale
 * and palette files are converted. torchvision also lists {@code .ppm .pgm .webp}, which javax.imageio cannot
 * decode; those files are left out here (the labels of the rest are unchanged, their indices are not).
 */
public final class ImageFolder implements ImageSource {
    /** The file name endings read, lower case. */
    public static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff");

    /** Python's string order: by code point. */
    static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private final Path root;
    private final List<String> classNames;
    private final Path[] files;
    private final int[] labels;

    private ImageFolder(Path root, List<String> classNames, Path[] files, int[] labels) {
        this.root = root;
        this.classNames = classNames;
        this.files = files;
        this.labels = labels;
    }

    /** Lists the classes and image files under {@code root}; fails when it has no class folders or no images. */
    public static ImageFolder open(Path root) {
        if (!Files.isDirectory(root)) throw new DataException(root.toString(), Files.exists(root) ? "not a directory" : "no such directory");
        List<String> classNames = new ArrayList<>();
        try (Stream<Path> entries = Files.list(root)) {
            entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).forEach(classNames::add);
        } catch (IOException e) {
            throw new DataException(root.toString(), "cannot list: " + e.getMessage(), e);
        }
        classNames.sort(CODE_POINT_ORDER);
        if (classNames.isEmpty()) throw new DataException(root.toString(), "no class folders: expected root/<class>/<image>");
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int label = 0; label < classNames.size(); label++) {
            Path dir = root.resolve(classNames.get(label));
            for (Path f : imagesUnder(dir)) {
                files.add(f);
                labels.add(label);
            }
        }
        if (files.isEmpty())
            throw new DataException(root.toString(), "no images in " + classNames.size() + " class folders (looked for " + String.join(" ", EXTENSIONS) + ")");
        return new ImageFolder(root, List.copyOf(classNames), files.toArray(Path[]::new), labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The image files under one class folder in torchvision's order. */
    private static List<Path> imagesUnder(Path dir) {
        List<Path> dirs;
        try (Stream<Path> walk = Files.walk(dir, Integer.MAX_VALUE, FileVisitOption.FOLLOW_LINKS)) {
            dirs = new ArrayList<>(walk.filter(Files::isDirectory).toList());
        } catch (IOException | UncheckedIOException e) {
            throw new DataException(dir.toString(), "cannot walk: " + e.getMessage(), e);
        }
        dirs.sort(Comparator.comparing(d -> dir.relativize(d).toString().replace('\\', '/'), CODE_POINT_ORDER));
        List<Path> out = new ArrayList<>();
        for (Path d : dirs) {
            List<Path> names = new ArrayList<>();
            try (Stream<Path> list = Files.list(d)) {
                list.filter(p -> !Files.isDirectory(p) && isImageName(p.getFileName().toString())).forEach(names::add);
            } catch (IOException e) {
                throw new DataException(d.toString(), "cannot list: " + e.getMessage(), e);
            }
            names.sort(Comparator.comparing(p -> p.getFileName().toString(), CODE_POINT_ORDER));
            out.addAll(names);
        }
        return out;
    }

    /** Whether a file name ends with one of {@link #EXTENSIONS}, in any case. */
    public static boolean isImageName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (String ext : EXTENSIONS) if (lower.endsWith(ext)) return true;
        return false;
    }

    public Path root() { return root; }

    /** The class folder names; label {@code k} is {@code classNames().get(k)}. */
    public List<String> classNames() { return classNames; }

    /** The file of image {@code i}. */
    public Path path(int i) { return files[Objects.checkIndex(i, files.length)]; }

    @Override public int size() { return files.length; }

    @Override public int label(int i) { return labels[Objects.checkIndex(i, labels.length)]; }

    @Override public int classes() { return classNames.size(); }

    @Override public int channels() { return 3; }

    @Override public String source() { return "ImageFolder " + root + " (" + files.length + " images, " + classNames.size() + " classes)"; }

    @Override
    public Image read(int i) {
        Path f = path(i);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new DataException(f.toString(), "no such file", e);
        } catch (IOException e) {
            throw new DataException(f.toString(), "cannot read: " + e.getMessage(), e);
        }
        return ImageSource.decodeRgb(f.toString(), bytes);
    }

    @Override public String toString() { return source(); }
}
