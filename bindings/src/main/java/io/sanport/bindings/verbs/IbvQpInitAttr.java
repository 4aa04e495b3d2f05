package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_qp_init_attr} ({@code <infiniband/verbs.h>}): for {@code ibv_create_qp}, {@code rdma_create_qp}. */
public final class IbvQpInitAttr {
    private IbvQpInitAttr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("qp_context"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            IbvQpCap.LAYOUT.withName("cap"),
            JAVA_INT.withName("qp_type"),
            JAVA_INT.withName("sq_sig_all"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_qp_init_attr");

    public static final long QP_CONTEXT = Native.requireOffset(LAYOUT, "qp_context");
    public static final long SEND_CQ = Native.requireOffset(LAYOUT, "send_cq");
    public static final long RECV_CQ = Native.requireOffset(LAYOUT, "recv_cq");
    public static final long SRQ = Native.requireOffset(LAYOUT, "srq");
    public static final long CAP = Native.requireOffset(LAYOUT, "cap");
    public static final long QP_TYPE = Native.requireOffset(LAYOUT, "qp_type");
    public static final long SQ_SIG_ALL = Native.requireOffset(LAYOUT, "sq_sig_all");

    public static void qp_context(MemorySegment s, MemorySegment v) { s.set(ADDRESS, QP_CONTEXT, v); }
    public static void send_cq(MemorySegment s, MemorySegment v) { s.set(ADDRESS, SEND_CQ, v); }
    public static void recv_cq(MemorySegment s, MemorySegment v) { s.set(ADDRESS, RECV_CQ, v); }
    /** NULL for a QP with its own receive queue. */
    public static void srq(MemorySegment s, MemorySegment v) { s.set(ADDRESS, SRQ, v); }
    public static void cap(MemorySegment s, int sendWr, int recvWr, int sendSge, int recvSge, int inline) {
        IbvQpCap.set(s, CAP, sendWr, recvWr, sendSge, recvSge, inline);
    }
    public static void qp_type(MemorySegment s, int v) { s.set(JAVA_INT, QP_TYPE, v); }
    /** Non-zero: every send WR completes with a CQE, whatever its IBV_SEND_SIGNALED flag. */
    public static void sq_sig_all(MemorySegment s, int v) { s.set(JAVA_INT, SQ_SIG_ALL, v); }
    /** The granted depths after a create call (the provider writes them back). */
    public static int max_send_wr(MemorySegment s) { return IbvQpCap.max_send_wr(s, CAP); }
    public static int max_recv_wr(MemorySegment s) { return IbvQpCap.max_recv_wr(s, CAP); }
    public static int max_inline_data(MemorySegment s) { return IbvQpCap.max_inline_data(s, CAP); }
}
