package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import mobyc.runtime.io.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch checkpoints: every dtype and view layout, nested state dicts, and each way a file can be bad. */
class PthReaderTest {
    @TempDir Path tmp;

    @Test
    void readsEveryStorageTypeAndViewLayoutAsPyTorchSavedThem() throws IOException {
        // dtypes.pth holds {"state_dict": {...}, "meta": {plain values}}; the safetensors file holds the expected values
        Fixtures.assertSameTensors(Fixtures.safetensors("dtypes.safetensors"), PthReader.read(Fixtures.file("dtypes.pth")));
        Map<String, Tensor> t = PthReader.read(Fixtures.file("dtypes.pth"));
        assertArrayEquals(new float[] {-3f, 0f, 3f, 6f, -2.5f, 0.5f, 3.5f, 6.5f, -2f, 1f, 4f, 7f, -1.5f, 1.5f, 4.5f, 7.5f, -1f, 2f, 5f, 8f,
                -0.5f, 2.5f, 5.5f, 8.5f}, t.get("transposed").toFloatArray());
        assertArrayEquals(new float[] {1f, 1.5f, 2f, 4f, 4.5f, 5f}, t.get("view").toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, t.get("expanded").toFloatArray());
        assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 5}, t.get("i64").toIntArray());
        assertArrayEquals(new int[] {0, 255, 17}, t.get("u8").toIntArray());
        assertArrayEquals(new int[] {1, 0, 1}, t.get("bool").toIntArray());
        assertEquals(Float.POSITIVE_INFINITY, t.get("f16").getFloat(6));
        assertArrayEquals(new long[0], t.get("scalar").shape());
        assertArrayEquals(new long[] {0, 3}, t.get("empty").shape());
    }

    @Test
    void readsAStateDictAndItsBuffers() throws IOException {
        Map<String, Tensor> t = PthReader.read(Fixtures.file("swin_torchvision.pth"));
        assertEquals(67, t.size());
        assertEquals(List.of("features.0.0.weight", "features.0.0.bias", "features.0.2.weight"), List.copyOf(t.keySet()).subList(0, 3));
        Tensor index = t.get("features.1.0.attn.relative_position_index");
        assertEquals(DType.I32, index.dtype());
        assertArrayEquals(RelativePositionIndex.compute(2), index.toIntArray());
        assertArrayEquals(new long[] {16, 3, 4, 4}, t.get("features.0.0.weight").shape());
    }

    @Test
    void takesTheStateDictOfATrainingCheckpointFromItsModelEntry() throws IOException {
        Map<String, Tensor> t = PthReader.read(Fixtures.file("swin_moby.pth"));
        assertEquals("encoder.patch_embed.proj.weight", t.keySet().iterator().next());
        assertEquals(List.of("projector.linear1.weight", "queue1", "queue_ptr"), List.copyOf(t.keySet()).subList(t.size() - 3, t.size()));
    }

    @Test
    void refusesAForeignGlobalNamingFileAndGlobal() {
        Path f = Fixtures.file("foreign_global.pth");
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": refuses to load global os.system: a state dict needs only tensors and plain containers", e.getMessage());
    }

    @Test
    void refusesForeignGlobalsFromStackGlobalAndInsideTensors() throws IOException {
        byte[] stack = new HandMade.Pickle().proto().unicode("builtins").unicode("eval").op(0x93).unicode("1").op(0x85, 'R', '.').bytes();
        assertEquals(path("a.pth") + ": refuses to load global builtins.eval: a state dict needs only tensors and plain containers",
                error("a.pth", stack, Map.of()));
        byte[] v1 = new HandMade.Pickle().proto().op('}').unicode("w").global("torch._utils", "_rebuild_tensor").op(')', 'R', 's', '.').bytes();
        assertEquals(path("b.pth") + ": refuses to load global torch._utils._rebuild_tensor: a state dict needs only tensors and plain containers",
                error("b.pth", v1, Map.of()));
    }

    @Test
    void saysATruncatedFileIsTruncatedAndWhichTensorItCut() {
        // README.txt: truncated.pth is dtypes.pth cut inside dtypes/data/9, the storage of 'bool'
        Path f = Fixtures.file("truncated.pth");
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": truncated: the zip archive has lost its central directory, and tensor 'bool' needs dtypes/data/9, "
                + "which the file does not hold whole", e.getMessage());
    }

    @Test
    void saysALegacyFileMustBeResaved() {
        Path f = Fixtures.file("legacy.pth");
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": a PyTorch checkpoint in the legacy format (PyTorch before 1.6, or _use_new_zipfile_serialization=False), "
                + "which mobyc does not read; re-save it with torch.save's default format: torch.save(torch.load(\"old.pth\"), \"new.pth\")",
                e.getMessage());
    }

    @Test
    void refusesIntegersBeyondI32() {
        Path f = Fixtures.file("i64_overflow.pth");
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": tensor 'idx': 64-bit integer 1099511627776 at element 1 does not fit in i32", e.getMessage());
    }

    @Test
    void namesTheKeyOfAMissingStorage() throws IOException {
        LinkedHashMap<String, byte[]> entries = HandMade.entries(Fixtures.file("vit_torchvision.pth"));
        entries.remove("vit_torchvision/data/3");
        Path f = tmp.resolve("missing.pth");
        HandMade.zip(f, entries);
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": tensor 'encoder.pos_embedding': its storage vit_torchvision/data/3 is missing from the zip archive", e.getMessage());
    }

    @Test
    void namesTheKeyOfAStorageOfTheWrongSize() throws IOException {
        LinkedHashMap<String, byte[]> entries = HandMade.entries(Fixtures.file("vit_torchvision.pth"));
        entries.put("vit_torchvision/data/3", new byte[8]);
        Path f = tmp.resolve("short.pth");
        HandMade.zip(f, entries);
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": tensor 'encoder.pos_embedding': its storage vit_torchvision/data/3 holds 8 bytes, a torch.FloatStorage "
                + "of 80 elements needs 320", e.getMessage());
    }

    @Test
    void namesTheKeyOfAViewReachingPastItsStorage() throws IOException {
        byte[] p = new HandMade.Pickle().proto().op('}').unicode("w").tensor1d("FloatStorage", "0", 4, 2, 3, 1).op('s', '.').bytes();
        assertEquals(path("c.pth") + ": tensor 'w': size [3] with stride [1] from offset 2 reaches element 4 of a storage of 4 elements",
                error("c.pth", p, Map.of("0", HandMade.floats(1, 2, 3, 4))));
    }

    @Test
    void readsTorch2LayoutProtocol4OpcodesParametersAndBigEndianStorages() throws IOException {
        // {"w": Parameter(tensor [2:4] of 4 floats)} through FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL and NEWOBJ
        HandMade.Pickle p = new HandMade.Pickle().op(0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0);
        p.op(0x8c, 11).raw("collections").op(0x94).op(0x8c, 11).raw("OrderedDict").op(0x94, 0x93, 0x94)
                .op(')', 0x81, 0x94);
        p.op(0x8c, 1, 'w').global("torch._utils", "_rebuild_parameter").tensor1d("FloatStorage", "0", 4, 2, 2, 1)
                .op(0x88).op('h', 2, ')', 0x81).op(0x87, 'R', 's', '.');
        ByteBuffer big = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putFloat(1).putFloat(2).putFloat(3.5f).putFloat(-4);
        Path f = tmp.resolve("torch2.pth");
        HandMade.pth(f, p.bytes(), Map.of("0", big.array()), "big");
        Map<String, Tensor> t = PthReader.read(f);
        assertEquals(List.of("w"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {3.5f, -4f}, t.get("w").toFloatArray());
    }

    @Test
    void refusesMalformedPicklesWithThePlaceOfTheFault() throws IOException {
        assertEquals(path("d.pth") + ": archive/data.pkl: malformed at byte 23: REDUCE calls torch.FloatStorage, which is not callable here",
                error("d.pth", new HandMade.Pickle().proto().global("torch", "FloatStorage").op(')', 'R', '.').bytes(), Map.of()));
        assertEquals(path("e.pth") + ": archive/data.pkl: malformed at byte 2: unsupported pickle opcode 0x69",
                error("e.pth", new HandMade.Pickle().proto().op('i').bytes(), Map.of()));
        assertEquals(path("f.pth") + ": archive/data.pkl: malformed at byte 2: the pickle ends inside an opcode",
                error("f.pth", new HandMade.Pickle().proto().op('X', 100, 0, 0, 0, 'a').bytes(), Map.of()));
        assertEquals(path("g.pth") + ": archive/data.pkl: malformed at byte 2: the pickle stack is empty",
                error("g.pth", new HandMade.Pickle().proto().op('.').bytes(), Map.of()));
        assertEquals(path("h.pth") + ": archive/data.pkl: malformed at byte 2: memo entry 7 was never stored",
                error("h.pth", new HandMade.Pickle().proto().op('h', 7, '.').bytes(), Map.of()));
        assertEquals(path("i.pth") + ": 'w' in the state dict holds an object of type int, not a tensor",
                error("i.pth", new HandMade.Pickle().proto().op('}').unicode("w").int1(1).op('s', '.').bytes(), Map.of()));
        assertEquals(path("j.pth") + ": holds an object of type list, not a state dict (a dict of tensors)",
                error("j.pth", new HandMade.Pickle().proto().op(']', '.').bytes(), Map.of()));
    }

    @Test
    void refusesAZipThatIsNoCheckpoint() throws IOException {
        Path f = tmp.resolve("other.zip");
        HandMade.zip(f, Map.of("readme.txt", new byte[3]));
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": not a PyTorch checkpoint: the zip archive holds no data.pkl", e.getMessage());
    }

    private Path path(String name) { return tmp.resolve(name); }

    /** The message of reading a hand-made checkpoint with this pickle and these storages. */
    private String error(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path f = path(name);
        HandMade.pth(f, pickle, storages, "little");
        return assertThrows(FormatException.class, () -> PthReader.read(f)).getMessage();
    }
}
