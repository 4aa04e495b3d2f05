package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * DH-HMAC-CHAP_Reply (host to controller, Authentication Send), NVMe 2.0 §8.13.5.4; Linux {@code struct
 * nvmf_auth_dhchap_reply_data}: a 16-byte header, HL bytes of response R1, HL bytes of challenge C2 (meaningful
 * when CVALID), then DHVLEN bytes of the host's DH public value. SEQNUM 0 means no bidirectional authentication.
 */
public final class DhchapReplyData {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("auth_type"),
            U8.withName("auth_id"),
            MemoryLayout.paddingLayout(2),
            U16.withName("t_id"),
            U8.withName("hl"),
            MemoryLayout.paddingLayout(1),
            U8.withName("cvalid"),
            MemoryLayout.paddingLayout(1),
            U16.withName("dhvlen"),
            U32.withName("seqnum")
    ).withName("nvmf_auth_dhchap_reply_data");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_HL = LAYOUT.byteOffset(groupElement("hl"));
    public static final long OFFSET_CVALID = LAYOUT.byteOffset(groupElement("cvalid"));
    public static final long OFFSET_DHVLEN = LAYOUT.byteOffset(groupElement("dhvlen"));
    public static final long OFFSET_SEQNUM = LAYOUT.byteOffset(groupElement("seqnum"));
    public static final long OFFSET_RVAL = SIZE;

    private DhchapReplyData() {}

    public static int hl(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HL)); }
    public static void hl(MemorySegment s, int v) { s.set(U8, OFFSET_HL, (byte) v); }

    public static boolean cvalid(MemorySegment s) { return (s.get(U8, OFFSET_CVALID) & 1) != 0; }
    public static void cvalid(MemorySegment s, boolean v) { s.set(U8, OFFSET_CVALID, (byte) (v ? 1 : 0)); }

    public static int dhvlen(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_DHVLEN)); }
    public static void dhvlen(MemorySegment s, int v) { s.set(U16, OFFSET_DHVLEN, (short) v); }

    public static int seqnum(MemorySegment s) { return s.get(U32, OFFSET_SEQNUM); }
    public static void seqnum(MemorySegment s, int v) { s.set(U32, OFFSET_SEQNUM, v); }

    /** Where C2 starts: after R1. */
    public static long offsetC2(int hl) { return SIZE + hl; }
    /** Where the DH value starts: after R1 and C2. */
    public static long offsetDhv(int hl) { return SIZE + 2L * hl; }
    /** Bytes of a reply with {@code hl}-byte values and {@code dhvlen} bytes of DH value. */
    public static long size(int hl, int dhvlen) { return SIZE + 2L * hl + dhvlen; }
}
