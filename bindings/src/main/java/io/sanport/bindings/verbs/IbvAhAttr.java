package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_ah_attr} with its {@code struct ibv_global_route} ({@code <infiniband/verbs.h>}): the path
 * to a peer. RoCE always routes by GID ({@code is_global} 1, {@code grh.dgid}, {@code grh.sgid_index}).
 * Accessors take the offset {@code at} of the ah_attr inside its container ({@code ibv_qp_attr.ah_attr}).
 */
public final class IbvAhAttr {
    private IbvAhAttr() {}

    /** {@code struct ibv_global_route}. */
    public static final StructLayout GRH_LAYOUT = MemoryLayout.structLayout(
            IbvGid.LAYOUT.withName("dgid"),
            JAVA_INT.withName("flow_label"),
            JAVA_BYTE.withName("sgid_index"),
            JAVA_BYTE.withName("hop_limit"),
            JAVA_BYTE.withName("traffic_class"),
            MemoryLayout.paddingLayout(1)
    ).withName("ibv_global_route");

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            GRH_LAYOUT.withName("grh"),
            JAVA_SHORT.withName("dlid"),
            JAVA_BYTE.withName("sl"),
            JAVA_BYTE.withName("src_path_bits"),
            JAVA_BYTE.withName("static_rate"),
            JAVA_BYTE.withName("is_global"),
            JAVA_BYTE.withName("port_num"),
            MemoryLayout.paddingLayout(1)
    ).withName("ibv_ah_attr");

    public static final long GRH_DGID = Native.requireOffset(LAYOUT, "grh.dgid");
    public static final long GRH_SGID_INDEX = Native.requireOffset(LAYOUT, "grh.sgid_index");
    public static final long GRH_HOP_LIMIT = Native.requireOffset(LAYOUT, "grh.hop_limit");
    public static final long DLID = Native.requireOffset(LAYOUT, "dlid");
    public static final long IS_GLOBAL = Native.requireOffset(LAYOUT, "is_global");
    public static final long PORT_NUM = Native.requireOffset(LAYOUT, "port_num");

    /** Routes by GID: {@code is_global} 1, the peer's GID, our GID index, hop limit 64 (as perftest does). */
    public static void global(MemorySegment s, long at, MemorySegment dgid, int sgidIndex, int portNum) {
        MemorySegment.copy(dgid, 0, s, at + GRH_DGID, IbvGid.LAYOUT.byteSize());
        s.set(JAVA_BYTE, at + GRH_SGID_INDEX, (byte) sgidIndex);
        s.set(JAVA_BYTE, at + GRH_HOP_LIMIT, (byte) 64);
        s.set(JAVA_BYTE, at + IS_GLOBAL, (byte) 1);
        s.set(JAVA_BYTE, at + PORT_NUM, (byte) portNum);
    }

    public static MemorySegment dgid(MemorySegment s, long at) { return s.asSlice(at + GRH_DGID, IbvGid.LAYOUT); }
    public static int is_global(MemorySegment s, long at) { return s.get(JAVA_BYTE, at + IS_GLOBAL); }
    public static int port_num(MemorySegment s, long at) { return s.get(JAVA_BYTE, at + PORT_NUM); }
}
