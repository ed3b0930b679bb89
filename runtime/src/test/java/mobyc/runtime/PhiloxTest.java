package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Known-answer vectors from Random123's kat_vectors for philox4x32 with 10 rounds. */
class PhiloxTest {
    @Test
    void zeroCounterZeroKey() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox.philox4x32_10(0, 0, 0, 0, 0, 0));
    }

    @Test
    void allOnes() {
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox.philox4x32_10(-1, -1, -1, -1, -1, -1));
    }

    @Test
    void digitsOfPi() {
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.philox4x32_10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void uniformIsTheTop24BitsOfTheFirstWordOfTheDocumentedCounter() {
        long seed = 0x1234_5678_9abc_def0L, step = 3, stream = 0x0000_0001_0000_0002L, element = (5L << 32) | 7;
        int[] block = Philox.philox4x32_10(7, 5, 3, 2 ^ 1, 0x9abcdef0, 0x12345678);
        float u = Philox.uniform(seed, step, stream, element);
        assertEquals((block[0] >>> 8) * 0x1.0p-24f, u);
        assertTrue(u >= 0f && u < 1f);
    }

    @Test
    void uniformsAreSpreadOverTheUnitInterval() {
        double sum = 0, sumSq = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            float u = Philox.uniform(42, 0, 1, i);
            assertTrue(u >= 0f && u < 1f);
            sum += u;
            sumSq += u * u;
        }
        assertEquals(0.5, sum / n, 0.01);
        assertEquals(1.0 / 12, sumSq / n - (sum / n) * (sum / n), 0.005);
        assertNotEquals(Philox.uniform(42, 0, 1, 0), Philox.uniform(42, 1, 1, 0), "the step changes the numbers");
    }

    @Test
    void normalsHaveMeanZeroAndUnitVariance() {
        double sum = 0, sumSq = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            double z = Philox.normal(7, 0, 9, i);
            sum += z;
            sumSq += z * z;
        }
        assertEquals(0.0, sum / n, 0.03);
        assertEquals(1.0, sumSq / n, 0.04);
    }
}
