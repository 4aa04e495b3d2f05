package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Dataset Management range, NVMe NVM Command Set 1.0 §3.2.3 (16 B); Linux {@code struct nvme_dsm_range}. */
public final class DsmRange {
    /** Linux always transfers this many ranges (4096 B) whatever NR says. */
    public static final int MAX_RANGES = 256;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("cattr"),
            U32.withName("nlb"),
            U64.withName("slba")
    ).withName("nvme_dsm_range");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_CONTEXT_ATTRIBUTES = LAYOUT.byteOffset(groupElement("cattr"));
    public static final long OFFSET_NLB = LAYOUT.byteOffset(groupElement("nlb"));
    public static final long OFFSET_SLBA = LAYOUT.byteOffset(groupElement("slba"));

    private DsmRange() {}

    public static int contextAttributes(MemorySegment s) { return s.get(U32, OFFSET_CONTEXT_ATTRIBUTES); }
    public static void contextAttributes(MemorySegment s, int v) { s.set(U32, OFFSET_CONTEXT_ATTRIBUTES, v); }

    // a block count, NOT 0-based (unlike the Read/Write NLB)
    public static long nlb(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_NLB)); }
    public static void nlb(MemorySegment s, long v) { s.set(U32, OFFSET_NLB, (int) v); }

    public static long slba(MemorySegment s) { return s.get(U64, OFFSET_SLBA); }
    public static void slba(MemorySegment s, long v) { s.set(U64, OFFSET_SLBA, v); }
}
