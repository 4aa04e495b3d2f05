package io.sanport.bindings.rdmacm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.verbs.IbvGid;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct rdma_cm_id} ({@code <rdma/rdma_cma.h>}): one connection end, like a socket. {@code verbs} is the
 * device context the CM bound it to (after bind/resolve; shared by all ids on that device), {@code qp} the QP
 * {@code rdma_create_qp} attached. {@code route.addr} holds the local and peer addresses
 * ({@code struct rdma_route} / {@code struct rdma_addr}, with their sockaddr unions).
 */
public final class RdmaCmId {
    private RdmaCmId() {}

    private static final MemoryLayout SOCKADDR_STORAGE = MemoryLayout.sequenceLayout(128, JAVA_BYTE).withByteAlignment(8);

    /** {@code struct rdma_addr}: source and destination sockaddr unions, then the IB addresses. */
    private static final StructLayout ADDR = MemoryLayout.structLayout(
            MemoryLayout.unionLayout(
                    SOCKADDR_STORAGE.withName("src_storage"),
                    MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("src_addr"),
                    SockaddrIn.LAYOUT.withName("src_sin")),
            MemoryLayout.unionLayout(
                    SOCKADDR_STORAGE.withName("dst_storage"),
                    SockaddrIn.LAYOUT.withName("dst_sin")),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(      // struct rdma_ib_addr
                            IbvGid.LAYOUT.withName("sgid"),
                            IbvGid.LAYOUT.withName("dgid"),
                            MemoryLayout.sequenceLayout(2, JAVA_BYTE).withName("pkey"),
                            MemoryLayout.paddingLayout(6)).withName("ibaddr")).withName("addr")
    ).withName("rdma_addr");

    /** {@code struct rdma_route}. */
    private static final StructLayout ROUTE = MemoryLayout.structLayout(
            ADDR.withName("addr"),
            ADDRESS.withName("path_rec"),
            JAVA_INT.withName("num_paths"),
            MemoryLayout.paddingLayout(4)
    ).withName("rdma_route");

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("verbs"),
            ADDRESS.withName("channel"),
            ADDRESS.withName("context"),
            ADDRESS.withName("qp"),
            ROUTE.withName("route"),
            JAVA_INT.withName("ps"),
            JAVA_BYTE.withName("port_num"),
            MemoryLayout.paddingLayout(3),
            ADDRESS.withName("event"),
            ADDRESS.withName("send_cq_channel"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq_channel"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            ADDRESS.withName("pd"),
            JAVA_INT.withName("qp_type"),
            MemoryLayout.paddingLayout(4)
    ).withName("rdma_cm_id");

    public static final long VERBS = Native.requireOffset(LAYOUT, "verbs");
    public static final long CHANNEL = Native.requireOffset(LAYOUT, "channel");
    public static final long CONTEXT = Native.requireOffset(LAYOUT, "context");
    public static final long QP = Native.requireOffset(LAYOUT, "qp");
    public static final long SRC_SIN = Native.requireOffset(LAYOUT, "route.addr.src_sin");
    public static final long DST_SIN = Native.requireOffset(LAYOUT, "route.addr.dst_sin");
    public static final long PS = Native.requireOffset(LAYOUT, "ps");
    public static final long PORT_NUM = Native.requireOffset(LAYOUT, "port_num");
    public static final long EVENT = Native.requireOffset(LAYOUT, "event");
    public static final long PD = Native.requireOffset(LAYOUT, "pd");
    public static final long QP_TYPE = Native.requireOffset(LAYOUT, "qp_type");

    /** A cm_id pointer as returned by C, sized to this layout. */
    public static MemorySegment of(MemorySegment pointer) { return pointer.reinterpret(LAYOUT.byteSize()); }

    /** The {@code ibv_context} this id is bound to; NULL before bind or address resolution. */
    public static MemorySegment verbs(MemorySegment s) { return s.get(ADDRESS, VERBS); }
    public static MemorySegment channel(MemorySegment s) { return s.get(ADDRESS, CHANNEL); }
    /** The user context given to {@code rdma_create_id}; inherited by ids a listener creates. */
    public static MemorySegment context(MemorySegment s) { return s.get(ADDRESS, CONTEXT); }
    public static void context(MemorySegment s, MemorySegment v) { s.set(ADDRESS, CONTEXT, v); }
    /** The QP from {@code rdma_create_qp}, or NULL. */
    public static MemorySegment qp(MemorySegment s) { return s.get(ADDRESS, QP); }
    /** The local address ({@link SockaddrIn} for IPv4). */
    public static MemorySegment src_sin(MemorySegment s) { return s.asSlice(SRC_SIN, SockaddrIn.LAYOUT); }
    /** The peer's address ({@link SockaddrIn} for IPv4). */
    public static MemorySegment dst_sin(MemorySegment s) { return s.asSlice(DST_SIN, SockaddrIn.LAYOUT); }
    public static int ps(MemorySegment s) { return s.get(JAVA_INT, PS); }
    public static int port_num(MemorySegment s) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, PORT_NUM)); }
    public static MemorySegment pd(MemorySegment s) { return s.get(ADDRESS, PD); }
}
