package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_qp_attr} ({@code <infiniband/verbs.h>}): for {@code ibv_modify_qp}, together with an
 * {@code IBV_QP_*} mask naming the members that are set. The RC transitions (ibv_modify_qp(3)):
 * RESET→INIT {@code STATE|PKEY_INDEX|PORT|ACCESS_FLAGS}; INIT→RTR {@code STATE|AV|PATH_MTU|DEST_QPN|RQ_PSN|
 * MAX_DEST_RD_ATOMIC|MIN_RNR_TIMER}; RTR→RTS {@code STATE|TIMEOUT|RETRY_CNT|RNR_RETRY|SQ_PSN|MAX_QP_RD_ATOMIC}.
 */
public final class IbvQpAttr {
    private IbvQpAttr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("qp_state"),
            JAVA_INT.withName("cur_qp_state"),
            JAVA_INT.withName("path_mtu"),
            JAVA_INT.withName("path_mig_state"),
            JAVA_INT.withName("qkey"),
            JAVA_INT.withName("rq_psn"),
            JAVA_INT.withName("sq_psn"),
            JAVA_INT.withName("dest_qp_num"),
            JAVA_INT.withName("qp_access_flags"),
            IbvQpCap.LAYOUT.withName("cap"),
            IbvAhAttr.LAYOUT.withName("ah_attr"),
            IbvAhAttr.LAYOUT.withName("alt_ah_attr"),
            JAVA_SHORT.withName("pkey_index"),
            JAVA_SHORT.withName("alt_pkey_index"),
            JAVA_BYTE.withName("en_sqd_async_notify"),
            JAVA_BYTE.withName("sq_draining"),
            JAVA_BYTE.withName("max_rd_atomic"),
            JAVA_BYTE.withName("max_dest_rd_atomic"),
            JAVA_BYTE.withName("min_rnr_timer"),
            JAVA_BYTE.withName("port_num"),
            JAVA_BYTE.withName("timeout"),
            JAVA_BYTE.withName("retry_cnt"),
            JAVA_BYTE.withName("rnr_retry"),
            JAVA_BYTE.withName("alt_port_num"),
            JAVA_BYTE.withName("alt_timeout"),
            MemoryLayout.paddingLayout(1),
            JAVA_INT.withName("rate_limit"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_qp_attr");

    public static final long QP_STATE = Native.requireOffset(LAYOUT, "qp_state");
    public static final long PATH_MTU = Native.requireOffset(LAYOUT, "path_mtu");
    public static final long QKEY = Native.requireOffset(LAYOUT, "qkey");
    public static final long RQ_PSN = Native.requireOffset(LAYOUT, "rq_psn");
    public static final long SQ_PSN = Native.requireOffset(LAYOUT, "sq_psn");
    public static final long DEST_QP_NUM = Native.requireOffset(LAYOUT, "dest_qp_num");
    public static final long QP_ACCESS_FLAGS = Native.requireOffset(LAYOUT, "qp_access_flags");
    public static final long AH_ATTR = Native.requireOffset(LAYOUT, "ah_attr");
    public static final long PKEY_INDEX = Native.requireOffset(LAYOUT, "pkey_index");
    public static final long MAX_RD_ATOMIC = Native.requireOffset(LAYOUT, "max_rd_atomic");
    public static final long MAX_DEST_RD_ATOMIC = Native.requireOffset(LAYOUT, "max_dest_rd_atomic");
    public static final long MIN_RNR_TIMER = Native.requireOffset(LAYOUT, "min_rnr_timer");
    public static final long PORT_NUM = Native.requireOffset(LAYOUT, "port_num");
    public static final long TIMEOUT = Native.requireOffset(LAYOUT, "timeout");
    public static final long RETRY_CNT = Native.requireOffset(LAYOUT, "retry_cnt");
    public static final long RNR_RETRY = Native.requireOffset(LAYOUT, "rnr_retry");

    public static void qp_state(MemorySegment s, int v) { s.set(JAVA_INT, QP_STATE, v); }
    public static int qp_state(MemorySegment s) { return s.get(JAVA_INT, QP_STATE); }
    public static void path_mtu(MemorySegment s, int v) { s.set(JAVA_INT, PATH_MTU, v); }
    public static void qkey(MemorySegment s, int v) { s.set(JAVA_INT, QKEY, v); }
    public static void rq_psn(MemorySegment s, int v) { s.set(JAVA_INT, RQ_PSN, v); }
    public static void sq_psn(MemorySegment s, int v) { s.set(JAVA_INT, SQ_PSN, v); }
    public static void dest_qp_num(MemorySegment s, int v) { s.set(JAVA_INT, DEST_QP_NUM, v); }
    public static void qp_access_flags(MemorySegment s, int v) { s.set(JAVA_INT, QP_ACCESS_FLAGS, v); }
    /** Routes by GID to {@code dgid} from our GID {@code sgidIndex} on {@code portNum}. */
    public static void ah_attr_global(MemorySegment s, MemorySegment dgid, int sgidIndex, int portNum) {
        IbvAhAttr.global(s, AH_ATTR, dgid, sgidIndex, portNum);
    }
    public static void pkey_index(MemorySegment s, int v) { s.set(JAVA_SHORT, PKEY_INDEX, (short) v); }
    public static void max_rd_atomic(MemorySegment s, int v) { s.set(JAVA_BYTE, MAX_RD_ATOMIC, (byte) v); }
    public static void max_dest_rd_atomic(MemorySegment s, int v) { s.set(JAVA_BYTE, MAX_DEST_RD_ATOMIC, (byte) v); }
    public static void min_rnr_timer(MemorySegment s, int v) { s.set(JAVA_BYTE, MIN_RNR_TIMER, (byte) v); }
    public static void port_num(MemorySegment s, int v) { s.set(JAVA_BYTE, PORT_NUM, (byte) v); }
    public static void timeout(MemorySegment s, int v) { s.set(JAVA_BYTE, TIMEOUT, (byte) v); }
    public static void retry_cnt(MemorySegment s, int v) { s.set(JAVA_BYTE, RETRY_CNT, (byte) v); }
    public static void rnr_retry(MemorySegment s, int v) { s.set(JAVA_BYTE, RNR_RETRY, (byte) v); }
}
