package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct rlimit} ({@code <sys/resource.h>}); RLIM_INFINITY is all ones. */
public final class Rlimit {
    private Rlimit() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("rlim_cur"),
            JAVA_LONG.withName("rlim_max")
    ).withName("rlimit");

    private static final long RLIM_CUR = Native.requireOffset(LAYOUT, "rlim_cur");
    private static final long RLIM_MAX = Native.requireOffset(LAYOUT, "rlim_max");

    public static long rlim_cur(MemorySegment s) { return s.get(JAVA_LONG, RLIM_CUR); }
    public static void rlim_cur(MemorySegment s, long v) { s.set(JAVA_LONG, RLIM_CUR, v); }
    public static long rlim_max(MemorySegment s) { return s.get(JAVA_LONG, RLIM_MAX); }
    public static void rlim_max(MemorySegment s, long v) { s.set(JAVA_LONG, RLIM_MAX, v); }
}
