package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_send_wr} ({@code <infiniband/verbs.h>}): one send-queue work request. The unions are kept:
 * {@code imm_data}/{@code invalidate_rkey} (SEND_WITH_IMM / SEND_WITH_INV), and {@code wr.rdma},
 * {@code wr.atomic}, {@code wr.ud} — NVMe/RDMA uses {@code wr.rdma.remote_addr}/{@code wr.rdma.rkey} for the
 * keyed SGL's Address and Key. Accessors take the offset {@code at} of the WR, so an array of WRs can be
 * prepared once and reused.
 */
public final class IbvSendWr {
    private IbvSendWr() {}

    /** {@code struct ibv_mw_bind_info}, inside {@code bind_mw}. */
    private static final StructLayout MW_BIND_INFO = MemoryLayout.structLayout(
            ADDRESS.withName("mr"),
            JAVA_LONG.withName("addr"),
            JAVA_LONG.withName("length"),
            JAVA_INT.withName("mw_access_flags"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_mw_bind_info");

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("wr_id"),
            ADDRESS.withName("next"),
            ADDRESS.withName("sg_list"),
            JAVA_INT.withName("num_sge"),
            JAVA_INT.withName("opcode"),
            JAVA_INT.withName("send_flags"),
            MemoryLayout.unionLayout(
                    JAVA_INT.withName("imm_data"),
                    JAVA_INT.withName("invalidate_rkey")),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(
                            JAVA_LONG.withName("remote_addr"),
                            JAVA_INT.withName("rkey"),
                            MemoryLayout.paddingLayout(4)).withName("rdma"),
                    MemoryLayout.structLayout(
                            JAVA_LONG.withName("remote_addr"),
                            JAVA_LONG.withName("compare_add"),
                            JAVA_LONG.withName("swap"),
                            JAVA_INT.withName("rkey"),
                            MemoryLayout.paddingLayout(4)).withName("atomic"),
                    MemoryLayout.structLayout(
                            ADDRESS.withName("ah"),
                            JAVA_INT.withName("remote_qpn"),
                            JAVA_INT.withName("remote_qkey")).withName("ud")
            ).withName("wr"),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(JAVA_INT.withName("remote_srqn")).withName("xrc")
            ).withName("qp_type"),
            MemoryLayout.paddingLayout(4),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(
                            ADDRESS.withName("mw"),
                            JAVA_INT.withName("rkey"),
                            MemoryLayout.paddingLayout(4),
                            MW_BIND_INFO.withName("bind_info")).withName("bind_mw"),
                    MemoryLayout.structLayout(
                            ADDRESS.withName("hdr"),
                            JAVA_SHORT.withName("hdr_sz"),
                            JAVA_SHORT.withName("mss"),
                            MemoryLayout.paddingLayout(4)).withName("tso"))
    ).withName("ibv_send_wr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long WR_ID = Native.requireOffset(LAYOUT, "wr_id");
    public static final long NEXT = Native.requireOffset(LAYOUT, "next");
    public static final long SG_LIST = Native.requireOffset(LAYOUT, "sg_list");
    public static final long NUM_SGE = Native.requireOffset(LAYOUT, "num_sge");
    public static final long OPCODE = Native.requireOffset(LAYOUT, "opcode");
    public static final long SEND_FLAGS = Native.requireOffset(LAYOUT, "send_flags");
    public static final long IMM_DATA = Native.requireOffset(LAYOUT, "imm_data");
    public static final long INVALIDATE_RKEY = Native.requireOffset(LAYOUT, "invalidate_rkey");
    public static final long RDMA_REMOTE_ADDR = Native.requireOffset(LAYOUT, "wr.rdma.remote_addr");
    public static final long RDMA_RKEY = Native.requireOffset(LAYOUT, "wr.rdma.rkey");

    public static void wr_id(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + WR_ID, v); }
    /** The next WR of a chain, or NULL. */
    public static void next(MemorySegment s, long at, MemorySegment v) { s.set(ADDRESS, at + NEXT, v); }
    /** {@code num_sge} {@link IbvSge}s at {@code sgList}. */
    public static void sg_list(MemorySegment s, long at, MemorySegment sgList, int numSge) {
        s.set(ADDRESS, at + SG_LIST, sgList);
        s.set(JAVA_INT, at + NUM_SGE, numSge);
    }
    /** An {@code IBV_WR_*} opcode. */
    public static void opcode(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + OPCODE, v); }
    /** {@code IBV_SEND_*} flags. */
    public static void send_flags(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + SEND_FLAGS, v); }
    /** Big-endian on the wire: pass the value as the peer should read it; it is stored in network order. */
    public static void imm_data(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + IMM_DATA, Integer.reverseBytes(v)); }
    public static void invalidate_rkey(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + INVALIDATE_RKEY, v); }
    /** The target of an RDMA READ or WRITE: the peer's address and rkey. */
    public static void rdma(MemorySegment s, long at, long remoteAddr, int rkey) {
        s.set(JAVA_LONG, at + RDMA_REMOTE_ADDR, remoteAddr);
        s.set(JAVA_INT, at + RDMA_RKEY, rkey);
    }

    public static long wr_id(MemorySegment s, long at) { return s.get(JAVA_LONG, at + WR_ID); }
    public static int opcode(MemorySegment s, long at) { return s.get(JAVA_INT, at + OPCODE); }
    public static long rdma_remote_addr(MemorySegment s, long at) { return s.get(JAVA_LONG, at + RDMA_REMOTE_ADDR); }
    public static int rdma_rkey(MemorySegment s, long at) { return s.get(JAVA_INT, at + RDMA_RKEY); }
}
