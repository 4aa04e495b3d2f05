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

/** {@code struct io_uring} ({@code <liburing.h>} 2.3): the handle liburing's functions take. */
public final class IoUring {
    private IoUring() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            IoUringSq.LAYOUT.withName("sq"),
            IoUringCq.LAYOUT.withName("cq"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("ring_fd"),
            JAVA_INT.withName("features"),
            JAVA_INT.withName("enter_ring_fd"),
            JAVA_BYTE.withName("int_flags"),
            MemoryLayout.sequenceLayout(3, JAVA_BYTE).withName("pad"),
            JAVA_INT.withName("pad2")
    ).withName("io_uring");

    public static final long SQ = Native.requireOffset(LAYOUT, "sq");
    public static final long CQ = Native.requireOffset(LAYOUT, "cq");
    public static final long FLAGS = Native.requireOffset(LAYOUT, "flags");
    public static final long RING_FD = Native.requireOffset(LAYOUT, "ring_fd");
    public static final long FEATURES = Native.requireOffset(LAYOUT, "features");

    public static MemorySegment sq(MemorySegment s) { return s.asSlice(SQ, IoUringSq.LAYOUT); }
    public static MemorySegment cq(MemorySegment s) { return s.asSlice(CQ, IoUringCq.LAYOUT); }
    public static int flags(MemorySegment s) { return s.get(JAVA_INT, FLAGS); }
    public static int ring_fd(MemorySegment s) { return s.get(JAVA_INT, RING_FD); }
    public static int features(MemorySegment s) { return s.get(JAVA_INT, FEATURES); }
}
