package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.FormatException;
import mobyc.runtime.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint files told apart by content, written as safetensors, and a zip64 archive. */
class CheckpointTest {
    @TempDir Path tmp;

    @Test
    void tellsTheFormatByContentNotByName() throws IOException {
        Path pth = tmp.resolve("really_a_pth.safetensors"), st = tmp.resolve("really_safetensors.pth");
        Files.copy(Fixtures.file("vit_torchvision.pth"), pth);
        Files.copy(Fixtures.file("vit_timm.safetensors"), st);
        assertEquals(Checkpoint.Format.PYTORCH, Checkpoint.format(pth));
        assertEquals(Checkpoint.Format.SAFETENSORS, Checkpoint.format(st));
        assertEquals(Checkpoint.Format.PYTORCH, Checkpoint.format(Fixtures.file("legacy.pth")));
        Fixtures.assertSameTensors(PthReader.read(Fixtures.file("vit_torchvision.pth")), Checkpoint.read(pth));
        Fixtures.assertSameTensors(Fixtures.safetensors("vit_timm.safetensors"), Checkpoint.read(st));
        Path npy = Fixtures.file("x.npy");
        assertEquals(npy + ": neither a PyTorch checkpoint (a zip archive) nor a safetensors file (a JSON header)",
                assertThrows(FormatException.class, () -> Checkpoint.read(npy)).getMessage());
    }

    @Test
    void readsASafetensorsFileWhoseHeaderLengthStartsLikeAPickle() throws IOException {
        // a header of 128 (mod 256) bytes makes the first byte 0x80, the pickle PROTO opcode
        Map<String, Tensor> t = Map.of("w", Tensor.of(new float[] {1, 2}, 2));
        Path f = tmp.resolve("w.safetensors");
        for (int pad = 0; (Files.exists(f) ? Files.readAllBytes(f)[0] & 0xFF : 0) != 0x80; pad++)
            SafeTensors.write(f, t, Map.of("pad", "x".repeat(pad)));
        Fixtures.assertSameTensors(t, Checkpoint.read(f));
    }

    @Test
    void writesSafetensorsThatReadBackTheSame() throws IOException {
        Map<String, Tensor> t = PthReader.read(Fixtures.file("dtypes.pth"));
        Path f = tmp.resolve("out.safetensors");
        Checkpoint.write(f, t);
        Fixtures.assertSameTensors(t, Checkpoint.read(f));
        Fixtures.assertSameTensors(Fixtures.safetensors("dtypes.safetensors"), Checkpoint.read(f));
    }

    @Test
    void readsAZip64Archive() throws IOException {
        // over 65535 entries: the end record says 0xFFFF and the zip64 end record holds the count
        byte[] pickle = new HandMade.Pickle().proto().op('}').unicode("w").tensor1d("FloatStorage", "0", 2, 0, 2, 1).op('s', '.').bytes();
        LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        for (int i = 0; i < 70_000; i++) entries.put("archive/extra/" + i, new byte[0]);
        entries.put("archive/data/0", HandMade.floats(5, 6));
        Path f = tmp.resolve("big.pth");
        HandMade.zip(f, entries);
        byte[] bytes = Files.readAllBytes(f);
        int end = bytes.length - 22; // the end record (no comment): its entry count is 0xFFFF, "see the zip64 record"
        assertEquals(0xFFFF, (bytes[end + 10] & 0xFF) | (bytes[end + 11] & 0xFF) << 8);
        Fixtures.assertSameTensors(Map.of("w", Tensor.of(new float[] {5, 6}, 2)), Checkpoint.read(f));
    }
}
