package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_pd} ({@code <infiniband/verbs.h>}): a protection domain. */
public final class IbvPd {
    private IbvPd() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            JAVA_INT.withName("handle"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_pd");

    public static final long CONTEXT = Native.requireOffset(LAYOUT, "context");
    public static final long HANDLE = Native.requireOffset(LAYOUT, "handle");

    public static MemorySegment context(MemorySegment s) { return s.get(ADDRESS, CONTEXT); }
    public static int handle(MemorySegment s) { return s.get(JAVA_INT, HANDLE); }
}
