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

/** {@code struct io_uring_params} ({@code <liburing/io_uring.h>}): what io_uring_setup(2) takes and returns. */
public final class IoUringParams {
    private IoUringParams() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("sq_entries"),
            JAVA_INT.withName("cq_entries"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("sq_thread_cpu"),
            JAVA_INT.withName("sq_thread_idle"),
            JAVA_INT.withName("features"),
            JAVA_INT.withName("wq_fd"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv"),
            IoSqringOffsets.LAYOUT.withName("sq_off"),
            IoCqringOffsets.LAYOUT.withName("cq_off")
    ).withName("io_uring_params");

    private static final long SQ_ENTRIES = Native.requireOffset(LAYOUT, "sq_entries");
    private static final long CQ_ENTRIES = Native.requireOffset(LAYOUT, "cq_entries");
    private static final long FLAGS = Native.requireOffset(LAYOUT, "flags");
    private static final long FEATURES = Native.requireOffset(LAYOUT, "features");

    public static int sq_entries(MemorySegment s) { return s.get(JAVA_INT, SQ_ENTRIES); }
    public static int cq_entries(MemorySegment s) { return s.get(JAVA_INT, CQ_ENTRIES); }
    public static void cq_entries(MemorySegment s, int v) { s.set(JAVA_INT, CQ_ENTRIES, v); }
    public static int flags(MemorySegment s) { return s.get(JAVA_INT, FLAGS); }
    public static void flags(MemorySegment s, int v) { s.set(JAVA_INT, FLAGS, v); }
    public static int features(MemorySegment s) { return s.get(JAVA_INT, FEATURES); }
}
