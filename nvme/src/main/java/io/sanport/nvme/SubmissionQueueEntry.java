package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Submission Queue Entry, NVMe Base 2.0 §4.1 (64 B); Linux {@code struct nvme_common_command} / {@code nvme_rw_command}. */
public final class SubmissionQueueEntry {
    public static final int FLAGS_FUSE_MASK = 0x03;
    public static final int FUSE_FIRST = 0x01;
    public static final int FUSE_SECOND = 0x02;
    public static final int FLAGS_PSDT_MASK = 0xC0;
    public static final int PSDT_PRP = 0x00;
    /** SGL for data, MPTR is a single contiguous buffer: what fabrics requires and Linux sends. */
    public static final int PSDT_SGL_MPTR_CONTIG = 0x40;
    public static final int PSDT_SGL_MPTR_SGL = 0x80;

    /** NSID FFFFFFFFh: all namespaces (SMART log, Changed Namespace List). */
    public static final int NSID_ALL = 0xFFFFFFFF;

    // Read / Write / Write Zeroes CDW12 (nvme_rw_command.length + control)
    public static final int CDW12_NLB_MASK = 0xFFFF;
    public static final int CDW12_DEAC = 1 << 25;
    public static final int CDW12_PRCHK_REF = 1 << 26;
    public static final int CDW12_PRCHK_APP = 1 << 27;
    public static final int CDW12_PRCHK_GUARD = 1 << 28;
    public static final int CDW12_PRACT = 1 << 29;
    public static final int CDW12_FUA = 1 << 30;
    public static final int CDW12_LR = 1 << 31;
    /** Max blocks per Read/Write: NLB is a 0-based 16-bit count. */
    public static final int MAX_BLOCKS = 65536;

    // Dataset Management: CDW10 bits 7:0 NR (0-based), CDW11 attributes
    public static final int DSM_IDR = 1 << 0;
    public static final int DSM_IDW = 1 << 1;
    public static final int DSM_AD = 1 << 2;

    // Set Features CDW10 bit 31 SV; Get Features CDW10 bits 10:8 SEL; Get Log Page CDW10 bit 15 RAE
    public static final int FEATURES_SV = 1 << 31;
    public static final int LOG_RAE = 1 << 15;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("opcode"),
            U8.withName("flags"),
            U16.withName("command_id"),
            U32.withName("nsid"),
            U32.withName("cdw2"),
            U32.withName("cdw3"),
            U64.withName("metadata"),
            SglDescriptor.LAYOUT.withName("dptr"),
            U32.withName("cdw10"),
            U32.withName("cdw11"),
            U32.withName("cdw12"),
            U32.withName("cdw13"),
            U32.withName("cdw14"),
            U32.withName("cdw15")
    ).withName("nvme_common_command");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_OPCODE = LAYOUT.byteOffset(groupElement("opcode"));
    public static final long OFFSET_FLAGS = LAYOUT.byteOffset(groupElement("flags"));
    public static final long OFFSET_CID = LAYOUT.byteOffset(groupElement("command_id"));
    public static final long OFFSET_NSID = LAYOUT.byteOffset(groupElement("nsid"));
    public static final long OFFSET_CDW2 = LAYOUT.byteOffset(groupElement("cdw2"));
    public static final long OFFSET_CDW3 = LAYOUT.byteOffset(groupElement("cdw3"));
    public static final long OFFSET_MPTR = LAYOUT.byteOffset(groupElement("metadata"));
    public static final long OFFSET_DPTR = LAYOUT.byteOffset(groupElement("dptr"));
    public static final long OFFSET_CDW10 = LAYOUT.byteOffset(groupElement("cdw10"));
    public static final long OFFSET_CDW11 = LAYOUT.byteOffset(groupElement("cdw11"));
    public static final long OFFSET_CDW12 = LAYOUT.byteOffset(groupElement("cdw12"));
    public static final long OFFSET_CDW13 = LAYOUT.byteOffset(groupElement("cdw13"));
    public static final long OFFSET_CDW14 = LAYOUT.byteOffset(groupElement("cdw14"));
    public static final long OFFSET_CDW15 = LAYOUT.byteOffset(groupElement("cdw15"));

    private SubmissionQueueEntry() {}

    public static int opcode(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_OPCODE)); }
    public static void opcode(MemorySegment s, int v) { s.set(U8, OFFSET_OPCODE, (byte) v); }

    // FUSE bits 1:0, PSDT bits 7:6; the Linux fabrics hosts always send 0x40
    public static int flags(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FLAGS)); }
    public static void flags(MemorySegment s, int v) { s.set(U8, OFFSET_FLAGS, (byte) v); }

    // opaque to the target: echo it (Linux: 4-bit generation in 15:12, blk-mq tag in 11:0)
    public static int cid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CID)); }
    public static void cid(MemorySegment s, int v) { s.set(U16, OFFSET_CID, (short) v); }

    public static int nsid(MemorySegment s) { return s.get(U32, OFFSET_NSID); }
    public static void nsid(MemorySegment s, int v) { s.set(U32, OFFSET_NSID, v); }

    public static int cdw2(MemorySegment s) { return s.get(U32, OFFSET_CDW2); }
    public static void cdw2(MemorySegment s, int v) { s.set(U32, OFFSET_CDW2, v); }

    public static int cdw3(MemorySegment s) { return s.get(U32, OFFSET_CDW3); }
    public static void cdw3(MemorySegment s, int v) { s.set(U32, OFFSET_CDW3, v); }

    // always 0 from fabrics hosts: metadata is only supported interleaved (extended LBAs)
    public static long mptr(MemorySegment s) { return s.get(U64, OFFSET_MPTR); }
    public static void mptr(MemorySegment s, long v) { s.set(U64, OFFSET_MPTR, v); }

    public static int cdw10(MemorySegment s) { return s.get(U32, OFFSET_CDW10); }
    public static void cdw10(MemorySegment s, int v) { s.set(U32, OFFSET_CDW10, v); }

    public static int cdw11(MemorySegment s) { return s.get(U32, OFFSET_CDW11); }
    public static void cdw11(MemorySegment s, int v) { s.set(U32, OFFSET_CDW11, v); }

    public static int cdw12(MemorySegment s) { return s.get(U32, OFFSET_CDW12); }
    public static void cdw12(MemorySegment s, int v) { s.set(U32, OFFSET_CDW12, v); }

    public static int cdw13(MemorySegment s) { return s.get(U32, OFFSET_CDW13); }
    public static void cdw13(MemorySegment s, int v) { s.set(U32, OFFSET_CDW13, v); }

    public static int cdw14(MemorySegment s) { return s.get(U32, OFFSET_CDW14); }
    public static void cdw14(MemorySegment s, int v) { s.set(U32, OFFSET_CDW14, v); }

    public static int cdw15(MemorySegment s) { return s.get(U32, OFFSET_CDW15); }
    public static void cdw15(MemorySegment s, int v) { s.set(U32, OFFSET_CDW15, v); }

    // Read / Write / Write Zeroes view (nvme_rw_command): SLBA in CDW10-11, NLB and control in CDW12

    public static final long OFFSET_SLBA = OFFSET_CDW10;
    public static final long OFFSET_NLB = OFFSET_CDW12;
    public static final long OFFSET_CONTROL = OFFSET_CDW12 + 2;

    public static long slba(MemorySegment s) { return s.get(U64, OFFSET_SLBA); }
    public static void slba(MemorySegment s, long v) { s.set(U64, OFFSET_SLBA, v); }

    /** Zero-based: the command covers {@code nlb + 1} blocks. */
    public static int nlb(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NLB)); }
    public static void nlb(MemorySegment s, int v) { s.set(U16, OFFSET_NLB, (short) v); }

    public static int blocks(MemorySegment s) { return nlb(s) + 1; }

    /** CDW12 bits 31:16: LR, FUA, PRINFO, DEAC (the CDW12_* masks shifted right by 16). */
    public static int control(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CONTROL)); }
    public static void control(MemorySegment s, int v) { s.set(U16, OFFSET_CONTROL, (short) v); }

    public static boolean fua(MemorySegment s) { return (cdw12(s) & CDW12_FUA) != 0; }
    public static void fua(MemorySegment s, boolean v) { cdw12(s, v ? cdw12(s) | CDW12_FUA : cdw12(s) & ~CDW12_FUA); }

    // Identify: CNS byte 40, CNTID bytes 42-43, CSI byte 47 (NVMe Base 2.0 §5.17)

    public static int cns(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CDW10)); }
    public static int cntid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CDW10 + 2)); }
    public static int identifyCsi(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CDW11 + 3)); }

    // Get Log Page: LID byte 40, LSP 7 bits of byte 41, NUMDL 42-43, NUMDU 44-45, LPO 48-55, CSI byte 59

    public static int logPageId(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CDW10)); }
    public static int logSpecificField(MemorySegment s) { return s.get(U8, OFFSET_CDW10 + 1) & 0x7F; }
    public static boolean retainAsyncEvent(MemorySegment s) { return (cdw10(s) & LOG_RAE) != 0; }

    /** Transfer length in bytes: (NUMDU:NUMDL + 1) dwords. */
    public static long logPageLength(MemorySegment s) {
        long numd = Short.toUnsignedLong(s.get(U16, OFFSET_CDW10 + 2)) | Short.toUnsignedLong(s.get(U16, OFFSET_CDW11)) << 16;
        return (numd + 1) * 4;
    }

    /** Sets NUMDL/NUMDU for a dword-multiple length in bytes. */
    public static void logPageLength(MemorySegment s, long bytes) {
        long numd = bytes / 4 - 1;
        s.set(U16, OFFSET_CDW10 + 2, (short) numd);
        s.set(U16, OFFSET_CDW11, (short) (numd >>> 16));
    }

    public static long logPageOffset(MemorySegment s) { return s.get(U64, OFFSET_CDW12); }
    public static int logCsi(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CDW14 + 3)); }

    // Set / Get Features

    public static int featureId(MemorySegment s) { return cdw10(s) & 0xFF; }
    public static int featureSelect(MemorySegment s) { return cdw10(s) >>> 8 & 0x7; }

    /** Dataset Management number of ranges (NR is 0-based). */
    public static int dsmRanges(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CDW10)) + 1; }
}
