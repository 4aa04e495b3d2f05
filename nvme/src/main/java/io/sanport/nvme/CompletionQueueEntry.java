package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Completion Queue Entry, NVMe Base 2.0 §4.2 (16 B); SPDK {@code struct spdk_nvme_cpl}, Linux {@code struct nvme_completion}. */
public final class CompletionQueueEntry {
    /** SQHD when SQ flow control is disabled (Connect CATTR bit 2). */
    public static final int SQHD_DISABLED = 0xFFFF;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("cdw0"),
            U32.withName("cdw1"),
            U16.withName("sqhd"),
            U16.withName("sqid"),
            U16.withName("cid"),
            U16.withName("status")
    ).withName("spdk_nvme_cpl");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_DW0 = LAYOUT.byteOffset(groupElement("cdw0"));
    public static final long OFFSET_DW1 = LAYOUT.byteOffset(groupElement("cdw1"));
    public static final long OFFSET_SQHD = LAYOUT.byteOffset(groupElement("sqhd"));
    public static final long OFFSET_SQID = LAYOUT.byteOffset(groupElement("sqid"));
    public static final long OFFSET_CID = LAYOUT.byteOffset(groupElement("cid"));
    public static final long OFFSET_STATUS = LAYOUT.byteOffset(groupElement("status"));

    private CompletionQueueEntry() {}

    // command-specific: CNTLID for Connect, property value (low) for Property Get, NSQA/NCQA, AER event
    public static int dw0(MemorySegment s) { return s.get(U32, OFFSET_DW0); }
    public static void dw0(MemorySegment s, int v) { s.set(U32, OFFSET_DW0, v); }

    // high half of an 8-byte Property Get value
    public static int dw1(MemorySegment s) { return s.get(U32, OFFSET_DW1); }
    public static void dw1(MemorySegment s, int v) { s.set(U32, OFFSET_DW1, v); }

    // 0xFFFF when the host disabled SQ flow control at Connect
    public static int sqhd(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_SQHD)); }
    public static void sqhd(MemorySegment s, int v) { s.set(U16, OFFSET_SQHD, (short) v); }

    public static int sqid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_SQID)); }
    public static void sqid(MemorySegment s, int v) { s.set(U16, OFFSET_SQID, (short) v); }

    public static int cid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CID)); }
    public static void cid(MemorySegment s, int v) { s.set(U16, OFFSET_CID, (short) v); }

    // phase in bit 0, see Status
    public static int status(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_STATUS)); }
    public static void status(MemorySegment s, int v) { s.set(U16, OFFSET_STATUS, (short) v); }

    /** DW0 and DW1 as one 64-bit result (Property Get of an 8-byte property). */
    public static long result64(MemorySegment s) { return s.get(U64, OFFSET_DW0); }
    public static void result64(MemorySegment s, long v) { s.set(U64, OFFSET_DW0, v); }
}
