package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U64;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Discovery log page header (LID 0x70), NVMe-oF 1.1 §5.3 (1024 B, entries follow); Linux {@code struct nvmf_disc_rsp_page_hdr}. */
public final class DiscoveryLogPage {
    public static final int ENTRY_SIZE = 1024;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("genctr"),
            U64.withName("numrec"),
            U16.withName("recfmt"),
            MemoryLayout.paddingLayout(1006)
    ).withName("nvmf_disc_rsp_page_hdr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_GENCTR = LAYOUT.byteOffset(groupElement("genctr"));
    public static final long OFFSET_NUMREC = LAYOUT.byteOffset(groupElement("numrec"));
    public static final long OFFSET_RECFMT = LAYOUT.byteOffset(groupElement("recfmt"));

    private DiscoveryLogPage() {}

    // bumped on every change; libnvme re-reads while it moves
    public static long genctr(MemorySegment s) { return s.get(U64, OFFSET_GENCTR); }
    public static void genctr(MemorySegment s, long v) { s.set(U64, OFFSET_GENCTR, v); }

    public static long numrec(MemorySegment s) { return s.get(U64, OFFSET_NUMREC); }
    public static void numrec(MemorySegment s, long v) { s.set(U64, OFFSET_NUMREC, v); }

    public static int recfmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RECFMT)); }
    public static void recfmt(MemorySegment s, int v) { s.set(U16, OFFSET_RECFMT, (short) v); }

    /** Byte offset of entry {@code i} in the log. */
    public static long entryOffset(long i) { return SIZE + i * ENTRY_SIZE; }

    /** Length of a log holding {@code numrec} entries. */
    public static long length(long numrec) { return SIZE + numrec * ENTRY_SIZE; }
}
