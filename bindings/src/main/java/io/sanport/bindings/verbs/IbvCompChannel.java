package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_comp_channel} ({@code <infiniband/verbs.h>}): the fd CQ events arrive on. */
public final class IbvCompChannel {
    private IbvCompChannel() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            JAVA_INT.withName("fd"),
            JAVA_INT.withName("refcnt")
    ).withName("ibv_comp_channel");

    public static final long FD = Native.requireOffset(LAYOUT, "fd");

    /** Pollable: readable when {@code ibv_get_cq_event} will not block. */
    public static int fd(MemorySegment s) { return s.get(JAVA_INT, FD); }
}
