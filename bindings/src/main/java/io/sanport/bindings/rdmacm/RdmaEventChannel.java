package io.sanport.bindings.rdmacm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct rdma_event_channel} ({@code <rdma/rdma_cma.h>}): the fd connection events arrive on. */
public final class RdmaEventChannel {
    private RdmaEventChannel() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("fd")
    ).withName("rdma_event_channel");

    public static final long FD = Native.requireOffset(LAYOUT, "fd");

    /** Pollable: readable when {@code rdma_get_cm_event} will not block. */
    public static int fd(MemorySegment s) { return s.get(JAVA_INT, FD); }
}
