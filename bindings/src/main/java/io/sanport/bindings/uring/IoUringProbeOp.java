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

/** {@code struct io_uring_probe_op} ({@code <liburing/io_uring.h>}). */
public final class IoUringProbeOp {
    private IoUringProbeOp() {}

    /** IO_URING_OP_SUPPORTED in {@code flags}. */
    public static final int IO_URING_OP_SUPPORTED = 1;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("op"),
            JAVA_BYTE.withName("resv"),
            JAVA_SHORT.withName("flags"),
            JAVA_INT.withName("resv2")
    ).withName("io_uring_probe_op");

    private static final long FLAGS = Native.requireOffset(LAYOUT, "flags");

    public static int flags(MemorySegment s) { return Short.toUnsignedInt(s.get(JAVA_SHORT, FLAGS)); }
}
