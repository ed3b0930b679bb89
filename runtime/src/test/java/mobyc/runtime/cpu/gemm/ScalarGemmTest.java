package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The oracle itself, by hand: every transpose, alpha/beta, offsets and padded leading dimensions. */
class ScalarGemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private static MemorySegment of(Arena arena, float... v) {
        MemorySegment s = arena.allocate((long) v.length * Float.BYTES);
        MemorySegment.copy(v, 0, s, F, 0, v.length);
        return s;
    }

    @Test
    void byHand() {
        try (Arena arena = Arena.ofConfined()) {
            // A = [1 2 3; 4 5 6], B = [7 8; 9 10; 11 12], A*B = [58 64; 139 154]
            MemorySegment a = of(arena, 1, 2, 3, 4, 5, 6), at = of(arena, 1, 4, 2, 5, 3, 6);
            MemorySegment b = of(arena, 7, 8, 9, 10, 11, 12), bt = of(arena, 7, 9, 11, 8, 10, 12);
            ScalarGemm g = new ScalarGemm();
            for (int mode = 0; mode < 4; mode++) {
                boolean ta = (mode & 2) != 0, tb = (mode & 1) != 0;
                MemorySegment c = of(arena, 1, 1, 1, 1);
                g.sgemm(ta, tb, 2, 2, 3, 1f, ta ? at : a, 0, ta ? 2 : 3, tb ? bt : b, 0, tb ? 3 : 2, 0f, c, 0, 2);
                assertArrayEquals(new float[] {58, 64, 139, 154}, c.toArray(F), "mode " + mode);
            }
            // C = 2*A*B - C, C at offset 1 with ld 3 (one padding float per row stays put).
            MemorySegment c = of(arena, -1, 1, 2, 9, 3, 4, 9);
            g.sgemm(false, false, 2, 2, 3, 2f, a, 0, 3, b, 0, 2, -1f, c, 1, 3);
            assertArrayEquals(new float[] {-1, 115, 126, 9, 275, 304, 9}, c.toArray(F));
            // beta = 0 overwrites NaN; alpha = 0 only scales.
            MemorySegment nan = of(arena, Float.NaN, Float.NaN, Float.NaN, Float.NaN);
            g.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, nan, 0, 2);
            assertArrayEquals(new float[] {58, 64, 139, 154}, nan.toArray(F));
            g.sgemm(false, false, 2, 2, 3, 0f, a, 0, 3, b, 0, 2, 0.5f, nan, 0, 2);
            assertArrayEquals(new float[] {29, 32, 69.5f, 77}, nan.toArray(F));
        }
    }
}
