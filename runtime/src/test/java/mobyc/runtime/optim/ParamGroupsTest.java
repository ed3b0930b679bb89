package mobyc.runtime.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mobyc.compiler.ir.DType;
import mobyc.runtime.Tensor;
import org.junit.jupiter.api.Test;

class ParamGroupsTest {
    static String reason(String path, long... shape) { return ParamGroups.noDecayReason(path, shape); }

    @Test
    void swinParameters() {
        assertNull(reason("encoder.patch_embed.proj.weight", 96, 3, 4, 4));
        assertEquals("bias", reason("encoder.patch_embed.proj.bias", 96));
        assertEquals("1-D", reason("encoder.patch_embed.norm.weight", 96));
        assertEquals("position embedding", reason("encoder.absolute_pos_embed", 1, 3136, 96));
        assertEquals("relative position bias table", reason("encoder.layers.0.blocks.0.attn.relative_position_bias_table", 169, 3));
        assertNull(reason("encoder.layers.0.blocks.0.attn.qkv.weight", 288, 96));
        assertEquals("bias", reason("encoder.layers.0.blocks.0.attn.qkv.bias", 288));
        assertNull(reason("encoder.layers.0.downsample.reduction.weight", 192, 384));
        assertNull(reason("projector.linear1.weight", 4096, 768));
        assertEquals("1-D", reason("projector.bn1.weight", 4096));
    }

    @Test
    void deitParameters() {
        assertEquals("class token", reason("cls_token", 1, 1, 384));
        assertEquals("class token", reason("encoder.dist_token", 1, 1, 384));
        assertEquals("position embedding", reason("pos_embed", 1, 197, 384));
        assertEquals("bias", reason("blocks.0.attn.q_bias", 384));
        assertNull(reason("blocks.0.mlp.fc1.weight", 1536, 384));
        assertNull(reason("patch_embed.proj.weight", 384, 3, 16, 16));
    }

    @Test
    void nameRulesMatchWholeSegmentsAndSuffixes() {
        assertNull(reason("my_pos_embed", 1, 4, 8));
        assertNull(reason("cls_token_proj.weight", 4, 4));
        assertNull(reason("bias_net.weight", 4, 4));
        assertEquals("bias", reason("head.bias", 2, 2));
        assertEquals("0-D", reason("logit_scale"));
    }

    @Test
    void fromAMapInItsOrder() {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("b.weight", Tensor.zeros(DType.F32, 2, 2));
        params.put("a.bias", Tensor.zeros(DType.F32, 2));
        ParamGroups g = ParamGroups.of(params);
        assertEquals(List.of("b.weight", "a.bias"), g.paths());
        assertEquals(true, g.decays(0));
        assertEquals(false, g.decays(1));
        assertEquals(List.of(params.get("b.weight"), params.get("a.bias")), g.select(Map.of("a.bias", params.get("a.bias"),
                "b.weight", params.get("b.weight"))));
        assertThrows(IllegalArgumentException.class, () -> g.select(Map.of("b.weight", params.get("b.weight"))));
        assertThrows(IllegalArgumentException.class, () -> ParamGroups.of(List.of("x", "x"), List.of(new long[] {1}, new long[] {1})));
    }

    @Test
    void describePrintsOneAlignedLinePerParameterAndTotals() {
        ParamGroups g = ParamGroups.of(List.of("absolute_pos_embed", "layers.0.attn.qkv.weight", "layers.0.attn.qkv.bias"),
                List.of(new long[] {1, 16, 8}, new long[] {24, 8}, new long[] {24}));
        assertEquals("""
                absolute_pos_embed        [1, 16, 8]  no decay (position embedding)
                layers.0.attn.qkv.weight  [24, 8]     decay
                layers.0.attn.qkv.bias    [24]        no decay (bias)
                3 parameters (344 elements): 1 decay (192 elements), 2 no decay (152 elements)
                """, g.describe().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void theGoldenGroupsFollowTheRule() {
        ParamGroups g = Goldens.groups();
        for (int i = 0; i < g.size(); i++)
            assertEquals(Goldens.META.get("decay").get(i).asBoolean(), g.decays(i), g.path(i));
    }
}
