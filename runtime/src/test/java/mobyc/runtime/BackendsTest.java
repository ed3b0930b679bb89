package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mobyc.runtime.interp.InterpBackend;
import org.junit.jupiter.api.Test;

class BackendsTest {
    @Test
    void interpIsRegisteredAvailableAndRankZero() {
        Backend b = Backends.select("interp");
        assertInstanceOf(InterpBackend.class, b);
        assertEquals(0, b.rank());
        assertTrue(b.isAvailable());
        assertTrue(Backends.all().stream().anyMatch(x -> x.name().equals("interp")));
    }

    @Test
    void defaultIsTheHighestRankedAvailable() {
        Backend expected = Backends.available().getFirst();
        assertEquals(expected.name(), Backends.select(null).name());
        for (Backend b : Backends.available()) assertTrue(b.rank() <= expected.rank());
    }

    @Test
    void unknownNameListsWhatExists() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.select("x"));
        assertTrue(e.getMessage().startsWith("unknown backend 'x'; available: "), e.getMessage());
        assertTrue(e.getMessage().contains("interp"), e.getMessage());
    }

    @Test
    void propertyOverridesTheDefault() {
        String old = System.getProperty(Backends.PROPERTY);
        try {
            System.setProperty(Backends.PROPERTY, "interp");
            assertEquals("interp", Backends.select(null).name());
            System.setProperty(Backends.PROPERTY, "nope");
            var e = assertThrows(IllegalArgumentException.class, () -> Backends.select(null));
            assertTrue(e.getMessage().startsWith("unknown backend 'nope'"), e.getMessage());
            assertEquals("interp", Backends.select("interp").name(), "an explicit name wins over the property");
        } finally {
            if (old == null) System.clearProperty(Backends.PROPERTY);
            else System.setProperty(Backends.PROPERTY, old);
        }
    }
}
