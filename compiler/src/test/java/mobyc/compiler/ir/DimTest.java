package mobyc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/** Dimensions are integer polynomials over symbolic sizes: exact arithmetic, exact division, stable text. */
class DimTest {
    static final Dim B = Dim.sym("B"), N = Dim.sym("N"), H = Dim.sym("H");

    static Dim c(long v) { return Dim.of(v); }

    @Test
    void constantsAndSymbols() {
        assertTrue(c(7).isConstant());
        assertEquals(7, c(7).constant());
        assertTrue(c(0).isConstant());
        assertEquals(0, c(0).constant());
        assertFalse(B.isConstant());
        var e = assertThrows(IllegalStateException.class, B::constant);
        assertEquals("dimension B is symbolic", e.getMessage());
        assertEquals(List.of("B", "N"), B.times(N).plus(H.minus(H)).symbols());
        assertEquals(List.of("B", "H", "N"), N.plus(H.times(B)).symbols());
    }

    @Test
    void textIsStable() {
        assertEquals("0", c(0).toString());
        assertEquals("12", c(12).toString());
        assertEquals("-3", c(-3).toString());
        assertEquals("B", B.toString());
        assertEquals("4*B", c(4).times(B).toString());
        assertEquals("4*B", B.times(c(4)).toString());
        assertEquals("2*B*N+3", c(2).times(B).times(N).plus(c(3)).toString());
        assertEquals("2*B*N+3", c(3).plus(N.times(B).times(c(2))).toString());
        assertEquals("B*N+H+1", c(1).plus(H).plus(N.times(B)).toString());
        assertEquals("B-1", B.minus(c(1)).toString());
        assertEquals("-B+1", c(1).minus(B).toString());
        assertEquals("-2*B", B.times(c(-2)).toString());
        assertEquals("B*B", B.times(B).toString());
        assertEquals("B*N-H", B.times(N).minus(H).toString());
    }

    @Test
    void arithmeticIsExactAndCanonical() {
        assertEquals(c(1), B.plus(c(1)).minus(B));
        assertTrue(B.plus(c(1)).minus(B).isConstant());
        assertEquals(c(0), B.minus(B));
        assertEquals(B.times(N), N.times(B));
        assertEquals(B.times(N).hashCode(), N.times(B).hashCode());
        // (B + 1)(B - 1) = B*B - 1
        assertEquals("B*B-1", B.plus(c(1)).times(B.minus(c(1))).toString());
        assertEquals(c(0), B.times(c(0)));
        assertNotEquals(B, N);
        assertNotEquals(c(2).times(B), B.plus(c(2)));
    }

    @Test
    void arithmeticOverflowIsAnError() {
        assertThrows(ArithmeticException.class, () -> c(Long.MAX_VALUE).plus(c(1)));
        assertThrows(ArithmeticException.class, () -> c(Long.MAX_VALUE).times(B).times(c(2)));
    }

    @Test
    void exactDivisionSucceeds() {
        assertEquals(c(2).times(B), c(4).times(B).dividedBy(c(2)));
        assertEquals(c(2).times(B), c(4).times(B).times(N).dividedBy(c(2).times(N)));
        assertEquals("3*B+2", c(6).times(B).plus(c(4)).dividedBy(c(2)).toString());
        assertEquals(c(1), B.dividedBy(B));
        assertEquals(c(1), B.plus(c(1)).dividedBy(B.plus(c(1))));
        assertEquals(c(0), c(0).dividedBy(B));
        assertEquals(c(-2), c(-4).dividedBy(c(2)));
        assertEquals(N, B.times(N).dividedBy(B));
        assertEquals(c(2), c(4).times(B).dividedBy(c(2).times(B)));
    }

    @Test
    void inexactDivisionFails() {
        assertNull(c(4).times(B).dividedBy(c(3)), "4*B / 3");
        assertNull(B.dividedBy(N), "B / N");
        assertNull(c(7).dividedBy(c(2)), "7 / 2");
        assertNull(B.dividedBy(c(0)), "B / 0");
        assertNull(c(5).dividedBy(c(0)), "5 / 0");
        assertNull(B.plus(c(1)).dividedBy(B), "(B+1) / B");
        assertNull(c(2).dividedBy(B), "2 / B");
        assertNull(c(6).times(B).plus(c(3)).dividedBy(c(2)), "(6*B+3) / 2");
    }

    @Test
    void divisionByAPolynomialWithSeveralTerms() {
        Dim np1 = N.plus(c(1));
        assertEquals(B, B.times(np1).dividedBy(np1));
        assertEquals(c(2), c(2).times(B).plus(c(2)).dividedBy(B.plus(c(1))));
    }

    @Test
    void evaluate() {
        Dim d = c(2).times(B).times(N).plus(c(3));
        assertEquals(43, d.evaluate(Map.of("B", 4L, "N", 5L)));
        assertEquals(3, d.evaluate(Map.of("B", 0L, "N", 5L)));
        assertEquals(-1, B.minus(c(2)).evaluate(Map.of("B", 1L)));
        assertEquals(9, c(9).evaluate(Map.of()));
        var e = assertThrows(IllegalArgumentException.class, () -> d.evaluate(Map.of("B", 4L)));
        assertEquals("no value for dimension N", e.getMessage());
        assertThrows(ArithmeticException.class, () -> B.times(B).evaluate(Map.of("B", 1L << 40)));
    }

    @Test
    void substitute() {
        Dim d = c(2).times(B).plus(c(1));
        assertEquals("6*N+1", d.substitute(Map.of("B", c(3).times(N))).toString());
        assertEquals(c(9), d.substitute(Map.of("B", c(4))));
        assertEquals(d, d.substitute(Map.of("H", c(4))));
        assertEquals("B*H+H*N", B.plus(N).times(H).substitute(Map.of()).toString());
    }

    @Test
    void shapeHelpers() {
        Shape s = Shape.of(B, c(4), N);
        assertEquals("[B, 4, N]", s.toString());
        assertEquals("4*B*N", s.numel().toString());
        assertEquals(List.of("B", "N"), s.symbols());
        assertFalse(s.isConcrete());
        assertEquals(2, s.axis(-1));
        assertEquals(-1, s.axis(3));
        assertEquals(-1, s.axis(-4));
        assertEquals("[]", Shape.SCALAR.toString());
        assertEquals(c(1), Shape.SCALAR.numel());
        assertEquals(List.of(2L, 4L, 3L), java.util.Arrays.stream(s.evaluate(Map.of("B", 2L, "N", 3L))).boxed().toList());
        assertEquals(List.of(2L, 3L), java.util.Arrays.stream(Shape.of(2, 3).concrete()).boxed().toList());
    }
}
