package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * DH-HMAC-CHAP_Challenge (controller to host, Authentication Receive), NVMe 2.0 §8.13.5.3; Linux {@code struct
 * nvmf_auth_dhchap_challenge_data}: a 16-byte header, then HL bytes of challenge C1, then DHVLEN bytes of the
 * controller's DH public value.
 */
public final class DhchapChallengeData {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("auth_type"),
            U8.withName("auth_id"),
            MemoryLayout.paddingLayout(2),
            U16.withName("t_id"),
            U8.withName("hl"),
            MemoryLayout.paddingLayout(1),
            U8.withName("hashid"),
            U8.withName("dhgid"),
            U16.withName("dhvlen"),
            U32.withName("seqnum")
    ).withName("nvmf_auth_dhchap_challenge_data");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_HL = LAYOUT.byteOffset(groupElement("hl"));
    public static final long OFFSET_HASHID = LAYOUT.byteOffset(groupElement("hashid"));
    public static final long OFFSET_DHGID = LAYOUT.byteOffset(groupElement("dhgid"));
    public static final long OFFSET_DHVLEN = LAYOUT.byteOffset(groupElement("dhvlen"));
    public static final long OFFSET_SEQNUM = LAYOUT.byteOffset(groupElement("seqnum"));
    public static final long OFFSET_CVAL = SIZE;

    private DhchapChallengeData() {}

    public static int hl(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HL)); }
    public static void hl(MemorySegment s, int v) { s.set(U8, OFFSET_HL, (byte) v); }

    public static int hashId(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HASHID)); }
    public static void hashId(MemorySegment s, int v) { s.set(U8, OFFSET_HASHID, (byte) v); }

    public static int dhgroupId(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DHGID)); }
    public static void dhgroupId(MemorySegment s, int v) { s.set(U8, OFFSET_DHGID, (byte) v); }

    public static int dhvlen(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_DHVLEN)); }
    public static void dhvlen(MemorySegment s, int v) { s.set(U16, OFFSET_DHVLEN, (short) v); }

    public static int seqnum(MemorySegment s) { return s.get(U32, OFFSET_SEQNUM); }
    public static void seqnum(MemorySegment s, int v) { s.set(U32, OFFSET_SEQNUM, v); }

    /** Bytes of a challenge with {@code hl} bytes of C1 and {@code dhvlen} of DH value. */
    public static long size(int hl, int dhvlen) { return SIZE + hl + dhvlen; }
}
