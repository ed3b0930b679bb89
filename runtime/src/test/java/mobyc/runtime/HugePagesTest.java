package mobyc.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class HugePagesTest {
    @Test void largeBuffersAreZeroedWritableAndHugePageAlignedWhereAvailable() {
        long bytes = 5 * HugePages.SIZE + 12;
        MemorySegment s = HugePages.allocate(bytes, 64);
        assertEquals(bytes, s.byteSize());
        if (HugePages.available()) assertEquals(0, s.address() % HugePages.SIZE);
        for (long i = 0; i < bytes; i += 4093) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i));
        s.set(ValueLayout.JAVA_FLOAT_UNALIGNED, bytes - 4, 3.5f);
        s.set(ValueLayout.JAVA_FLOAT, 0, -1f);
        assertEquals(3.5f, s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bytes - 4));
        assertEquals(-1f, s.get(ValueLayout.JAVA_FLOAT, 0));
    }

    @Test void smallBuffersAreOrdinaryAndKeepTheirAlignment() {
        MemorySegment s = HugePages.allocate(1000, 256);
        assertEquals(1000, s.byteSize());
        assertEquals(0, s.address() % 256);
        for (long i = 0; i < 1000; i++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i));
    }

    @Test void buffersAreUsableFromOtherThreadsAndManyCanComeAndGo() throws Exception {
        MemorySegment s = HugePages.allocate(HugePages.SIZE * 2, 64);
        Thread t = Thread.ofPlatform().start(() -> s.set(ValueLayout.JAVA_INT, 8, 42));
        t.join();
        assertEquals(42, s.get(ValueLayout.JAVA_INT, 8));
        for (int i = 0; i < 200; i++) assertTrue(HugePages.allocate(3 * HugePages.SIZE, 64).byteSize() > 0); // freed by the GC
    }
}
