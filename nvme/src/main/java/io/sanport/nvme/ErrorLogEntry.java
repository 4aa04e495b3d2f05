package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Error Information log entry (LID 0x01), NVMe Base 2.0 §5.16.1.2 (64 B); libnvme {@code struct nvme_error_log_page}. */
public final class ErrorLogEntry {
    /** Parameter Error Location when no single field is to blame. */
    public static final int PARAMETER_ERROR_LOCATION_NONE = 0xFFFF;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("error_count"),
            U16.withName("sqid"),
            U16.withName("cmdid"),
            U16.withName("status_field"),
            U16.withName("parm_error_location"),
            U64.withName("lba"),
            U32.withName("nsid"),
            U8.withName("vs"),
            U8.withName("trtype"),
            MemoryLayout.paddingLayout(2),
            U64.withName("cs"),
            U16.withName("trtype_spec_info"),
            MemoryLayout.paddingLayout(22)
    ).withName("nvme_error_log_page");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_ERROR_COUNT = LAYOUT.byteOffset(groupElement("error_count"));
    public static final long OFFSET_SQID = LAYOUT.byteOffset(groupElement("sqid"));
    public static final long OFFSET_CID = LAYOUT.byteOffset(groupElement("cmdid"));
    public static final long OFFSET_STATUS_FIELD = LAYOUT.byteOffset(groupElement("status_field"));
    public static final long OFFSET_PARAMETER_ERROR_LOCATION = LAYOUT.byteOffset(groupElement("parm_error_location"));
    public static final long OFFSET_LBA = LAYOUT.byteOffset(groupElement("lba"));
    public static final long OFFSET_NSID = LAYOUT.byteOffset(groupElement("nsid"));
    public static final long OFFSET_VENDOR_SPECIFIC = LAYOUT.byteOffset(groupElement("vs"));
    public static final long OFFSET_TRTYPE = LAYOUT.byteOffset(groupElement("trtype"));
    public static final long OFFSET_COMMAND_SPECIFIC = LAYOUT.byteOffset(groupElement("cs"));
    public static final long OFFSET_TRTYPE_SPECIFIC_INFO = LAYOUT.byteOffset(groupElement("trtype_spec_info"));

    private ErrorLogEntry() {}

    public static long errorCount(MemorySegment s) { return s.get(U64, OFFSET_ERROR_COUNT); }
    public static void errorCount(MemorySegment s, long v) { s.set(U64, OFFSET_ERROR_COUNT, v); }

    public static int sqid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_SQID)); }
    public static void sqid(MemorySegment s, int v) { s.set(U16, OFFSET_SQID, (short) v); }

    public static int cid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CID)); }
    public static void cid(MemorySegment s, int v) { s.set(U16, OFFSET_CID, (short) v); }

    // same bit layout as the CQE status word, phase bit included
    public static int statusField(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_STATUS_FIELD)); }
    public static void statusField(MemorySegment s, int v) { s.set(U16, OFFSET_STATUS_FIELD, (short) v); }

    // byte offset in bits 7:0 and bit in 10:8 of the offending command field
    public static int parameterErrorLocation(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_PARAMETER_ERROR_LOCATION)); }
    public static void parameterErrorLocation(MemorySegment s, int v) { s.set(U16, OFFSET_PARAMETER_ERROR_LOCATION, (short) v); }

    public static long lba(MemorySegment s) { return s.get(U64, OFFSET_LBA); }
    public static void lba(MemorySegment s, long v) { s.set(U64, OFFSET_LBA, v); }

    public static int nsid(MemorySegment s) { return s.get(U32, OFFSET_NSID); }
    public static void nsid(MemorySegment s, int v) { s.set(U32, OFFSET_NSID, v); }

    public static int vendorSpecific(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_VENDOR_SPECIFIC)); }
    public static void vendorSpecific(MemorySegment s, int v) { s.set(U8, OFFSET_VENDOR_SPECIFIC, (byte) v); }

    public static int trtype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_TRTYPE)); }
    public static void trtype(MemorySegment s, int v) { s.set(U8, OFFSET_TRTYPE, (byte) v); }

    public static long commandSpecific(MemorySegment s) { return s.get(U64, OFFSET_COMMAND_SPECIFIC); }
    public static void commandSpecific(MemorySegment s, long v) { s.set(U64, OFFSET_COMMAND_SPECIFIC, v); }

    public static int trtypeSpecificInfo(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_TRTYPE_SPECIFIC_INFO)); }
    public static void trtypeSpecificInfo(MemorySegment s, int v) { s.set(U16, OFFSET_TRTYPE_SPECIFIC_INFO, (short) v); }
}
