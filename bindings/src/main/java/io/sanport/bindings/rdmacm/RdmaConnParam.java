package io.sanport.bindings.rdmacm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct rdma_conn_param} ({@code <rdma/rdma_cma.h>}): for {@code rdma_connect}/{@code rdma_accept}, and
 * what the peer asked for in a CONNECT_REQUEST ({@code rdma_cm_event.param.conn}). NVMe/RDMA carries its
 * 32-byte connect request and accept in {@code private_data} (NVMe over Fabrics 1.1, RDMA transport binding).
 * Accessors take the offset {@code at} of the struct in its container (0 alone, or the event's PARAM_CONN).
 */
public final class RdmaConnParam {
    private RdmaConnParam() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("private_data"),
            JAVA_BYTE.withName("private_data_len"),
            JAVA_BYTE.withName("responder_resources"),
            JAVA_BYTE.withName("initiator_depth"),
            JAVA_BYTE.withName("flow_control"),
            JAVA_BYTE.withName("retry_count"),
            JAVA_BYTE.withName("rnr_retry_count"),
            JAVA_BYTE.withName("srq"),
            MemoryLayout.paddingLayout(1),
            JAVA_INT.withName("qp_num"),
            MemoryLayout.paddingLayout(4)
    ).withName("rdma_conn_param");

    public static final long PRIVATE_DATA = Native.requireOffset(LAYOUT, "private_data");
    public static final long PRIVATE_DATA_LEN = Native.requireOffset(LAYOUT, "private_data_len");
    public static final long RESPONDER_RESOURCES = Native.requireOffset(LAYOUT, "responder_resources");
    public static final long INITIATOR_DEPTH = Native.requireOffset(LAYOUT, "initiator_depth");
    public static final long FLOW_CONTROL = Native.requireOffset(LAYOUT, "flow_control");
    public static final long RETRY_COUNT = Native.requireOffset(LAYOUT, "retry_count");
    public static final long RNR_RETRY_COUNT = Native.requireOffset(LAYOUT, "rnr_retry_count");
    public static final long SRQ = Native.requireOffset(LAYOUT, "srq");
    public static final long QP_NUM = Native.requireOffset(LAYOUT, "qp_num");

    /** Up to 56 bytes on connect, 196 on accept (InfiniBand CM REQ/REP; RoCE the same), 148 on reject. */
    public static void private_data(MemorySegment s, long at, MemorySegment data) {
        s.set(ADDRESS, at + PRIVATE_DATA, data);
        s.set(JAVA_BYTE, at + PRIVATE_DATA_LEN, (byte) data.byteSize());
    }

    /** The private data as received (length {@code private_data_len}); empty when there is none. */
    public static MemorySegment private_data(MemorySegment s, long at) {
        MemorySegment p = s.get(ADDRESS, at + PRIVATE_DATA);
        int len = private_data_len(s, at);
        return p.equals(MemorySegment.NULL) ? MemorySegment.NULL.reinterpret(0) : p.reinterpret(len);
    }

    public static int private_data_len(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + PRIVATE_DATA_LEN)); }
    /** RDMA READs the peer may have outstanding against us (our IRD). */
    public static void responder_resources(MemorySegment s, long at, int v) { s.set(JAVA_BYTE, at + RESPONDER_RESOURCES, (byte) v); }
    public static int responder_resources(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + RESPONDER_RESOURCES)); }
    /** RDMA READs we may have outstanding against the peer (our ORD). */
    public static void initiator_depth(MemorySegment s, long at, int v) { s.set(JAVA_BYTE, at + INITIATOR_DEPTH, (byte) v); }
    public static int initiator_depth(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + INITIATOR_DEPTH)); }
    public static void flow_control(MemorySegment s, long at, int v) { s.set(JAVA_BYTE, at + FLOW_CONTROL, (byte) v); }
    public static int flow_control(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + FLOW_CONTROL)); }
    /** Transport retries, 0..7; ignored when accepting. */
    public static void retry_count(MemorySegment s, long at, int v) { s.set(JAVA_BYTE, at + RETRY_COUNT, (byte) v); }
    public static int retry_count(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + RETRY_COUNT)); }
    /** Receiver-not-ready retries, 0..7 (7 = forever, what NVMe/RDMA uses). */
    public static void rnr_retry_count(MemorySegment s, long at, int v) { s.set(JAVA_BYTE, at + RNR_RETRY_COUNT, (byte) v); }
    public static int rnr_retry_count(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + RNR_RETRY_COUNT)); }
    public static int srq(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, at + SRQ)); }
    /** The peer's QP number (in a request); ignored on our side when the cm_id has a QP. */
    public static int qp_num(MemorySegment s, long at) { return s.get(JAVA_INT, at + QP_NUM); }
}
