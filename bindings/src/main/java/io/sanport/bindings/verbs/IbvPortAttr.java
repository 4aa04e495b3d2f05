package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_port_attr} ({@code <infiniband/verbs.h>}). The exported {@code ibv_query_port} fills it up
 * to {@code flags} (the size of rdma-core's {@code _compat_ibv_port_attr}); {@code port_cap_flags2} stays 0.
 */
public final class IbvPortAttr {
    private IbvPortAttr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("state"),
            JAVA_INT.withName("max_mtu"),
            JAVA_INT.withName("active_mtu"),
            JAVA_INT.withName("gid_tbl_len"),
            JAVA_INT.withName("port_cap_flags"),
            JAVA_INT.withName("max_msg_sz"),
            JAVA_INT.withName("bad_pkey_cntr"),
            JAVA_INT.withName("qkey_viol_cntr"),
            JAVA_SHORT.withName("pkey_tbl_len"),
            JAVA_SHORT.withName("lid"),
            JAVA_SHORT.withName("sm_lid"),
            JAVA_BYTE.withName("lmc"),
            JAVA_BYTE.withName("max_vl_num"),
            JAVA_BYTE.withName("sm_sl"),
            JAVA_BYTE.withName("subnet_timeout"),
            JAVA_BYTE.withName("init_type_reply"),
            JAVA_BYTE.withName("active_width"),
            JAVA_BYTE.withName("active_speed"),
            JAVA_BYTE.withName("phys_state"),
            JAVA_BYTE.withName("link_layer"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("port_cap_flags2"),
            MemoryLayout.paddingLayout(2)
    ).withName("ibv_port_attr");

    public static final long STATE = Native.requireOffset(LAYOUT, "state");
    public static final long MAX_MTU = Native.requireOffset(LAYOUT, "max_mtu");
    public static final long ACTIVE_MTU = Native.requireOffset(LAYOUT, "active_mtu");
    public static final long GID_TBL_LEN = Native.requireOffset(LAYOUT, "gid_tbl_len");
    public static final long MAX_MSG_SZ = Native.requireOffset(LAYOUT, "max_msg_sz");
    public static final long LID = Native.requireOffset(LAYOUT, "lid");
    public static final long PHYS_STATE = Native.requireOffset(LAYOUT, "phys_state");
    public static final long LINK_LAYER = Native.requireOffset(LAYOUT, "link_layer");

    /** An {@code IBV_PORT_*} state. */
    public static int state(MemorySegment s) { return s.get(JAVA_INT, STATE); }
    /** An {@code IBV_MTU_*} value. */
    public static int max_mtu(MemorySegment s) { return s.get(JAVA_INT, MAX_MTU); }
    public static int active_mtu(MemorySegment s) { return s.get(JAVA_INT, ACTIVE_MTU); }
    public static int gid_tbl_len(MemorySegment s) { return s.get(JAVA_INT, GID_TBL_LEN); }
    public static long max_msg_sz(MemorySegment s) { return Integer.toUnsignedLong(s.get(JAVA_INT, MAX_MSG_SZ)); }
    public static int lid(MemorySegment s) { return Short.toUnsignedInt(s.get(JAVA_SHORT, LID)); }
    public static int phys_state(MemorySegment s) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, PHYS_STATE)); }
    /** {@code IBV_LINK_LAYER_ETHERNET} on RoCE. */
    public static int link_layer(MemorySegment s) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, LINK_LAYER)); }
}
