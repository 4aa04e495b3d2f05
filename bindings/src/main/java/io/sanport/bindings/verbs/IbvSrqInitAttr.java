package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_srq_init_attr} with its {@code struct ibv_srq_attr} ({@code <infiniband/verbs.h>}): for
 * {@code ibv_create_srq}; {@code max_wr}/{@code max_sge} come back as granted.
 */
public final class IbvSrqInitAttr {
    private IbvSrqInitAttr() {}

    /** {@code struct ibv_srq_attr}. */
    public static final StructLayout ATTR_LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("max_wr"),
            JAVA_INT.withName("max_sge"),
            JAVA_INT.withName("srq_limit")
    ).withName("ibv_srq_attr");

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("srq_context"),
            ATTR_LAYOUT.withName("attr"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_srq_init_attr");

    public static final long SRQ_CONTEXT = Native.requireOffset(LAYOUT, "srq_context");
    public static final long MAX_WR = Native.requireOffset(LAYOUT, "attr.max_wr");
    public static final long MAX_SGE = Native.requireOffset(LAYOUT, "attr.max_sge");
    public static final long SRQ_LIMIT = Native.requireOffset(LAYOUT, "attr.srq_limit");

    public static void srq_context(MemorySegment s, MemorySegment v) { s.set(ADDRESS, SRQ_CONTEXT, v); }
    public static void max_wr(MemorySegment s, int v) { s.set(JAVA_INT, MAX_WR, v); }
    public static void max_sge(MemorySegment s, int v) { s.set(JAVA_INT, MAX_SGE, v); }
    public static void srq_limit(MemorySegment s, int v) { s.set(JAVA_INT, SRQ_LIMIT, v); }
    public static int max_wr(MemorySegment s) { return s.get(JAVA_INT, MAX_WR); }
    public static int max_sge(MemorySegment s) { return s.get(JAVA_INT, MAX_SGE); }
}
