package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_device_attr} ({@code <infiniband/verbs.h>}), filled by {@code ibv_query_device}. */
public final class IbvDeviceAttr {
    private IbvDeviceAttr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(64, JAVA_BYTE).withName("fw_ver"),
            JAVA_LONG.withName("node_guid"),
            JAVA_LONG.withName("sys_image_guid"),
            JAVA_LONG.withName("max_mr_size"),
            JAVA_LONG.withName("page_size_cap"),
            JAVA_INT.withName("vendor_id"),
            JAVA_INT.withName("vendor_part_id"),
            JAVA_INT.withName("hw_ver"),
            JAVA_INT.withName("max_qp"),
            JAVA_INT.withName("max_qp_wr"),
            JAVA_INT.withName("device_cap_flags"),
            JAVA_INT.withName("max_sge"),
            JAVA_INT.withName("max_sge_rd"),
            JAVA_INT.withName("max_cq"),
            JAVA_INT.withName("max_cqe"),
            JAVA_INT.withName("max_mr"),
            JAVA_INT.withName("max_pd"),
            JAVA_INT.withName("max_qp_rd_atom"),
            JAVA_INT.withName("max_ee_rd_atom"),
            JAVA_INT.withName("max_res_rd_atom"),
            JAVA_INT.withName("max_qp_init_rd_atom"),
            JAVA_INT.withName("max_ee_init_rd_atom"),
            JAVA_INT.withName("atomic_cap"),
            JAVA_INT.withName("max_ee"),
            JAVA_INT.withName("max_rdd"),
            JAVA_INT.withName("max_mw"),
            JAVA_INT.withName("max_raw_ipv6_qp"),
            JAVA_INT.withName("max_raw_ethy_qp"),
            JAVA_INT.withName("max_mcast_grp"),
            JAVA_INT.withName("max_mcast_qp_attach"),
            JAVA_INT.withName("max_total_mcast_qp_attach"),
            JAVA_INT.withName("max_ah"),
            JAVA_INT.withName("max_fmr"),
            JAVA_INT.withName("max_map_per_fmr"),
            JAVA_INT.withName("max_srq"),
            JAVA_INT.withName("max_srq_wr"),
            JAVA_INT.withName("max_srq_sge"),
            JAVA_SHORT.withName("max_pkeys"),
            JAVA_BYTE.withName("local_ca_ack_delay"),
            JAVA_BYTE.withName("phys_port_cnt"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_device_attr");

    public static final long FW_VER = Native.requireOffset(LAYOUT, "fw_ver");
    public static final long NODE_GUID = Native.requireOffset(LAYOUT, "node_guid");
    public static final long MAX_MR_SIZE = Native.requireOffset(LAYOUT, "max_mr_size");
    public static final long VENDOR_ID = Native.requireOffset(LAYOUT, "vendor_id");
    public static final long MAX_QP = Native.requireOffset(LAYOUT, "max_qp");
    public static final long MAX_QP_WR = Native.requireOffset(LAYOUT, "max_qp_wr");
    public static final long DEVICE_CAP_FLAGS = Native.requireOffset(LAYOUT, "device_cap_flags");
    public static final long MAX_SGE = Native.requireOffset(LAYOUT, "max_sge");
    public static final long MAX_CQE = Native.requireOffset(LAYOUT, "max_cqe");
    public static final long MAX_MR = Native.requireOffset(LAYOUT, "max_mr");
    public static final long MAX_QP_RD_ATOM = Native.requireOffset(LAYOUT, "max_qp_rd_atom");
    public static final long MAX_QP_INIT_RD_ATOM = Native.requireOffset(LAYOUT, "max_qp_init_rd_atom");
    public static final long MAX_SRQ = Native.requireOffset(LAYOUT, "max_srq");
    public static final long MAX_SRQ_WR = Native.requireOffset(LAYOUT, "max_srq_wr");
    public static final long MAX_SRQ_SGE = Native.requireOffset(LAYOUT, "max_srq_sge");
    public static final long PHYS_PORT_CNT = Native.requireOffset(LAYOUT, "phys_port_cnt");

    public static String fw_ver(MemorySegment s) { return s.getString(FW_VER); }
    /** Big-endian in memory, as the hardware reports it. */
    public static long node_guid(MemorySegment s) { return Long.reverseBytes(s.get(JAVA_LONG, NODE_GUID)); }
    public static long max_mr_size(MemorySegment s) { return s.get(JAVA_LONG, MAX_MR_SIZE); }
    public static int vendor_id(MemorySegment s) { return s.get(JAVA_INT, VENDOR_ID); }
    public static int max_qp(MemorySegment s) { return s.get(JAVA_INT, MAX_QP); }
    public static int max_qp_wr(MemorySegment s) { return s.get(JAVA_INT, MAX_QP_WR); }
    public static int device_cap_flags(MemorySegment s) { return s.get(JAVA_INT, DEVICE_CAP_FLAGS); }
    public static int max_sge(MemorySegment s) { return s.get(JAVA_INT, MAX_SGE); }
    public static int max_cqe(MemorySegment s) { return s.get(JAVA_INT, MAX_CQE); }
    public static int max_mr(MemorySegment s) { return s.get(JAVA_INT, MAX_MR); }
    public static int max_qp_rd_atom(MemorySegment s) { return s.get(JAVA_INT, MAX_QP_RD_ATOM); }
    public static int max_qp_init_rd_atom(MemorySegment s) { return s.get(JAVA_INT, MAX_QP_INIT_RD_ATOM); }
    public static int max_srq(MemorySegment s) { return s.get(JAVA_INT, MAX_SRQ); }
    public static int max_srq_wr(MemorySegment s) { return s.get(JAVA_INT, MAX_SRQ_WR); }
    public static int max_srq_sge(MemorySegment s) { return s.get(JAVA_INT, MAX_SRQ_SGE); }
    public static int phys_port_cnt(MemorySegment s) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, PHYS_PORT_CNT)); }
}
