package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SpecialFunctionsTest {
    private static void close(double expected, double actual, double relative) {
        assertEquals(expected, actual, Math.abs(expected) * relative, () -> "expected " + expected + ", got " + actual);
    }

    @Test
    void erfKnownValues() {
        close(0.5204998778130465, SpecialFunctions.erf(0.5), 1e-15);
        close(0.8427007929497149, SpecialFunctions.erf(1.0), 1e-15);
        close(-0.9953222650189527, SpecialFunctions.erf(-2.0), 1e-15);
        close(0.9999992569016276, SpecialFunctions.erf(3.5), 1e-15);
        close(0.1124629160182849, SpecialFunctions.erf(0.1), 1e-15);
        close(1.1283791670955126e-10, SpecialFunctions.erf(1e-10), 1e-15);
        close(0.9661051464753108, SpecialFunctions.erf(1.5), 1e-15);
        close(0.9995930479825550, SpecialFunctions.erf(2.5), 1e-15);
        assertEquals(0.0, SpecialFunctions.erf(0.0));
        assertEquals(1.0, SpecialFunctions.erf(30.0));
        assertEquals(-1.0, SpecialFunctions.erf(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(SpecialFunctions.erf(Double.NaN)));
    }

    @Test
    void erfcKnownValuesKeepRelativeAccuracyInTheTail() {
        close(0.15729920705028513, SpecialFunctions.erfc(1.0), 1e-14);
        close(0.004677734981047265, SpecialFunctions.erfc(2.0), 1e-14);
        close(2.2090496998585438e-05, SpecialFunctions.erfc(3.0), 1e-14);
        close(1.5374597944280351e-12, SpecialFunctions.erfc(5.0), 1e-14);
        close(2.088487583762545e-45, SpecialFunctions.erfc(10.0), 1e-13);
        close(1.5204998778130465, SpecialFunctions.erfc(-0.5), 1e-15);
        close(1.9953222650189528, SpecialFunctions.erfc(-2.0), 1e-15);
        assertEquals(0.0, SpecialFunctions.erfc(Double.POSITIVE_INFINITY));
    }

    @Test
    void erfinvKnownValuesAndRoundTrips() {
        close(0.4769362762044699, SpecialFunctions.erfinv(0.5), 1e-14);
        close(-0.4769362762044699, SpecialFunctions.erfinv(-0.5), 1e-14);
        close(1.1630871536766742, SpecialFunctions.erfinv(0.9), 1e-14);
        close(3.4589107372754988, SpecialFunctions.erfinv(0.999999), 1e-13);
        assertEquals(0.0, SpecialFunctions.erfinv(0.0));
        assertEquals(Double.POSITIVE_INFINITY, SpecialFunctions.erfinv(1.0));
        assertEquals(Double.NEGATIVE_INFINITY, SpecialFunctions.erfinv(-1.0));
        assertTrue(Double.isNaN(SpecialFunctions.erfinv(1.5)));
        for (double x = -2; x <= 2; x += 0.0625) close(x, SpecialFunctions.erfinv(SpecialFunctions.erf(x)), 1e-13);
        for (double y = -0.999; y < 1.0; y += 0.001) close(y, SpecialFunctions.erf(SpecialFunctions.erfinv(y)), 1e-14);
        // near 1 only the complement carries information: erfc(erfinv(1 - d)) must give d back
        for (double d : new double[] {1e-3, 1e-8, 1e-12, 0x1.0p-50}) {
            double y = 1 - d, complement = 1 - y; // the complement y really has
            close(complement, SpecialFunctions.erfc(SpecialFunctions.erfinv(y)), 1e-13);
        }
    }

    @Test
    void normalCdf() {
        assertEquals(0.5, SpecialFunctions.normalCdf(0.0));
        close(0.9772498680518208, SpecialFunctions.normalCdf(2.0), 1e-15);
        close(0.02275013194817922, SpecialFunctions.normalCdf(-2.0), 1e-14);
    }
}
