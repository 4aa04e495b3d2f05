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

/** {@code struct io_uring_cqe} ({@code <liburing/io_uring.h>}): the 16-byte completion entry. */
public final class IoUringCqe {
    private IoUringCqe() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("user_data"),
            JAVA_INT.withName("res"),
            JAVA_INT.withName("flags")
    ).withName("io_uring_cqe");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long USER_DATA = Native.requireOffset(LAYOUT, "user_data");
    public static final long RES = Native.requireOffset(LAYOUT, "res");
    public static final long FLAGS = Native.requireOffset(LAYOUT, "flags");

    public static long user_data(MemorySegment s, long at) { return s.get(JAVA_LONG, at + USER_DATA); }
    public static int res(MemorySegment s, long at) { return s.get(JAVA_INT, at + RES); }
    public static int flags(MemorySegment s, long at) { return s.get(JAVA_INT, at + FLAGS); }
}
