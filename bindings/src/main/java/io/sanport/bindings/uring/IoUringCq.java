package io.sanport.bindings.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct io_uring_cq} ({@code <liburing.h>} 2.3): liburing's view of the mapped completion ring. */
public final class IoUringCq {
    private IoUringCq() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("khead"),
            ADDRESS.withName("ktail"),
            ADDRESS.withName("kring_mask"),
            ADDRESS.withName("kring_entries"),
            ADDRESS.withName("kflags"),
            ADDRESS.withName("koverflow"),
            ADDRESS.withName("cqes"),
            JAVA_LONG.withName("ring_sz"),
            ADDRESS.withName("ring_ptr"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            MemoryLayout.sequenceLayout(2, JAVA_INT).withName("pad")
    ).withName("io_uring_cq");

    public static final long KHEAD = Native.requireOffset(LAYOUT, "khead");
    public static final long KTAIL = Native.requireOffset(LAYOUT, "ktail");
    public static final long KOVERFLOW = Native.requireOffset(LAYOUT, "koverflow");
    public static final long CQES = Native.requireOffset(LAYOUT, "cqes");
    public static final long RING_MASK = Native.requireOffset(LAYOUT, "ring_mask");
    public static final long RING_ENTRIES = Native.requireOffset(LAYOUT, "ring_entries");

    public static MemorySegment khead(MemorySegment s) { return s.get(ADDRESS, KHEAD); }
    public static MemorySegment ktail(MemorySegment s) { return s.get(ADDRESS, KTAIL); }
    public static MemorySegment koverflow(MemorySegment s) { return s.get(ADDRESS, KOVERFLOW); }
    public static MemorySegment cqes(MemorySegment s) { return s.get(ADDRESS, CQES); }
    public static int ring_mask(MemorySegment s) { return s.get(JAVA_INT, RING_MASK); }
    public static int ring_entries(MemorySegment s) { return s.get(JAVA_INT, RING_ENTRIES); }
}
