package io.sanport.nvme;

import java.lang.foreign.MemorySegment;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;

/**
 * Asymmetric Namespace Access log (LID 0x0C), NVMe Base 2.0 §5.16.1.12: a 16-byte header (CHGCNT 8 bytes, NGRPS 2
 * bytes), then NGRPS group descriptors of 32 bytes (ANAGRPID, NNSIDS, CHGCNT, state in bits 3:0 of byte 16), each
 * followed by NNSIDS namespace IDs of 4 bytes. With RGO (LSP bit 0, "return groups only") NNSIDS is 0 and no IDs
 * follow. libnvme {@code struct nvme_ana_log} / {@code nvme_ana_group_desc}.
 */
public final class AnaLogPage {
    public static final int HEADER_SIZE = 16;
    public static final int DESCRIPTOR_SIZE = 32;
    /** Get Log Page LSP bit 0 for this log. */
    public static final int LSP_RGO = 1;

    private AnaLogPage() {}

    public static long chgcnt(MemorySegment s) { return s.get(U64, 0); }
    public static void chgcnt(MemorySegment s, long v) { s.set(U64, 0, v); }
    public static int ngrps(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, 8)); }
    public static void ngrps(MemorySegment s, int v) { s.set(U16, 8, (short) v); }

    /** Descriptor accessors; {@code d} is the descriptor's own slice (its NSIDs follow at 32). */
    public static int grpid(MemorySegment d) { return d.get(U32, 0); }
    public static void grpid(MemorySegment d, int v) { d.set(U32, 0, v); }
    public static int nnsids(MemorySegment d) { return d.get(U32, 4); }
    public static void nnsids(MemorySegment d, int v) { d.set(U32, 4, v); }
    public static long groupChgcnt(MemorySegment d) { return d.get(U64, 8); }
    public static void groupChgcnt(MemorySegment d, long v) { d.set(U64, 8, v); }
    public static int state(MemorySegment d) { return d.get(U8, 16) & 0xF; }
    public static void state(MemorySegment d, int v) { d.set(U8, 16, (byte) (v & 0xF)); }
    public static int nsid(MemorySegment d, int i) { return d.get(U32, DESCRIPTOR_SIZE + 4L * i); }
    public static void nsid(MemorySegment d, int i, int v) { d.set(U32, DESCRIPTOR_SIZE + 4L * i, v); }

    /** A descriptor's length with its NSIDs. */
    public static long descriptorLength(int nnsids) { return DESCRIPTOR_SIZE + 4L * nnsids; }
}
