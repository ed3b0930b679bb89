package mobyc.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import mobyc.data.aug.Image;

/**
 * Labelled images read one at a time: an in-memory {@link ImageDataset}, an {@link ImageFolder} of files, a
 * {@link ZipMapSource} (the reference's {@code train.zip} + {@code train_map.txt}). {@link #read} decodes image
 * {@code i} to {@code float [C, H, W]} in {@code [0, 1]} with its own height and width, always with
 * {@link #channels()} channels. Implementations must allow {@code read} from several threads at once.
 */
public interface ImageSource {
    /** The number of images. */
    int size();

    /** The label of image {@code i}, in {@code [0, classes())}. */
    int label(int i);

    /** The number of classes. */
    int classes();

    /** The channels of every image {@link #read} returns: 3 (RGB) or 1 (grayscale). */
    int channels();

    /** Where the images come from, for a log line. */
    String source();

    /**
     * Image {@code i}, decoded. An unreadable, truncated or undecodable file is a {@link DataException} whose message
     * starts with the file; {@code i} outside {@code [0, size())} an {@link IndexOutOfBoundsException}.
     */
    Image read(int i);

    /**
     * Decodes an encoded image (whatever javax.imageio reads: JPEG, PNG, BMP, GIF, TIFF) to RGB as Pillow's
     * {@code convert('RGB')}: grayscale samples go to all three channels, a palette is looked up, alpha is dropped,
     * and RGB samples are taken as stored (no colour management, as Pillow). Values are {@code byte / 255}
     * (16-bit samples: {@code v / 65535}). Fails with a {@link DataException} naming {@code name} when nothing can
     * decode the bytes, the data is corrupt, or a JPEG is truncated (libjpeg's "premature end" warning, which Pillow
     * would pad over in grey).
     */
    static Image decodeRgb(String name, byte[] bytes) {
        BufferedImage img;
        List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new DataException(name, "not an image (no decoder recognises its " + bytes.length + " bytes)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((source, message) -> warnings.add(message));
                img = reader.read(0, reader.getDefaultReadParam());
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            throw new DataException(name, "cannot decode: " + e.getMessage(), e);
        }
        for (String w : warnings) {
            String lower = w.toLowerCase(Locale.ROOT);
            if (lower.contains("premature end") || lower.contains("truncated") || lower.contains("missing eoi"))
                throw new DataException(name, "truncated image: " + w);
        }
        return toRgb(img);
    }

    /** The pixels of {@code img} as RGB {@code [3, H, W]} in [0, 1] (see {@link #decodeRgb}). */
    static Image toRgb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight(), n = w * h;
        float[] d = new float[3 * n];
        ColorModel cm = img.getColorModel();
        int space = cm.getColorSpace().getType();
        Raster raster = img.getRaster();
        int[] row = new int[w];
        if (!(cm instanceof IndexColorModel) && (space == ColorSpace.TYPE_GRAY || space == ColorSpace.TYPE_RGB)) {
            int bands = space == ColorSpace.TYPE_GRAY ? 1 : 3;
            for (int c = 0; c < 3; c++) {
                int band = bands == 1 ? 0 : c, bits = cm.getComponentSize(band);
                float max = (float) ((1L << bits) - 1);
                for (int y = 0; y < h; y++) {
                    raster.getSamples(0, y, w, 1, band, row);
                    int at = c * n + y * w;
                    if (bits == 8) for (int x = 0; x < w; x++) d[at + x] = row[x] / 255f;
                    else if (bits < 8) for (int x = 0; x < w; x++) d[at + x] = Math.round(row[x] * 255f / max) / 255f;
                    else for (int x = 0; x < w; x++) d[at + x] = row[x] / max;
                }
            }
        } else {
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0, p = y * w; x < w; x++, p++) {
                    int argb = row[x];
                    d[p] = ((argb >> 16) & 0xFF) / 255f;
                    d[n + p] = ((argb >> 8) & 0xFF) / 255f;
                    d[2 * n + p] = (argb & 0xFF) / 255f;
                }
            }
        }
        return new Image(3, h, w, d);
    }
}
