package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_qp} ({@code <infiniband/verbs.h>}): a queue pair. {@code state} is the library's last known
 * state (updated by {@code ibv_modify_qp}), not a query of the hardware.
 */
public final class IbvQp {
    private IbvQp() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("qp_context"),
            ADDRESS.withName("pd"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("state"),
            JAVA_INT.withName("qp_type"),
            MemoryLayout.sequenceLayout(40, JAVA_BYTE).withByteAlignment(8).withName("mutex"),
            MemoryLayout.sequenceLayout(48, JAVA_BYTE).withByteAlignment(8).withName("cond"),
            JAVA_INT.withName("events_completed"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_qp");

    public static final long CONTEXT = Native.requireOffset(LAYOUT, "context");
    public static final long PD = Native.requireOffset(LAYOUT, "pd");
    public static final long SEND_CQ = Native.requireOffset(LAYOUT, "send_cq");
    public static final long RECV_CQ = Native.requireOffset(LAYOUT, "recv_cq");
    public static final long SRQ = Native.requireOffset(LAYOUT, "srq");
    public static final long QP_NUM = Native.requireOffset(LAYOUT, "qp_num");
    public static final long STATE = Native.requireOffset(LAYOUT, "state");
    public static final long QP_TYPE = Native.requireOffset(LAYOUT, "qp_type");

    /** A QP pointer as returned by C, sized to this layout. */
    public static MemorySegment of(MemorySegment pointer) { return pointer.reinterpret(LAYOUT.byteSize()); }

    public static MemorySegment context(MemorySegment s) { return s.get(ADDRESS, CONTEXT); }
    public static MemorySegment pd(MemorySegment s) { return s.get(ADDRESS, PD); }
    public static MemorySegment send_cq(MemorySegment s) { return s.get(ADDRESS, SEND_CQ); }
    public static MemorySegment recv_cq(MemorySegment s) { return s.get(ADDRESS, RECV_CQ); }
    public static MemorySegment srq(MemorySegment s) { return s.get(ADDRESS, SRQ); }
    public static int qp_num(MemorySegment s) { return s.get(JAVA_INT, QP_NUM); }
    /** An {@code IBV_QPS_*} state. */
    public static int state(MemorySegment s) { return s.get(JAVA_INT, STATE); }
    /** An {@code IBV_QPT_*} type. */
    public static int qp_type(MemorySegment s) { return s.get(JAVA_INT, QP_TYPE); }
}
