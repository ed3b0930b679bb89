package mobyc.models.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Key names: detection, the torchvision tables against the names the fixture script gives independently, the
 * MoBY prefix, export and re-import through every naming, mmdet's channel order, and the errors.
 */
class KeyMapTest {
    static Map<String, Tensor> official() { return Fixtures.safetensors("swin_official.safetensors"); }

    static Map<String, Tensor> timm() { return Fixtures.safetensors("vit_timm.safetensors"); }

    @Test
    void detectsEachNaming() throws IOException {
        assertEquals(Naming.OFFICIAL, KeyMap.detect(official().keySet()));
        assertEquals(Naming.TIMM, KeyMap.detect(timm().keySet()));
        assertEquals(Naming.TORCHVISION_SWIN, KeyMap.detect(PthReader.read(Fixtures.file("swin_torchvision.pth")).keySet()));
        assertEquals(Naming.TORCHVISION_VIT, KeyMap.detect(PthReader.read(Fixtures.file("vit_torchvision.pth")).keySet()));
        assertEquals(Naming.TIMM_SWIN, KeyMap.detect(KeyMap.fromMobyc(official(), KeyMap.Target.TIMM).tensors().keySet()));
        assertEquals(Naming.MMDET, KeyMap.detect(KeyMap.fromMobyc(official(), KeyMap.Target.MMDET).tensors().keySet().stream()
                .map(k -> k.substring("backbone.".length())).toList()));
    }

    @Test
    void mapsTorchvisionSwinToTheOfficialNames() throws IOException {
        KeyMap.Imported i = KeyMap.toMobyc(PthReader.read(Fixtures.file("swin_torchvision.pth")));
        assertEquals(Naming.TORCHVISION_SWIN, i.naming());
        assertEquals("", i.prefix());
        Fixtures.assertSameTensors(official(), i.tensors());
        assertEquals(Map.of(KeyMap.INDEX_BUFFER, 4), reasons(i.dropped()));
        assertEquals(List.of(), i.unmapped());
    }

    @Test
    void mapsTorchvisionVitToTimmNames() throws IOException {
        KeyMap.Imported i = KeyMap.toMobyc(PthReader.read(Fixtures.file("vit_torchvision.pth")));
        assertEquals(Naming.TORCHVISION_VIT, i.naming());
        Fixtures.assertSameTensors(timm(), i.tensors());
        assertEquals(List.of(), i.dropped());
    }

    @Test
    void takesMobysOnlineEncoderAndDropsTheRest() throws IOException {
        for (String prefix : new String[] {null, "encoder."}) {
            KeyMap.Imported i = Checkpoint.load(Fixtures.file("swin_moby.pth"), prefix);
            assertEquals(Naming.OFFICIAL, i.naming());
            assertEquals("encoder.", i.prefix());
            Fixtures.assertSameTensors(official(), i.tensors());
            assertEquals(Map.of(KeyMap.OUTSIDE + "encoder.", 7, KeyMap.INDEX_BUFFER, 4, KeyMap.MASK_BUFFER, 1), reasons(i.dropped()));
        }
    }

    @Test
    void exportsTorchvisionNamesExactlyAsTorchvisionSavesThem() throws IOException {
        // relative_position_index included (torchvision loads strictly), flat, after its table, as in the state dict
        Fixtures.assertSameTensors(PthReader.read(Fixtures.file("swin_torchvision.pth")),
                KeyMap.fromMobyc(official(), KeyMap.Target.TORCHVISION).tensors());
        Fixtures.assertSameTensors(PthReader.read(Fixtures.file("vit_torchvision.pth")),
                KeyMap.fromMobyc(timm(), KeyMap.Target.TORCHVISION).tensors());
    }

    @Test
    void roundTripsThroughEveryNaming() {
        for (KeyMap.Target target : KeyMap.Target.values()) {
            KeyMap.Exported swin = KeyMap.fromMobyc(official(), target);
            Map<String, Tensor> expected = new LinkedHashMap<>(official());
            if (target == KeyMap.Target.MMDET) expected.keySet().removeIf(k -> k.startsWith("head."));
            KeyMap.Imported back = KeyMap.toMobyc(swin.tensors());
            assertEquals(swin.naming(), back.naming(), target.label());
            Fixtures.assertSameTensors(expected, back.tensors());
            if (target == KeyMap.Target.MMDET) continue;
            KeyMap.Exported vit = KeyMap.fromMobyc(timm(), target);
            Fixtures.assertSameTensors(timm(), KeyMap.toMobyc(vit.tensors()).tensors());
        }
    }

    @Test
    void exportsMmdetNamesAndItsPatchMergingOrder() {
        KeyMap.Exported e = KeyMap.fromMobyc(official(), KeyMap.Target.MMDET);
        Map<String, Tensor> t = e.tensors();
        for (String k : List.of("backbone.patch_embed.projection.weight", "backbone.patch_embed.norm.bias",
                "backbone.stages.0.blocks.0.attn.w_msa.qkv.weight", "backbone.stages.0.blocks.1.attn.w_msa.relative_position_bias_table",
                "backbone.stages.1.blocks.1.attn.w_msa.proj.bias", "backbone.stages.0.blocks.0.ffn.layers.0.0.weight",
                "backbone.stages.0.blocks.0.ffn.layers.1.bias", "backbone.stages.0.blocks.0.norm2.weight",
                "backbone.stages.0.downsample.reduction.weight", "backbone.stages.0.downsample.norm.weight", "backbone.norm1.weight"))
            assertTrue(t.containsKey(k), k);
        assertFalse(t.keySet().stream().anyMatch(k -> k.contains("head")));
        assertEquals(Map.of("the classifier (mmdet's Swin backbone has none)", 2), reasons(e.dropped()));
        // nn.Unfold order: mmdet column 4c + k holds official column perm[k] * C + c, perm = (0, 2, 1, 3)
        Tensor w = official().get("layers.0.downsample.reduction.weight"), m = t.get("backbone.stages.0.downsample.reduction.weight");
        Tensor nw = official().get("layers.0.downsample.norm.weight"), nm = t.get("backbone.stages.0.downsample.norm.weight");
        int[] perm = {0, 2, 1, 3};
        int c = 16;
        for (int o = 0; o < 32; o++)
            for (int ch = 0; ch < c; ch++)
                for (int k = 0; k < 4; k++) {
                    assertEquals(w.getFloat(o * 64L + perm[k] * c + ch), m.getFloat(o * 64L + 4 * ch + k));
                    if (o == 0) assertEquals(nw.getFloat(perm[k] * c + ch), nm.getFloat(4 * ch + k));
                }
    }

    @Test
    void dropsMmdetsInnerStageNorms() {
        Map<String, Tensor> t = new LinkedHashMap<>(KeyMap.fromMobyc(official(), KeyMap.Target.MMDET).tensors());
        t.put("backbone.norm0.weight", Tensor.zeros(mobyc.compiler.ir.DType.F32, 16));
        t.put("neck.lateral_convs.0.conv.weight", Tensor.zeros(mobyc.compiler.ir.DType.F32, 1));
        KeyMap.Imported i = KeyMap.toMobyc(t);
        assertEquals("backbone.", i.prefix());
        assertEquals(Map.of(KeyMap.OUTSIDE + "backbone.", 1,
                "mmdet's LayerNorms of inner stage outputs (mobyc's Swin normalises the last stage only)", 1), reasons(i.dropped()));
    }

    @Test
    void exportsTimmSwinNames() {
        Map<String, Tensor> t = KeyMap.fromMobyc(official(), KeyMap.Target.TIMM).tensors();
        assertTrue(t.containsKey("layers.1.downsample.reduction.weight"));
        assertFalse(t.containsKey("layers.0.downsample.reduction.weight"));
        assertTrue(t.containsKey("head.fc.weight"));
        assertEquals(official().keySet().size(), t.size());
    }

    @Test
    void keepsAndReportsKeysNoRuleTakes() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>(PthReader.read(Fixtures.file("vit_torchvision.pth")));
        t.put("heads.pre_logits.weight", Tensor.zeros(mobyc.compiler.ir.DType.F32, 2));
        KeyMap.Imported i = KeyMap.toMobyc(t);
        assertEquals(List.of("heads.pre_logits.weight"), i.unmapped());
        assertTrue(i.tensors().containsKey("heads.pre_logits.weight"));
    }

    @Test
    void refusesARelativePositionIndexThatIsNotMobycs() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>(PthReader.read(Fixtures.file("swin_torchvision.pth")));
        Tensor index = t.get("features.3.1.attn.relative_position_index").copy();
        index.setInt(5, 0);
        t.put("features.3.1.attn.relative_position_index", index);
        var e = assertThrows(KeyMapException.class, () -> KeyMap.toMobyc(t));
        assertEquals("features.3.1.attn.relative_position_index: element 5 is 0, but the 2x2 window's relative position index "
                + "(the official Swin release's, which mobyc computes) has 4 there; the bias tables of these weights would be read wrongly",
                e.getMessage());
    }

    @Test
    void explainsWhatItCannotMap() {
        Tensor x = Tensor.zeros(mobyc.compiler.ir.DType.F32, 1);
        assertEquals("several backbones, under a., b.; choose one with --prefix",
                assertThrows(KeyMapException.class, () -> KeyMap.toMobyc(Map.of("a.patch_embed.proj.weight", x, "b.conv_proj.weight", x))).getMessage());
        assertEquals("no key starts with the prefix 'student.'",
                assertThrows(KeyMapException.class, () -> KeyMap.toMobyc(official(), "student.")).getMessage());
        assertEquals("no backbone found: no key ends with patch_embed.proj.weight, patch_embed.projection.weight, features.0.0.weight, conv_proj.weight",
                assertThrows(KeyMapException.class, () -> KeyMap.toMobyc(Map.of("fc.weight", x))).getMessage());
        assertEquals("these are Swin V2 weights (cpb_mlp, logit_scale); mobyc's swin.moby is the Swin Transformer V1",
                assertThrows(KeyMapException.class, () -> KeyMap.detect(List.of("features.0.0.weight", "features.1.0.attn.logit_scale"))).getMessage());
        assertEquals("mmdet names are for Swin backbones; these weights are a ViT",
                assertThrows(KeyMapException.class, () -> KeyMap.fromMobyc(timm(), KeyMap.Target.MMDET)).getMessage());
        assertEquals("unknown naming 'keras'; expected one of mobyc, official, timm, torchvision, mmdet",
                assertThrows(KeyMapException.class, () -> KeyMap.Target.parse("keras")).getMessage());
        assertTrue(assertThrows(KeyMapException.class, () -> KeyMap.detect(List.of("fc.weight"))).getMessage()
                .startsWith("cannot tell whose names these are"));
    }

    @Test
    void prefersMobysOnlineEncoderAndTakesASinglePrefix() {
        assertEquals("encoder.", KeyMap.detectPrefix(List.of("encoder_k.patch_embed.proj.weight", "encoder.patch_embed.proj.weight")));
        assertEquals("module.", KeyMap.detectPrefix(List.of("module.conv_proj.weight", "module.class_token")));
        assertEquals("", KeyMap.detectPrefix(List.of("patch_embed.proj.weight", "encoder.patch_embed.proj.weight")));
    }

    static Map<String, Integer> reasons(List<KeyMap.Dropped> dropped) {
        Map<String, Integer> out = new TreeMap<>();
        for (KeyMap.Dropped d : dropped) out.merge(d.reason(), 1, Integer::sum);
        return out;
    }
}
