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

/** {@code struct io_uring_sq} ({@code <liburing.h>} 2.3): liburing's view of the mapped submission ring. */
public final class IoUringSq {
    private IoUringSq() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("khead"),
            ADDRESS.withName("ktail"),
            ADDRESS.withName("kring_mask"),
            ADDRESS.withName("kring_entries"),
            ADDRESS.withName("kflags"),
            ADDRESS.withName("kdropped"),
            ADDRESS.withName("array"),
            ADDRESS.withName("sqes"),
            JAVA_INT.withName("sqe_head"),
            JAVA_INT.withName("sqe_tail"),
            JAVA_LONG.withName("ring_sz"),
            ADDRESS.withName("ring_ptr"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            MemoryLayout.sequenceLayout(2, JAVA_INT).withName("pad")
    ).withName("io_uring_sq");

    public static final long KHEAD = Native.requireOffset(LAYOUT, "khead");
    public static final long KTAIL = Native.requireOffset(LAYOUT, "ktail");
    public static final long KFLAGS = Native.requireOffset(LAYOUT, "kflags");
    public static final long ARRAY = Native.requireOffset(LAYOUT, "array");
    public static final long SQES = Native.requireOffset(LAYOUT, "sqes");
    public static final long SQE_HEAD = Native.requireOffset(LAYOUT, "sqe_head");
    public static final long SQE_TAIL = Native.requireOffset(LAYOUT, "sqe_tail");
    public static final long RING_MASK = Native.requireOffset(LAYOUT, "ring_mask");
    public static final long RING_ENTRIES = Native.requireOffset(LAYOUT, "ring_entries");

    public static MemorySegment khead(MemorySegment s) { return s.get(ADDRESS, KHEAD); }
    public static MemorySegment ktail(MemorySegment s) { return s.get(ADDRESS, KTAIL); }
    public static MemorySegment kflags(MemorySegment s) { return s.get(ADDRESS, KFLAGS); }
    public static MemorySegment array(MemorySegment s) { return s.get(ADDRESS, ARRAY); }
    public static MemorySegment sqes(MemorySegment s) { return s.get(ADDRESS, SQES); }
    public static int sqe_head(MemorySegment s) { return s.get(JAVA_INT, SQE_HEAD); }
    public static void sqe_head(MemorySegment s, int v) { s.set(JAVA_INT, SQE_HEAD, v); }
    public static int sqe_tail(MemorySegment s) { return s.get(JAVA_INT, SQE_TAIL); }
    public static void sqe_tail(MemorySegment s, int v) { s.set(JAVA_INT, SQE_TAIL, v); }
    public static int ring_mask(MemorySegment s) { return s.get(JAVA_INT, RING_MASK); }
    public static int ring_entries(MemorySegment s) { return s.get(JAVA_INT, RING_ENTRIES); }
}
