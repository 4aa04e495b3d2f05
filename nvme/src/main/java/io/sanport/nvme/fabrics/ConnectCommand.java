package io.sanport.nvme.fabrics;

import io.sanport.nvme.SglDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Fabrics Connect command (FCTYPE 0x01), NVMe-oF 1.1 §3.3 (64 B); Linux {@code struct nvmf_connect_command}. */
public final class ConnectCommand {
    public static final int RECFMT_0 = 0;
    public static final int ADMIN_QID = 0;

    /** Disable SQ flow control: SQHD becomes 0xFFFF and C2HData may carry SUCCESS. */
    public static final int CATTR_DISABLE_SQFLOW = 1 << 2;

    /** Success DW0 bits 31:16 (AUTHREQ): authentication required / secure channel concatenation required. */
    public static final int AUTHREQ_ATR = 1 << 17;
    public static final int AUTHREQ_ASCR = 1 << 18;

    /** Failure DW0 bit 16 (IATTR): the IPO offset in bits 15:0 points into the Connect data, not the SQE. */
    public static final int IATTR_DATA = 1 << 16;

    /** The Connect data is always exactly this long (else SGL Data Block Length Invalid). */
    public static final int DATA_LENGTH = 1024;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("opcode"),
            MemoryLayout.paddingLayout(1),
            U16.withName("command_id"),
            U8.withName("fctype"),
            MemoryLayout.paddingLayout(19),
            SglDescriptor.LAYOUT.withName("dptr"),
            U16.withName("recfmt"),
            U16.withName("qid"),
            U16.withName("sqsize"),
            U8.withName("cattr"),
            MemoryLayout.paddingLayout(1),
            U32.withName("kato"),
            MemoryLayout.paddingLayout(12)
    ).withName("nvmf_connect_command");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_OPCODE = LAYOUT.byteOffset(groupElement("opcode"));
    public static final long OFFSET_CID = LAYOUT.byteOffset(groupElement("command_id"));
    public static final long OFFSET_FCTYPE = LAYOUT.byteOffset(groupElement("fctype"));
    public static final long OFFSET_DPTR = LAYOUT.byteOffset(groupElement("dptr"));
    public static final long OFFSET_RECFMT = LAYOUT.byteOffset(groupElement("recfmt"));
    public static final long OFFSET_QID = LAYOUT.byteOffset(groupElement("qid"));
    public static final long OFFSET_SQSIZE = LAYOUT.byteOffset(groupElement("sqsize"));
    public static final long OFFSET_CATTR = LAYOUT.byteOffset(groupElement("cattr"));
    public static final long OFFSET_KATO = LAYOUT.byteOffset(groupElement("kato"));

    private ConnectCommand() {}

    public static int opcode(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_OPCODE)); }
    public static void opcode(MemorySegment s, int v) { s.set(U8, OFFSET_OPCODE, (byte) v); }

    public static int cid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CID)); }
    public static void cid(MemorySegment s, int v) { s.set(U16, OFFSET_CID, (short) v); }

    public static int fctype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FCTYPE)); }
    public static void fctype(MemorySegment s, int v) { s.set(U8, OFFSET_FCTYPE, (byte) v); }

    // must be 0, else Connect Incompatible Format
    public static int recfmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RECFMT)); }
    public static void recfmt(MemorySegment s, int v) { s.set(U16, OFFSET_RECFMT, (short) v); }

    // 0 = admin queue
    public static int qid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_QID)); }
    public static void qid(MemorySegment s, int v) { s.set(U16, OFFSET_QID, (short) v); }

    // 0-based; Linux sends 31 for the admin queue; 0 or > CAP.MQES is invalid (IPO 44)
    public static int sqsize(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_SQSIZE)); }
    public static void sqsize(MemorySegment s, int v) { s.set(U16, OFFSET_SQSIZE, (short) v); }

    public static int cattr(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CATTR)); }
    public static void cattr(MemorySegment s, int v) { s.set(U8, OFFSET_CATTR, (byte) v); }

    // milliseconds; 0 on I/O queues and on non-persistent discovery controllers
    public static long kato(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_KATO)); }
    public static void kato(MemorySegment s, long v) { s.set(U32, OFFSET_KATO, (int) v); }

    /** Success DW0: CNTLID in 15:0, AUTHREQ bits above (0 without DH-HMAC-CHAP). */
    public static int successDw0(int cntlid) { return cntlid & 0xFFFF; }

    /** Invalid-parameter DW0: the byte offset of the bad field, e.g. SQSIZE gives 44, a bad data CNTLID 0x00010010. */
    public static int invalidParameterDw0(int offset, boolean inData) { return offset & 0xFFFF | (inData ? IATTR_DATA : 0); }
}
