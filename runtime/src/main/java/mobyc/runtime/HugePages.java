package mobyc.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Large off-heap buffers backed by transparent huge pages (2 MiB) where Linux gives them on request
 * ({@code /sys/kernel/mm/transparent_hugepage/enabled} = madvise, the common default): the buffer is mapped
 * anonymously ({@code mmap}, zero pages that are not touched yet), 2 MiB aligned, and advised
 * {@code MADV_HUGEPAGE} before its first touch, so that it faults in as huge pages; it is unmapped when the segment
 * becomes unreachable. A training step streams hundreds of MB of activations through its kernels; on 4 KiB pages
 * each 4 KiB needs its own TLB entry. Elsewhere (not Linux, no libc symbols, or {@code -Dmobyc.hugepages=false})
 * the buffer is an ordinary zeroed {@code Arena.ofAuto()} one.
 */
public final class HugePages {
    /** 2 MiB: the x86-64 and AArch64 (4 KiB granule) huge page. */
    public static final long SIZE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x3, MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20, MADV_HUGEPAGE = 14;
    private static final Libc LIBC = Libc.load();

    private HugePages() {}

    /** Zeroed memory of {@code bytes}, freed when unreachable; huge-page backed when at least {@link #SIZE} and possible. */
    public static MemorySegment allocate(long bytes, long alignment) {
        if (bytes < SIZE || LIBC == null || alignment > SIZE) return Arena.ofAuto().allocate(bytes, alignment);
        long mapped = bytes + SIZE;
        MemorySegment base;
        try {
            base = (MemorySegment) LIBC.mmap.invokeExact(MemorySegment.NULL, mapped, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            return Arena.ofAuto().allocate(bytes, alignment);
        }
        if (base.address() == -1L) return Arena.ofAuto().allocate(bytes, alignment); // MAP_FAILED
        long start = (base.address() + SIZE - 1) & -SIZE;
        MemorySegment s = MemorySegment.ofAddress(start);
        try {
            int ignored = (int) LIBC.madvise.invokeExact(s, bytes, MADV_HUGEPAGE); // a hint: without it, ordinary pages
        } catch (Throwable ignored) {
            // ordinary pages serve as well, only slower
        }
        long baseAddress = base.address();
        return reinterpret(s, bytes, () -> unmap(baseAddress, mapped));
    }

    /** Whether this process can ask for huge pages. */
    public static boolean available() { return LIBC != null; }

    @SuppressWarnings("restricted") // a raw mapping given its size and an automatic lifetime
    private static MemorySegment reinterpret(MemorySegment s, long bytes, Runnable free) {
        return s.reinterpret(bytes, Arena.ofAuto(), ignored -> free.run());
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) LIBC.munmap.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable ignored) {
            // nothing to do: the process keeps the mapping
        }
    }

    private record Libc(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        @SuppressWarnings("restricted") // mmap, madvise and munmap through the FFM API
        static Libc load() {
            if ("false".equalsIgnoreCase(System.getProperty("mobyc.hugepages"))
                    || !System.getProperty("os.name", "").startsWith("Linux")) return null;
            try {
                Linker linker = Linker.nativeLinker();
                var lookup = linker.defaultLookup();
                ValueLayout.OfInt I = ValueLayout.JAVA_INT;
                ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
                var P = ValueLayout.ADDRESS;
                return new Libc(
                        linker.downcallHandle(lookup.find("mmap").orElseThrow(), FunctionDescriptor.of(P, P, L, I, I, I, L)),
                        linker.downcallHandle(lookup.find("madvise").orElseThrow(), FunctionDescriptor.of(I, P, L, I)),
                        linker.downcallHandle(lookup.find("munmap").orElseThrow(), FunctionDescriptor.of(I, P, L)));
            } catch (RuntimeException e) {
                return null;
            }
        }
    }
}
