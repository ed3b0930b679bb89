package mobyc.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import mobyc.data.aug.Image;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZipMapSourceTest {
    @TempDir Path dir;

    static void zip(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    private Map<String, byte[]> images() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("n01/a.png", ImageFolderTest.encode(ImageFolderTest.rgb(5, 4), "png"));
        m.put("n01/b.JPEG", ImageFolderTest.encode(ImageFolderTest.flat(8, 8, 0x204060), "jpg"));
        m.put("n02/c.png", ImageFolderTest.encode(ImageFolderTest.rgb(3, 7), "png"));
        m.put("n02/bad.jpg", "not a jpeg".getBytes());
        return m;
    }

    @Test
    void roundTripsTheReferenceFormat() throws IOException {
        zip(dir.resolve("train.zip"), images());
        // the map's order is the data set's order; a leading slash is stripped, extra fields and CRLF are fine
        Files.writeString(dir.resolve("train_map.txt"), "n02/c.png\t1\n/n01/a.png\t0\textra\r\nn01/b.JPEG\t 0 \n\nn02/bad.jpg\t1\n");
        try (ZipMapSource s = ZipMapSource.open(dir, "train")) {
            assertEquals(4, s.size());
            assertEquals(2, s.classes());
            assertEquals(3, s.channels());
            assertEquals("n02/c.png", s.entry(0));
            assertEquals("n01/a.png", s.entry(1));
            assertEquals(1, s.label(0));
            assertEquals(0, s.label(2));
            Image c = s.read(0);
            assertEquals("3x7x3", c.sizeString());
            assertEquals((7 * 6 + 1) / 255f, c.get(1, 6, 2), 1e-7f);
            Image a = s.read(1);
            assertEquals("3x4x5", a.sizeString());
            assertEquals(43 / 255f, a.get(0, 3, 4), 1e-7f);
            assertEquals(0x60, s.read(2).get(2, 4, 4) * 255, 3);
            DataException bad = assertThrows(DataException.class, () -> s.read(3));
            assertTrue(bad.getMessage().startsWith(dir.resolve("train.zip") + "@n02/bad.jpg: "), bad.getMessage());
        }
    }

    @Test
    void classesCanBeGivenAndLabelsAreChecked() throws IOException {
        zip(dir.resolve("val.zip"), images());
        Files.writeString(dir.resolve("val_map.txt"), "n01/a.png\t3\n");
        try (ZipMapSource s = ZipMapSource.open(dir.resolve("val.zip"), dir.resolve("val_map.txt"), 1000)) {
            assertEquals(1000, s.classes());
        }
        DataException e = assertThrows(DataException.class, () -> ZipMapSource.open(dir.resolve("val.zip"), dir.resolve("val_map.txt"), 3));
        assertEquals(dir.resolve("val_map.txt") + ":1: label 3 is outside [0, 3)", e.getMessage());
    }

    @Test
    void badMapLinesAreListedWithFileAndLine() throws IOException {
        zip(dir.resolve("train.zip"), images());
        Path map = dir.resolve("train_map.txt");
        Files.writeString(map, String.join("\n",
                "n01/a.png\t0",
                "n01/a.png 0",
                "n01/a.png\tzero",
                "n01/a.png\t-2",
                "n01/notes.txt\t0",
                "n03/missing.png\t1",
                "\t1",
                "n02/c.png\t1") + "\n");
        DataException e = assertThrows(DataException.class, () -> ZipMapSource.open(dir, "train"));
        assertEquals(map + ":2", e.source());
        String[] lines = e.getMessage().split("\n");
        assertEquals(6, lines.length, e.getMessage());
        assertEquals(map + ":2: expected '<path inside the zip>\\t<label>', found no tab in 'n01/a.png 0'", lines[0]);
        assertEquals(map + ":3: label 'zero' is not an integer", lines[1]);
        assertEquals(map + ":4: label -2 is negative", lines[2]);
        assertEquals(map + ":5: 'n01/notes.txt' does not end with an image extension (.jpg .jpeg .png .ppm .bmp .pgm .tif)", lines[3]);
        assertEquals(map + ":6: no entry 'n03/missing.png' in train.zip", lines[4]);
        assertEquals(map + ":7: empty path", lines[5]);
    }

    @Test
    void missingFilesAndEmptyMaps() throws IOException {
        DataException noMap = assertThrows(DataException.class, () -> ZipMapSource.open(dir, "train"));
        assertEquals(dir.resolve("train_map.txt") + ": no such file", noMap.getMessage());
        Files.writeString(dir.resolve("train_map.txt"), "a.png\t0\n");
        DataException noZip = assertThrows(DataException.class, () -> ZipMapSource.open(dir, "train"));
        assertEquals(dir.resolve("train.zip") + ": no such file", noZip.getMessage());
        Files.writeString(dir.resolve("train.zip"), "not a zip");
        DataException notZip = assertThrows(DataException.class, () -> ZipMapSource.open(dir, "train"));
        assertTrue(notZip.getMessage().startsWith(dir.resolve("train.zip") + ": not a readable zip file"), notZip.getMessage());
        zip(dir.resolve("train.zip"), images());
        Files.writeString(dir.resolve("train_map.txt"), "\n  \n");
        DataException empty = assertThrows(DataException.class, () -> ZipMapSource.open(dir, "train"));
        assertEquals(dir.resolve("train_map.txt") + ": no images listed", empty.getMessage());
    }

    @Test
    void extensionsAsPythonSplitext() {
        assertEquals(".jpeg", ZipMapSource.extension("n01/x.JPEG"));
        assertEquals("", ZipMapSource.extension("n01/.png"));
        assertEquals(".png", ZipMapSource.extension("n01/..a.png"));
        assertEquals("", ZipMapSource.extension("n01.d/file"));
    }
}
