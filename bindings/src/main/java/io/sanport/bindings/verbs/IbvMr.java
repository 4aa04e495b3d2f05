package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_mr} ({@code <infiniband/verbs.h>}): a registered memory region. {@code lkey} goes into local
 * SGEs; {@code addr} and {@code rkey} are what a peer puts in an RDMA READ/WRITE (and NVMe's keyed SGL).
 */
public final class IbvMr {
    private IbvMr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("pd"),
            ADDRESS.withName("addr"),
            JAVA_LONG.withName("length"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("lkey"),
            JAVA_INT.withName("rkey"),
            MemoryLayout.paddingLayout(4)
    ).withName("ibv_mr");

    public static final long CONTEXT = Native.requireOffset(LAYOUT, "context");
    public static final long PD = Native.requireOffset(LAYOUT, "pd");
    public static final long ADDR = Native.requireOffset(LAYOUT, "addr");
    public static final long LENGTH = Native.requireOffset(LAYOUT, "length");
    public static final long LKEY = Native.requireOffset(LAYOUT, "lkey");
    public static final long RKEY = Native.requireOffset(LAYOUT, "rkey");

    public static MemorySegment pd(MemorySegment s) { return s.get(ADDRESS, PD); }
    /** The registered start address (the iova of an {@code ibv_reg_mr} region). */
    public static long addr(MemorySegment s) { return s.get(ADDRESS, ADDR).address(); }
    public static long length(MemorySegment s) { return s.get(JAVA_LONG, LENGTH); }
    public static int lkey(MemorySegment s) { return s.get(JAVA_INT, LKEY); }
    public static int rkey(MemorySegment s) { return s.get(JAVA_INT, RKEY); }
}
