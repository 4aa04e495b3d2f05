package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_srq} ({@code <infiniband/verbs.h>}): a shared receive queue. */
public final class IbvSrq {
    private IbvSrq() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("srq_context"),
            ADDRESS.withName("pd"),
            JAVA_INT.withName("handle"),
            MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(40, JAVA_BYTE).withByteAlignment(8).withName("mutex"),
            MemoryLayout.sequenceLayout(48, JAVA_BYTE).withByteAlignment(8).withName("cond"),
            JAVA_INT.withName("events_completed"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_srq");

    public static final long CONTEXT = Native.requireOffset(LAYOUT, "context");
    public static final long PD = Native.requireOffset(LAYOUT, "pd");

    public static MemorySegment context(MemorySegment s) { return s.get(ADDRESS, CONTEXT); }
    public static MemorySegment pd(MemorySegment s) { return s.get(ADDRESS, PD); }
}
