package mobyc.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import mobyc.data.aug.Image;

/**
 * Labelled images of one size kept compactly in memory: unsigned bytes, {@code [N, C, H, W]} row-major (a
 * {@code [N, H, W]} source has {@code C = 1}), and one int label per image in {@code [0, classes)}. Immutable;
 * {@link #subset} shares the arrays.
 */
public final class ImageDataset implements ImageSource {
    /** Fashion-MNIST's class names, by label. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Where Debian's dataset-fashion-mnist package installs the files. */
    public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    /** The classpath folder of the sample embedded in the jar: the first 5000 training and 1000 test images. */
    public static final String SAMPLE_RESOURCE = "/mobyc/data/fashion-mnist-sample/";

    private final byte[] pixels;
    private final int[] labels;
    private final int first, size, channels, height, width, classes;
    private final String source;

    private ImageDataset(byte[] pixels, int[] labels, int first, int size, int channels, int height, int width, int classes,
            String source) {
        this.pixels = pixels;
        this.labels = labels;
        this.first = first;
        this.size = size;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.classes = classes;
        this.source = source;
    }

    /**
     * A data set over {@code pixels} ({@code u8 [N, C, H, W]}, shared, not copied) and {@code labels} (copied);
     * every label must lie in {@code [0, classes)}. {@code source} says where the data came from.
     */
    public static ImageDataset of(byte[] pixels, int[] labels, int channels, int height, int width, int classes, String source) {
        if (channels < 1 || height < 1 || width < 1)
            throw new IllegalArgumentException("image size " + channels + "x" + height + "x" + width + " must be positive");
        long imageBytes = (long) channels * height * width;
        if ((long) labels.length * imageBytes != pixels.length)
            throw new IllegalArgumentException(labels.length + " labels for " + pixels.length + " bytes of " + channels + "x"
                    + height + "x" + width + " images");
        checkLabels(source, labels, classes);
        return new ImageDataset(pixels, labels.clone(), 0, labels.length, channels, height, width, classes, source);
    }

    /**
     * Reads an images file ({@code u8 [N, rows, cols]} or {@code [N, C, rows, cols]}) and a labels file
     * ({@code u8 [N]}) in IDX format, plain or gzip; the class count is the largest label plus one.
     */
    public static ImageDataset idx(Path images, Path labels) {
        return fromIdx(Idx.readImages(images), images.toString(), Idx.readLabels(labels), labels.toString(), -1,
                "IDX " + images + " + " + labels);
    }

    /**
     * Fashion-MNIST's "train" (60000 images) or "test" (10000) split, 28x28, 10 classes, read from the first of:
     * {@code dir} when not null (which must hold the files); Debian's {@link #DEBIAN_FASHION_MNIST} when it holds
     * them; the sample embedded in the jar ({@link #fashionMnistSample}). {@link #source()} says which.
     */
    public static ImageDataset fashionMnist(Path dirOrNull, String split) {
        return fashionMnist(dirOrNull, split, DEBIAN_FASHION_MNIST);
    }

    static ImageDataset fashionMnist(Path dirOrNull, String split, Path systemDir) {
        String prefix = filePrefix(split);
        if (dirOrNull != null) {
            SplitFiles files = SplitFiles.find(dirOrNull, prefix);
            if (files == null)
                throw new DataException(dirOrNull.toString(), "no Fashion-MNIST " + split + " files: looked for "
                        + String.join(", ", SplitFiles.candidates(prefix, "images-idx3")) + " and "
                        + String.join(", ", SplitFiles.candidates(prefix, "labels-idx1")));
            return fashionMnist(files, split, dirOrNull);
        }
        SplitFiles files = Files.isDirectory(systemDir) ? SplitFiles.find(systemDir, prefix) : null;
        return files != null ? fashionMnist(files, split, systemDir) : fashionMnistSample(split);
    }

    /** Fashion-MNIST's sample embedded in the jar: the first 5000 "train" or the first 1000 "test" images. */
    public static ImageDataset fashionMnistSample(String split) {
        String prefix = filePrefix(split);
        String imagesName = SAMPLE_RESOURCE + prefix + "-images-idx3-ubyte.gz";
        String labelsName = SAMPLE_RESOURCE + prefix + "-labels-idx1-ubyte.gz";
        Idx.Data images, labels;
        try (InputStream in = resource(imagesName)) {
            images = Idx.readImages("classpath:" + imagesName, in);
        } catch (IOException e) {
            throw new DataException("classpath:" + imagesName, "cannot read: " + e.getMessage(), e);
        }
        try (InputStream in = resource(labelsName)) {
            labels = Idx.readLabels("classpath:" + labelsName, in);
        } catch (IOException e) {
            throw new DataException("classpath:" + labelsName, "cannot read: " + e.getMessage(), e);
        }
        int full = prefix.equals("train") ? 60000 : 10000;
        return fromIdx(images, "classpath:" + imagesName, labels, "classpath:" + labelsName, FASHION_MNIST_CLASSES.size(),
                "Fashion-MNIST " + split + ": the sample embedded in the jar (" + images.count() + " of " + full + " images)");
    }

    private static InputStream resource(String name) {
        InputStream in = ImageDataset.class.getResourceAsStream(name);
        if (in == null) throw new DataException("classpath:" + name, "missing from the jar");
        return in;
    }

    private static ImageDataset fashionMnist(SplitFiles files, String split, Path dir) {
        ImageDataset ds = fromIdx(Idx.readImages(files.images), files.images.toString(), Idx.readLabels(files.labels),
                files.labels.toString(), FASHION_MNIST_CLASSES.size(), "");
        return ds.withSource("Fashion-MNIST " + split + " from " + dir + " (" + ds.size + " images)");
    }

    private ImageDataset withSource(String newSource) {
        return new ImageDataset(pixels, labels, first, size, channels, height, width, classes, newSource);
    }

    /** "train" or "test" (also "t10k") to the file name prefix. */
    private static String filePrefix(String split) {
        return switch (split) {
            case "train" -> "train";
            case "test", "t10k" -> "t10k";
            default -> throw new IllegalArgumentException("unknown Fashion-MNIST split '" + split + "': use train or test");
        };
    }

    /** The images and labels files of one split in a directory, under the names they are published with. */
    private record SplitFiles(Path images, Path labels) {
        static List<String> candidates(String prefix, String kind) {
            String dotted = kind.replace("-idx", ".idx"); // Kaggle's copies: train-images.idx3-ubyte
            return List.of(prefix + "-" + kind + "-ubyte.gz", prefix + "-" + kind + "-ubyte", prefix + "-" + dotted + "-ubyte");
        }

        static SplitFiles find(Path dir, String prefix) {
            Path images = first(dir, candidates(prefix, "images-idx3")), labels = first(dir, candidates(prefix, "labels-idx1"));
            return images != null && labels != null ? new SplitFiles(images, labels) : null;
        }

        private static Path first(Path dir, List<String> names) {
            for (String name : names) if (Files.isRegularFile(dir.resolve(name))) return dir.resolve(name);
            return null;
        }
    }

    /** Joins images and labels read from IDX; {@code classes < 0}: the largest label plus one. */
    private static ImageDataset fromIdx(Idx.Data images, String imagesName, Idx.Data labels, String labelsName, int classes,
            String source) {
        int[] dims = images.dims();
        if (labels.count() != images.count())
            throw new DataException(imagesName, "count mismatch: " + images.count() + " images, but " + labelsName + " has "
                    + labels.count() + " labels");
        int channels = dims.length == 4 ? dims[1] : 1, height = dims[dims.length - 2], width = dims[dims.length - 1];
        if (height == 0 || width == 0 || channels == 0)
            throw new DataException(imagesName, "empty images: dimensions " + Arrays.toString(dims));
        int[] ints = new int[labels.count()];
        int max = -1;
        for (int i = 0; i < ints.length; i++) max = Math.max(max, ints[i] = labels.bytes()[i] & 0xFF);
        checkLabels(labelsName, ints, classes < 0 ? max + 1 : classes);
        return new ImageDataset(images.bytes(), ints, 0, ints.length, channels, height, width, classes < 0 ? max + 1 : classes,
                source);
    }

    private static void checkLabels(String source, int[] labels, int classes) {
        for (int i = 0; i < labels.length; i++)
            if (labels[i] < 0 || labels[i] >= classes)
                throw new DataException(source, "label " + labels[i] + " of image " + i + " is outside [0, " + classes + ")");
    }

    /** Images {@code from} (inclusive) to {@code to} (exclusive) of this set, sharing its memory. */
    public ImageDataset subset(int from, int to) {
        if (from < 0 || to > size || from > to)
            throw new IndexOutOfBoundsException("subset [" + from + ", " + to + ") of " + size + " images");
        return new ImageDataset(pixels, labels, first + from, to - from, channels, height, width, classes,
                source + " [" + from + ", " + to + ")");
    }

    /** The number of images. */
    public int size() { return size; }

    public int channels() { return channels; }

    public int height() { return height; }

    public int width() { return width; }

    /** Bytes per image: {@code C * H * W}. */
    public int imageBytes() { return channels * height * width; }

    /** The number of classes; labels lie in {@code [0, classes)}. */
    public int classes() { return classes; }

    /** Where the data came from, for a log line. */
    public String source() { return source; }

    /** The label of image {@code i}. */
    public int label(int i) { return labels[first + Objects.checkIndex(i, size)]; }

    /** All labels, in order (a copy). */
    public int[] labels() { return Arrays.copyOfRange(labels, first, first + size); }

    /** Pixel {@code p} (flat within the image, {@code [C, H, W]} order) of image {@code i}, 0 to 255. */
    public int pixel(int i, int p) {
        return pixels[(first + Objects.checkIndex(i, size)) * imageBytes() + Objects.checkIndex(p, imageBytes())] & 0xFF;
    }

    /** The bytes of image {@code i}, {@code [C, H, W]} (a copy). */
    public byte[] image(int i) {
        int n = imageBytes(), at = (first + Objects.checkIndex(i, size)) * n;
        return Arrays.copyOfRange(pixels, at, at + n);
    }

    /** Image {@code i} as {@code float [C, H, W]}, each byte {@code v} as {@code v / 255} (an {@link ImageSource}). */
    @Override
    public Image read(int i) { return Image.ofBytes(channels, height, width, pixels, (first + Objects.checkIndex(i, size)) * imageBytes()); }

    /** The backing array and where image {@code i} starts in it, for readers in this package that must not copy. */
    byte[] pixelArray() { return pixels; }

    int offsetOf(int i) { return (first + i) * imageBytes(); }

    /** The number of images of each class. */
    public int[] classCounts() {
        int[] counts = new int[classes];
        for (int i = first; i < first + size; i++) counts[labels[i]]++;
        return counts;
    }

    @Override public String toString() {
        return size + " images " + channels + "x" + height + "x" + width + ", " + classes + " classes (" + source + ")";
    }
}
