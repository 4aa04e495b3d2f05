package io.sanport.bindings.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_uring_getevents_arg} ({@code <liburing/io_uring.h>}): io_uring_enter's argument with
 * IORING_ENTER_EXT_ARG. Linux 6.12 renamed {@code pad} to {@code min_wait_usec} (same offset and size); the
 * headers bound here (liburing 2.3) still call it {@code pad}, and a kernel without IORING_FEAT_MIN_TIMEOUT
 * refuses a non-zero value with EINVAL.
 */
public final class IoUringGeteventsArg {
    private IoUringGeteventsArg() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("sigmask"),
            JAVA_INT.withName("sigmask_sz"),
            JAVA_INT.withName("pad"),
            JAVA_LONG.withName("ts")
    ).withName("io_uring_getevents_arg");

    private static final long SIGMASK = Native.requireOffset(LAYOUT, "sigmask");
    private static final long SIGMASK_SZ = Native.requireOffset(LAYOUT, "sigmask_sz");
    private static final long PAD = Native.requireOffset(LAYOUT, "pad");
    private static final long TS = Native.requireOffset(LAYOUT, "ts");

    public static void sigmask(MemorySegment s, long address) { s.set(JAVA_LONG, SIGMASK, address); }
    public static void sigmask_sz(MemorySegment s, int v) { s.set(JAVA_INT, SIGMASK_SZ, v); }
    /** {@code min_wait_usec} on Linux >= 6.12 (the {@code pad} of older headers). */
    public static void min_wait_usec(MemorySegment s, int v) { s.set(JAVA_INT, PAD, v); }
    /** The address of a {@code struct __kernel_timespec}: a relative timeout, or 0 for none. */
    public static void ts(MemorySegment s, long address) { s.set(JAVA_LONG, TS, address); }
}
