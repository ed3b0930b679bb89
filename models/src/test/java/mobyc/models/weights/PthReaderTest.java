package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * PyTorch checkpoints: every dtype and view layout, nested state dicts, training checkpoints with foreign objects beside
 * the state dict, and each way a file can be bad.
 */
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

    private static final String DENIED = ": it can run code or reach the system, which a checkpoint never needs";
    private static final String PLAIN = "; a state dict needs only tensors and plain containers";

    @Test
    void refusesADeniedGlobalNamingFileAndGlobal() {
        Path f = Fixtures.file("foreign_global.pth");
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": refuses to load global os.system" + DENIED, e.getMessage());
    }

    @Test
    void refusesADeniedGlobalFromStackGlobalAndAForeignObjectInTheStateDict() throws IOException {
        byte[] stack = new HandMade.Pickle().proto().unicode("builtins").unicode("eval").op(0x93).unicode("1").op(0x85, 'R', '.').bytes();
        assertEquals(path("a.pth") + ": refuses to load global builtins.eval" + DENIED, error("a.pth", stack, Map.of()));
        // the legacy _rebuild_tensor is no longer refused on sight, but nothing in a state dict may be made of it
        byte[] v1 = new HandMade.Pickle().proto().op('}').unicode("w").global("torch._utils", "_rebuild_tensor").op(')', 'R', 's', '.').bytes();
        assertEquals(path("b.pth") + ": w: holds an object of torch._utils._rebuild_tensor" + PLAIN, error("b.pth", v1, Map.of()));
    }

    @Test
    void readsTheStateDictOfATrainingCheckpointBesideItsConfigArgsAndOptimizer() throws IOException {
        // {"model", "optimizer" (AdamW moments), "lr_scheduler", "max_accuracy" (numpy), "epoch", "config" (yacs), "args" (argparse)}
        Map<String, Tensor> t = PthReader.read(Fixtures.file("swin_moby_train.pth"));
        List<String> keys = List.of("encoder.patch_embed.proj.weight", "encoder.patch_embed.proj.bias", "encoder.patch_embed.norm.weight",
                "encoder.patch_embed.norm.bias", "queue_ptr");
        assertEquals(keys, List.copyOf(t.keySet()));
        Map<String, Tensor> moby = PthReader.read(Fixtures.file("swin_moby.pth"));
        for (String k : keys) Fixtures.assertSameTensor(moby.get(k), t.get(k), k);
    }

    @Test
    void neverReadsTheStoragesOfTensorsOutsideTheStateDict() throws IOException {
        // torch.save numbers storages as it meets them: data/0-4 are the model's, the rest the optimizer's
        LinkedHashMap<String, byte[]> entries = HandMade.entries(Fixtures.file("swin_moby_train.pth"));
        for (int i = 5; i <= 16; i++) assertNotNull(entries.remove("swin_moby_train/data/" + i), "storage " + i);
        entries.put("swin_moby_train/data/6", new byte[3]); // one of the wrong size, too
        Path f = tmp.resolve("no_optimizer_storages.pth");
        HandMade.zip(f, entries);
        Fixtures.assertSameTensors(PthReader.read(Fixtures.file("swin_moby_train.pth")), PthReader.read(f));
    }

    @Test
    void refusesAStateDictHoldingAnObjectNamingFileKeyAndGlobal() {
        Path f = Fixtures.file("object_in_state_dict.pth");
        var e = assertThrows(FormatException.class, () -> PthReader.read(f));
        assertEquals(f + ": model.config: holds an object of yacs.config.CfgNode" + PLAIN, e.getMessage());
    }

    @Test
    void refusesADeniedGlobalAnywhereInTheFile() throws IOException {
        String[][] denied = {{"os", "system"}, {"os.path", "join"}, {"posix", "system"}, {"nt", "system"}, {"subprocess", "Popen"},
                {"sys", "modules"}, {"socket", "socket"}, {"shutil", "rmtree"}, {"importlib", "import_module"},
                {"importlib.util", "spec_from_file_location"}, {"pickle", "loads"}, {"_pickle", "loads"}, {"cPickle", "loads"},
                {"runpy", "run_path"}, {"types", "FunctionType"}, {"types", "CodeType"}, {"functools", "partial"},
                {"operator", "attrgetter"}, {"operator", "methodcaller"}, {"builtins", "eval"}, {"__builtin__", "eval"},
                {"builtins", "exec"}, {"builtins", "getattr"}, {"builtins", "__import__"}, {"builtins", "compile"},
                {"builtins", "open"}, {"__builtin__", "reduce"}, {"commands", "getoutput"}, {"torch.hub", "load"},
                {"torch", "load"}, {"ctypes", "CDLL"}, {"timeit", "timeit"},
                // dotted names (protocol 4 walks them attribute by attribute)
                {"torch.serialization", "os.system"}, {"torch", "hub.load"}, {"collections", "OrderedDict.__init__.__globals__"},
                {"builtins", "object.__subclasses__"}, {"pathlib", "Path.__init__"}};
        for (String[] g : denied) {
            // {"model": {"w": tensor}, "optimizer": <the global>}: outside the state dict, and still refused
            HandMade.Pickle p = new HandMade.Pickle().proto().op('}', '(').unicode("model").op('}').unicode("w")
                    .tensor1d("FloatStorage", "0", 2, 0, 2, 1).op('s').unicode("optimizer").global(g[0], g[1]).op('u', '.');
            assertEquals(path("x.pth") + ": refuses to load global " + g[0] + "." + g[1] + DENIED,
                    error("x.pth", p.bytes(), Map.of("0", HandMade.floats(1, 2))), g[0] + "." + g[1]);
        }
        for (String g : List.of("argparse.Namespace", "yacs.config.CfgNode", "pathlib.PurePosixPath", "__builtin__.set", "builtins.set",
                "_codecs.encode", "numpy.core.multiarray.scalar", "numpy.dtype", "operator.itemgetter", "copyreg._reconstructor",
                "torch.float32", "torch.device", "mmcv.utils.config.ConfigDict", "foo.sys.bar", "foo.Outer.Inner"))
            assertFalse(Unpickler.denied(g.substring(0, g.lastIndexOf('.')), g.substring(g.lastIndexOf('.') + 1)), g);
        assertFalse(Unpickler.denied("foo", "Outer.Inner"));
        assertTrue(Unpickler.denied("foo", "sys.modules"));
    }

    @Test
    void keepsObjectsOutsideTheStateDictInertAndTheStackStraight() throws IOException {
        // {"model": {"w": tensor}, then objects of foreign classes built every way a pickle can, all left inert}
        HandMade.Pickle p = new HandMade.Pickle().proto().op('}', '(').unicode("model").op('}').unicode("w")
                .tensor1d("FloatStorage", "0", 2, 0, 2, 1).op('s');
        p.unicode("cfg").global("yacs.config", "CfgNode").op(')', 0x81, 'q', 0)        // NEWOBJ, memoised
                .op('(').unicode("a").int1(1).unicode("b").op(']').int1(2).op('a', 'u') // SETITEMS on it
                .unicode("x").int1(3).op('s')                                          // SETITEM
                .op('(').int1(1).int1(2).op('e').int1(4).op('a')                       // APPENDS, APPEND
                .op('}').unicode("__immutable__").op(0x88, 's', 'b');                  // BUILD with a dict
        p.unicode("ns").global("argparse", "Namespace").op(')', 'R', 'N', 'b');        // REDUCE, BUILD with None
        p.unicode("again").op('h', 0);                                                 // the memoised object
        p.unicode("called").global("mod", "f").int1(1).op(0x85, 'R').op(')', 'R');     // a made object called
        p.unicode("keyed").op('}').global("enum", "Colour").int1(1).op(0x85, 'R').int1(5).op('s'); // as a dict key
        p.unicode("od").global("collections", "OrderedDict").op(')', 'R').unicode("k").global("numpy", "float32").op('s');
        p.unicode("complex").tensor1d("ComplexFloatStorage", "9", 2, 0, 2, 1);       // a storage type mobyc does not read
        p.unicode("param").global("torch._utils", "_rebuild_parameter").tensor1d("ComplexDoubleStorage", "8", 2, 0, 2, 1)
                .op(0x89).global("collections", "OrderedDict").op(')', 'R', 0x87, 'R');
        p.op('u', '.');
        Path f = tmp.resolve("inert.pth");
        HandMade.pth(f, p.bytes(), Map.of("0", HandMade.floats(1, 2)), "little");
        Map<String, Tensor> t = PthReader.read(f);
        assertEquals(List.of("w"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {1, 2}, t.get("w").toFloatArray());
    }

    @Test
    void namesWhereInTheStateDictAForeignObjectSits() throws IOException {
        // {"model": {"w": tensor, "extra": {"a": [1, (2, x.Y())]}}}
        HandMade.Pickle nested = new HandMade.Pickle().proto().op('}').unicode("model").op('}', '(').unicode("w")
                .tensor1d("FloatStorage", "0", 2, 0, 2, 1).unicode("extra").op('}').unicode("a").op(']').int1(1).op('a')
                .int1(2).global("x", "Y").op(')', 'R', 0x86, 'a', 's', 'u', 's', '.');
        assertEquals(path("k.pth") + ": model.extra.a[1][1]: holds an object of x.Y" + PLAIN,
                error("k.pth", nested.bytes(), Map.of("0", HandMade.floats(1, 2))));
        // the bare global, not called
        byte[] bare = new HandMade.Pickle().proto().op('}').unicode("w").global("torch", "float32").op('s', '.').bytes();
        assertEquals(path("l.pth") + ": w: holds an object of torch.float32" + PLAIN, error("l.pth", bare, Map.of()));
        byte[] key = new HandMade.Pickle().proto().op('}').global("x", "Key").op(')', 'R').int1(1).op('s', '.').bytes();
        assertEquals(path("m.pth") + ": a key of the state dict: holds an object of x.Key" + PLAIN, error("m.pth", key, Map.of()));
        byte[] complex = new HandMade.Pickle().proto().op('}').unicode("z").tensor1d("ComplexFloatStorage", "0", 2, 0, 2, 1)
                .op('s', '.').bytes();
        assertEquals(path("n.pth") + ": z: holds a tensor of torch.ComplexFloatStorage, a storage type mobyc does not read",
                error("n.pth", complex, Map.of()));
        // a state dict that is itself an object: the saved object is not a dict
        byte[] module = new HandMade.Pickle().proto().global("models.moby", "MoBY").op(')', 0x81, '}', 'b', '.').bytes();
        assertEquals(path("o.pth") + ": holds an object of type models.moby.MoBY, not a state dict (a dict of tensors)",
                error("o.pth", module, Map.of()));
        // a list that holds itself ends the walk
        byte[] cycle = new HandMade.Pickle().proto().op('}').unicode("w").op(']', 'q', 0, 'h', 0, 'a', 's', '.').bytes();
        assertEquals(path("p.pth") + ": 'w' in the state dict holds an object of type list, not a tensor", error("p.pth", cycle, Map.of()));
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
        assertEquals(path("q.pth") + ": archive/data.pkl: malformed at byte 9: REDUCE of x.Y with int arguments",
                error("q.pth", new HandMade.Pickle().proto().global("x", "Y").int1(1).op('R', '.').bytes(), Map.of()));
        assertEquals(path("r.pth") + ": archive/data.pkl: malformed at byte 12: SETITEMS with an odd number of items",
                error("r.pth", new HandMade.Pickle().proto().global("x", "Y").op(')', 0x81, '(').int1(1).op('u', '.').bytes(), Map.of()));
        assertEquals(path("s.pth") + ": archive/data.pkl: malformed at byte 23: NEWOBJ of global torch.FloatStorage (only OrderedDict is built this way)",
                error("s.pth", new HandMade.Pickle().proto().global("torch", "FloatStorage").op(')', 0x81, '.').bytes(), Map.of()));
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
