package io.sanport.bindings.rdmacm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import io.sanport.bindings.verbs.IbvAhAttr;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct rdma_cm_event} ({@code <rdma/rdma_cma.h>}), as {@code rdma_get_cm_event} hands it out; valid
 * until {@code rdma_ack_cm_event}, including the private data it points to. For a CONNECT_REQUEST, {@code id}
 * is the new connection's cm_id and {@code listen_id} the listener.
 */
public final class RdmaCmEvent {
    private RdmaCmEvent() {}

    /** {@code struct rdma_ud_param}: the other member of {@code param}, for its size. */
    private static final StructLayout UD_PARAM = MemoryLayout.structLayout(
            ADDRESS.withName("private_data"),
            JAVA_BYTE.withName("private_data_len"),
            MemoryLayout.paddingLayout(7),
            IbvAhAttr.LAYOUT.withName("ah_attr"),
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("qkey")
    ).withName("rdma_ud_param");

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("id"),
            ADDRESS.withName("listen_id"),
            JAVA_INT.withName("event"),
            JAVA_INT.withName("status"),
            MemoryLayout.unionLayout(
                    RdmaConnParam.LAYOUT.withName("conn"),
                    UD_PARAM.withName("ud")
            ).withName("param")
    ).withName("rdma_cm_event");

    public static final long ID = Native.requireOffset(LAYOUT, "id");
    public static final long LISTEN_ID = Native.requireOffset(LAYOUT, "listen_id");
    public static final long EVENT = Native.requireOffset(LAYOUT, "event");
    public static final long STATUS = Native.requireOffset(LAYOUT, "status");
    /** Offset of {@code param.conn}: pass it as {@code at} to the {@link RdmaConnParam} accessors. */
    public static final long PARAM_CONN = Native.requireOffset(LAYOUT, "param.conn");

    /** An event pointer as returned by C, sized to this layout. */
    public static MemorySegment of(MemorySegment pointer) { return pointer.reinterpret(LAYOUT.byteSize()); }

    public static MemorySegment id(MemorySegment s) { return RdmaCmId.of(s.get(ADDRESS, ID)); }
    public static MemorySegment listen_id(MemorySegment s) { return s.get(ADDRESS, LISTEN_ID); }
    /** An {@code RDMA_CM_EVENT_*} type; in words: {@link Rdmacm#eventName}. */
    public static int event(MemorySegment s) { return s.get(JAVA_INT, EVENT); }
    /**
     * 0, or why: a negative errno (ADDR_ERROR, ROUTE_ERROR, UNREACHABLE, CONNECT_ERROR...), or for REJECTED the
     * InfiniBand CM reject reason (28 = consumer reject, 8 = invalid service id: nobody listening).
     */
    public static int status(MemorySegment s) { return s.get(JAVA_INT, STATUS); }
    /** {@code param.conn.private_data}, {@code private_data_len} bytes (a CONNECT_REQUEST, ESTABLISHED, REJECTED). */
    public static MemorySegment private_data(MemorySegment s) { return RdmaConnParam.private_data(s, PARAM_CONN); }
}
