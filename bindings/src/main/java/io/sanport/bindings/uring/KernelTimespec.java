package io.sanport.bindings.uring;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct __kernel_timespec} ({@code <linux/time_types.h>}, via {@code <liburing.h>}). */
public final class KernelTimespec {
    private KernelTimespec() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"),
            JAVA_LONG.withName("tv_nsec")
    ).withName("__kernel_timespec");

    private static final long TV_SEC = Native.requireOffset(LAYOUT, "tv_sec");
    private static final long TV_NSEC = Native.requireOffset(LAYOUT, "tv_nsec");

    public static void tv_sec(MemorySegment s, long v) { s.set(JAVA_LONG, TV_SEC, v); }
    public static void tv_nsec(MemorySegment s, long v) { s.set(JAVA_LONG, TV_NSEC, v); }
}
