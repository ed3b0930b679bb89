package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The attention kernels' small loops against their scalar definitions (the kernels as a whole: AttentionFusionTest). */
class AttentionTilesTest {
    /**
     * The per-head transpose (by 16 x 16 tiles in registers where vectors are 16 floats and the head dim is a multiple
     * of 16, else by gathers) puts scale * src[off + map[i] + d] at dst[d * dS + i], padding lanes repeating the last
     * real row: windows of 16 tokens (Swin with window 4), 49 padded to 64 (window 7), 7 padded to a vector, head dims
     * 16, 32 and 24, at an offset inside a qkv row.
     */
    @Test
    void transposeEqualsItsScalarDefinition() {
        java.util.Random rnd = new java.util.Random(4);
        for (int[] c : new int[][] {{16, 16}, {49, 32}, {7, 16}, {16, 24}, {49, 48}}) {
            int n = c[0], hd = c[1], np = Math.max(Simd.FL, (n + Simd.FL - 1) / Simd.FL * Simd.FL), stride = 3 * hd * 2 + 5, off = hd + 3;
            float[] src = new float[n * stride + off + hd];
            for (int i = 0; i < src.length; i++) src[i] = (float) rnd.nextGaussian();
            int[] map = AttentionTiles.rowMap(n, np, stride);
            int dS = np + Simd.FL;
            float[] dst = new float[hd * dS];
            float scale = 0.17677669f;
            AttentionTiles.transpose(src, off, map, np, hd, scale, dst, dS);
            for (int d = 0; d < hd; d++)
                for (int i = 0; i < np; i++)
                    assertEquals(Float.floatToRawIntBits(scale * src[off + Math.min(i, n - 1) * stride + d]), Float.floatToRawIntBits(dst[d * dS + i]),
                            "n " + n + ", hd " + hd + ": d " + d + ", i " + i);
        }
    }
}
