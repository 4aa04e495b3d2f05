package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_wc} ({@code <infiniband/verbs.h>}): a work completion as {@code ibv_poll_cq} writes it into an
 * array. Accessors take the byte offset {@code at} of the entry ({@code i * SIZE}).
 */
public final class IbvWc {
    private IbvWc() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("wr_id"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("opcode"),
            JAVA_INT.withName("vendor_err"),
            JAVA_INT.withName("byte_len"),
            MemoryLayout.unionLayout(
                    JAVA_INT.withName("imm_data"),
                    JAVA_INT.withName("invalidated_rkey")),
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("src_qp"),
            JAVA_INT.withName("wc_flags"),
            JAVA_SHORT.withName("pkey_index"),
            JAVA_SHORT.withName("slid"),
            JAVA_BYTE.withName("sl"),
            JAVA_BYTE.withName("dlid_path_bits"),
            MemoryLayout.paddingLayout(2)
    ).withName("ibv_wc");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long WR_ID = Native.requireOffset(LAYOUT, "wr_id");
    public static final long STATUS = Native.requireOffset(LAYOUT, "status");
    public static final long OPCODE = Native.requireOffset(LAYOUT, "opcode");
    public static final long VENDOR_ERR = Native.requireOffset(LAYOUT, "vendor_err");
    public static final long BYTE_LEN = Native.requireOffset(LAYOUT, "byte_len");
    public static final long IMM_DATA = Native.requireOffset(LAYOUT, "imm_data");
    public static final long INVALIDATED_RKEY = Native.requireOffset(LAYOUT, "invalidated_rkey");
    public static final long QP_NUM = Native.requireOffset(LAYOUT, "qp_num");
    public static final long WC_FLAGS = Native.requireOffset(LAYOUT, "wc_flags");

    public static long wr_id(MemorySegment s, long at) { return s.get(JAVA_LONG, at + WR_ID); }
    /** An {@code IBV_WC_*} status; in words: {@link Ibverbs#ibv_wc_status_str}. */
    public static int status(MemorySegment s, long at) { return s.get(JAVA_INT, at + STATUS); }
    /** An {@code IBV_WC_*} opcode; only valid when status is success. Receives have {@code IBV_WC_RECV} set. */
    public static int opcode(MemorySegment s, long at) { return s.get(JAVA_INT, at + OPCODE); }
    public static int vendor_err(MemorySegment s, long at) { return s.get(JAVA_INT, at + VENDOR_ERR); }
    public static int byte_len(MemorySegment s, long at) { return s.get(JAVA_INT, at + BYTE_LEN); }
    /** Host order (stored big-endian). Valid when {@code wc_flags & IBV_WC_WITH_IMM}. */
    public static int imm_data(MemorySegment s, long at) { return Integer.reverseBytes(s.get(JAVA_INT, at + IMM_DATA)); }
    /** Valid when {@code wc_flags & IBV_WC_WITH_INV}. */
    public static int invalidated_rkey(MemorySegment s, long at) { return s.get(JAVA_INT, at + INVALIDATED_RKEY); }
    public static int qp_num(MemorySegment s, long at) { return s.get(JAVA_INT, at + QP_NUM); }
    public static int wc_flags(MemorySegment s, long at) { return s.get(JAVA_INT, at + WC_FLAGS); }
}
