package mobyc.runtime.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The k-slice rule both GEMMs follow. */
class KSplitTest {
    @Test
    void onlySmallOutputsWithLongKAreSplitAlongK() {
        assertEquals(4, KSplit.slices(192, 48, 16384)); // a weight gradient of small32's first stage
        assertEquals(2, KSplit.slices(96, 384, 4096));
        assertEquals(1, KSplit.slices(384, 96, 2048)); // k too short
        assertEquals(1, KSplit.slices(16384, 192, 48)); // a forward product: tall, short k
        assertEquals(1, KSplit.slices(1024, 1024, 8192)); // C too large
        assertEquals(1, KSplit.slices(768, 768, 4096)); // k under 8x the output's sides
    }
}
