package mobyc.runtime.cpu.codegen;

import java.lang.foreign.MemorySegment;

/**
 * A compiled fused elementwise kernel, one contiguous run at a time: writes {@code len} output elements from element
 * {@code o} of {@code out}. Input {@code k} is read from element {@code base[k]} on: advancing with the output when
 * the kernel reads it along the output's last axis, one repeated value otherwise (the kernel IR says which). Elements
 * are 4 bytes, little-endian, indices in elements. The caller walks the rows and splits the work over threads.
 */
public interface FusedCode {
    void run(MemorySegment[] in, long[] base, MemorySegment out, long o, int len);
}
