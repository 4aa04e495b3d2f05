package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_recv_wr} ({@code <infiniband/verbs.h>}): one receive buffer for a QP's RQ or an SRQ. */
public final class IbvRecvWr {
    private IbvRecvWr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("wr_id"),
            ADDRESS.withName("next"),
            ADDRESS.withName("sg_list"),
            JAVA_INT.withName("num_sge"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_recv_wr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long WR_ID = Native.requireOffset(LAYOUT, "wr_id");
    public static final long NEXT = Native.requireOffset(LAYOUT, "next");
    public static final long SG_LIST = Native.requireOffset(LAYOUT, "sg_list");
    public static final long NUM_SGE = Native.requireOffset(LAYOUT, "num_sge");

    public static void wr_id(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + WR_ID, v); }
    public static void next(MemorySegment s, long at, MemorySegment v) { s.set(ADDRESS, at + NEXT, v); }
    public static void sg_list(MemorySegment s, long at, MemorySegment sgList, int numSge) {
        s.set(ADDRESS, at + SG_LIST, sgList);
        s.set(JAVA_INT, at + NUM_SGE, numSge);
    }
    public static long wr_id(MemorySegment s, long at) { return s.get(JAVA_LONG, at + WR_ID); }
}
