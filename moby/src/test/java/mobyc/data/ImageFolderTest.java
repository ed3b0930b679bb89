package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import mobyc.data.aug.Image;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir Path root;

    /** An RGB image whose pixel (x, y) is (10x + 3, 7y + 1, 100 + x + y) mod 256. */
    static BufferedImage rgb(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img.setRGB(x, y, ((10 * x + 3) & 0xFF) << 16 | ((7 * y + 1) & 0xFF) << 8 | ((100 + x + y) & 0xFF));
        return img;
    }

    static BufferedImage noise(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        return img;
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out), "no " + format + " writer");
        return out.toByteArray();
    }

    static void write(Path file, BufferedImage img, String format) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, encode(img, format));
    }

    /** A JPEG cut to 60% of its bytes. */
    static byte[] truncatedJpeg() throws IOException {
        byte[] full = encode(noise(64, 48, 1), "jpg");
        return Arrays.copyOf(full, full.length * 6 / 10);
    }

    static float px(Image img, int c, int y, int x) { return img.get(c, y, x) * 255f; }

    private void layout() throws IOException {
        for (String dir : List.of("ant", "cat", "dog")) Files.createDirectories(root.resolve(dir));
        write(root.resolve("ant/a.png"), rgb(5, 4), "png");
        BufferedImage gray = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 2; y++) for (int x = 0; x < 3; x++) gray.getRaster().setSample(x, y, 0, 40 * x + 90 * y + 5);
        write(root.resolve("ant/b.PNG"), gray, "png");
        write(root.resolve("ant/nested/c.png"), rgb(2, 2), "png");
        write(root.resolve("ant/z.jpg"), flat(16, 16, 0x3080C0), "jpg");
        write(root.resolve("cat/x.jpeg"), rgb(8, 6), "jpg");
        Files.writeString(root.resolve("cat/notes.txt"), "not an image");
        Files.writeString(root.resolve("cat/broken.png"), "this is text, not a PNG");
        Files.write(root.resolve("dog/trunc.jpg"), truncatedJpeg());
        write(root.resolve("dog/good.bmp"), rgb(4, 3), "bmp");
        Files.writeString(root.resolve("readme.txt"), "a file beside the class folders");
    }

    static BufferedImage flat(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        return img;
    }

    @Test
    void listsClassesAndFilesInTorchvisionOrder() throws IOException {
        layout();
        ImageFolder f = ImageFolder.open(root);
        assertEquals(List.of("ant", "cat", "dog"), f.classNames());
        assertEquals(3, f.classes());
        List<String> files = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) files.add(root.relativize(f.path(i)).toString().replace('\\', '/') + ":" + f.label(i));
        // the files of a folder first, then its subfolders (sorted(os.walk)); notes.txt and readme.txt are not images
        assertEquals(List.of("ant/a.png:0", "ant/b.PNG:0", "ant/z.jpg:0", "ant/nested/c.png:0", "cat/broken.png:1", "cat/x.jpeg:1",
                "dog/good.bmp:2", "dog/trunc.jpg:2"), files);
        assertEquals(3, f.channels());
        assertTrue(f.source().contains("8 images, 3 classes"), f.source());
    }

    @Test
    void decodesPngExactlyGrayToThreeChannelsAndJpegClosely() throws IOException {
        layout();
        ImageFolder f = ImageFolder.open(root);
        Image a = f.read(0);
        assertEquals("3x4x5", a.sizeString());
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++) {
                assertEquals(10 * x + 3, px(a, 0, y, x), 1e-3);
                assertEquals(7 * y + 1, px(a, 1, y, x), 1e-3);
                assertEquals(100 + x + y, px(a, 2, y, x), 1e-3);
            }
        Image b = f.read(1); // grayscale PNG: the stored values in all channels, no gamma conversion
        assertEquals("3x2x3", b.sizeString());
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 2; y++) for (int x = 0; x < 3; x++) assertEquals(40 * x + 90 * y + 5, px(b, c, y, x), 1e-3);
        Image z = f.read(2); // a flat JPEG: close to its colour
        assertEquals("3x16x16", z.sizeString());
        assertEquals(0x30, px(z, 0, 8, 8), 3);
        assertEquals(0x80, px(z, 1, 8, 8), 3);
        assertEquals(0xC0, px(z, 2, 8, 8), 3);
        Image bmp = f.read(6);
        assertEquals("3x3x4", bmp.sizeString());
        assertEquals(10 * 3 + 3, px(bmp, 0, 2, 3), 1e-3);
    }

    @Test
    void unreadableFilesAreDataExceptionsNamingTheFile() throws IOException {
        layout();
        ImageFolder f = ImageFolder.open(root);
        DataException notImage = assertThrows(DataException.class, () -> f.read(4));
        assertTrue(notImage.getMessage().startsWith(root.resolve("cat/broken.png").toString() + ": not an image"), notImage.getMessage());
        DataException truncated = assertThrows(DataException.class, () -> f.read(7));
        assertTrue(truncated.getMessage().startsWith(root.resolve("dog/trunc.jpg").toString() + ": "), truncated.getMessage());
        Files.delete(f.path(5));
        DataException gone = assertThrows(DataException.class, () -> f.read(5));
        assertTrue(gone.getMessage().endsWith("no such file"), gone.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> f.read(8));
    }

    @Test
    void paletteAndSixteenBitImagesBecomeRgb() throws IOException {
        byte[] r = {(byte) 255, 0, 12}, g = {0, (byte) 128, 34}, b = {0, 0, 56};
        BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 3, r, g, b));
        indexed.getRaster().setSample(0, 0, 0, 1);
        indexed.getRaster().setSample(1, 0, 0, 2);
        write(root.resolve("p/indexed.png"), indexed, "png");
        BufferedImage deep = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        deep.getRaster().setSample(0, 0, 0, 65535);
        deep.getRaster().setSample(1, 0, 0, 13107); // 0.2 of 65535
        write(root.resolve("p/deep.png"), deep, "png");
        ImageFolder f = ImageFolder.open(root);
        Image d = f.read(0), p = f.read(1);
        assertEquals(1f, d.get(0, 0, 0), 1e-6f);
        assertEquals(0.2f, d.get(2, 0, 1), 1e-6f);
        assertEquals(128, px(p, 1, 0, 0), 1e-3);
        assertEquals(56, px(p, 2, 0, 1), 1e-3);
    }

    @Test
    void emptyOrMissingFoldersAreErrors() throws IOException {
        DataException none = assertThrows(DataException.class, () -> ImageFolder.open(root.resolve("missing")));
        assertTrue(none.getMessage().endsWith("no such directory"), none.getMessage());
        DataException noClasses = assertThrows(DataException.class, () -> ImageFolder.open(root));
        assertTrue(noClasses.getMessage().contains("no class folders"), noClasses.getMessage());
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("empty/a.txt"), "x");
        DataException noImages = assertThrows(DataException.class, () -> ImageFolder.open(root));
        assertTrue(noImages.getMessage().contains("no images in 1 class folders"), noImages.getMessage());
    }

    @Test
    void namesSortByCodePointAsPython() {
        List<String> names = new ArrayList<>(List.of("b", "B", "a_1", "a-1", "a1", "\uD83D\uDE00", "\uFF5E"));
        names.sort(ImageFolder.CODE_POINT_ORDER);
        // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D < 0xFF5E)
        assertEquals(List.of("B", "a-1", "a1", "a_1", "b", "\uFF5E", "\uD83D\uDE00"), names);
    }
}
