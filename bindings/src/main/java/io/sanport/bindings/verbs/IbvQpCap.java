package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_qp_cap} ({@code <infiniband/verbs.h>}): queue depths asked for, and granted on return. */
public final class IbvQpCap {
    private IbvQpCap() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("max_send_wr"),
            JAVA_INT.withName("max_recv_wr"),
            JAVA_INT.withName("max_send_sge"),
            JAVA_INT.withName("max_recv_sge"),
            JAVA_INT.withName("max_inline_data")
    ).withName("ibv_qp_cap");

    public static final long MAX_SEND_WR = Native.requireOffset(LAYOUT, "max_send_wr");
    public static final long MAX_RECV_WR = Native.requireOffset(LAYOUT, "max_recv_wr");
    public static final long MAX_SEND_SGE = Native.requireOffset(LAYOUT, "max_send_sge");
    public static final long MAX_RECV_SGE = Native.requireOffset(LAYOUT, "max_recv_sge");
    public static final long MAX_INLINE_DATA = Native.requireOffset(LAYOUT, "max_inline_data");

    /** Sets all five at {@code at} in {@code s} (a cap embedded in a larger struct). */
    public static void set(MemorySegment s, long at, int sendWr, int recvWr, int sendSge, int recvSge, int inline) {
        s.set(JAVA_INT, at + MAX_SEND_WR, sendWr);
        s.set(JAVA_INT, at + MAX_RECV_WR, recvWr);
        s.set(JAVA_INT, at + MAX_SEND_SGE, sendSge);
        s.set(JAVA_INT, at + MAX_RECV_SGE, recvSge);
        s.set(JAVA_INT, at + MAX_INLINE_DATA, inline);
    }

    public static int max_send_wr(MemorySegment s, long at) { return s.get(JAVA_INT, at + MAX_SEND_WR); }
    public static int max_recv_wr(MemorySegment s, long at) { return s.get(JAVA_INT, at + MAX_RECV_WR); }
    public static int max_inline_data(MemorySegment s, long at) { return s.get(JAVA_INT, at + MAX_INLINE_DATA); }
}
