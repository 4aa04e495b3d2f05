package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct ibv_sge} ({@code <infiniband/verbs.h>}): one scatter/gather element of registered memory. */
public final class IbvSge {
    private IbvSge() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("length"),
            JAVA_INT.withName("lkey")
    ).withName("ibv_sge");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long ADDR = Native.requireOffset(LAYOUT, "addr");
    public static final long LENGTH = Native.requireOffset(LAYOUT, "length");
    public static final long LKEY = Native.requireOffset(LAYOUT, "lkey");

    /** Fills the SGE at {@code at} in {@code s}. */
    public static void set(MemorySegment s, long at, long addr, int length, int lkey) {
        s.set(JAVA_LONG, at + ADDR, addr);
        s.set(JAVA_INT, at + LENGTH, length);
        s.set(JAVA_INT, at + LKEY, lkey);
    }

    public static long addr(MemorySegment s, long at) { return s.get(JAVA_LONG, at + ADDR); }
    public static int length(MemorySegment s, long at) { return s.get(JAVA_INT, at + LENGTH); }
    public static int lkey(MemorySegment s, long at) { return s.get(JAVA_INT, at + LKEY); }
}
