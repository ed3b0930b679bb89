package mobyc.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Scratch memory of one executable (im2col columns and the like): it grows to the largest request and is reused
 * from kernel to kernel and run to run, so a steady stream of runs allocates none.
 */
final class Workspace {
    private MemorySegment floats = MemorySegment.NULL;

    /** A segment of at least {@code n} floats; its contents are whatever the previous user left. */
    MemorySegment floats(long n) {
        if (floats.byteSize() < n * 4) floats = Arena.ofAuto().allocate(Math.max(n * 4, 64), 64);
        return floats;
    }
}
