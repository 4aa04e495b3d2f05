package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_cq} ({@code <infiniband/verbs.h>}): a completion queue. */
public final class IbvCq {
    private IbvCq() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("channel"),
            ADDRESS.withName("cq_context"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("cqe"),
            MemoryLayout.sequenceLayout(40, JAVA_BYTE).withByteAlignment(8).withName("mutex"),
            MemoryLayout.sequenceLayout(48, JAVA_BYTE).withByteAlignment(8).withName("cond"),
            JAVA_INT.withName("comp_events_completed"),
            JAVA_INT.withName("async_events_completed")
    ).withName("ibv_cq");

    public static final long CONTEXT = Native.requireOffset(LAYOUT, "context");
    public static final long CHANNEL = Native.requireOffset(LAYOUT, "channel");
    public static final long CQ_CONTEXT = Native.requireOffset(LAYOUT, "cq_context");
    public static final long CQE = Native.requireOffset(LAYOUT, "cqe");

    public static MemorySegment context(MemorySegment s) { return s.get(ADDRESS, CONTEXT); }
    public static MemorySegment channel(MemorySegment s) { return s.get(ADDRESS, CHANNEL); }
    public static MemorySegment cq_context(MemorySegment s) { return s.get(ADDRESS, CQ_CONTEXT); }
    /** The capacity the provider gave (at least what was asked for). */
    public static int cqe(MemorySegment s) { return s.get(JAVA_INT, CQE); }
}
