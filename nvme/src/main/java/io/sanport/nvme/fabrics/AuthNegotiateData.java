package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * AUTH_Negotiate (host to controller, Authentication Send), NVMe 2.0 §8.13.4.2 with its first protocol
 * descriptor (the only one Linux sends); Linux {@code struct nvmf_auth_dhchap_negotiate_data} plus {@code struct
 * nvmf_auth_dhchap_protocol_descriptor}. The descriptor's ID list holds HALEN hash IDs from byte 0 and DHLEN DH
 * group IDs from byte 30.
 */
public final class AuthNegotiateData {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("auth_type"),
            U8.withName("auth_id"),
            MemoryLayout.paddingLayout(2),
            U16.withName("t_id"),
            U8.withName("sc_c"),
            U8.withName("napd"),
            U8.withName("authid"),
            MemoryLayout.paddingLayout(1),
            U8.withName("halen"),
            U8.withName("dhlen"),
            MemoryLayout.sequenceLayout(60, U8).withName("idlist")
    ).withName("nvmf_auth_dhchap_negotiate_data");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_SC_C = LAYOUT.byteOffset(groupElement("sc_c"));
    public static final long OFFSET_NAPD = LAYOUT.byteOffset(groupElement("napd"));
    public static final long OFFSET_AUTHID = LAYOUT.byteOffset(groupElement("authid"));
    public static final long OFFSET_HALEN = LAYOUT.byteOffset(groupElement("halen"));
    public static final long OFFSET_DHLEN = LAYOUT.byteOffset(groupElement("dhlen"));
    public static final long OFFSET_IDLIST = LAYOUT.byteOffset(groupElement("idlist"));
    /** Where the DH group IDs start in the ID list. */
    public static final int DH_IDS_AT = 30;

    private AuthNegotiateData() {}

    public static int scC(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_SC_C)); }
    public static void scC(MemorySegment s, int v) { s.set(U8, OFFSET_SC_C, (byte) v); }

    public static int napd(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NAPD)); }
    public static void napd(MemorySegment s, int v) { s.set(U8, OFFSET_NAPD, (byte) v); }

    public static int authid(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AUTHID)); }
    public static void authid(MemorySegment s, int v) { s.set(U8, OFFSET_AUTHID, (byte) v); }

    public static int halen(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HALEN)); }
    public static int dhlen(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DHLEN)); }

    /** Hash ID {@code i} (i < HALEN). */
    public static int hashId(MemorySegment s, int i) { return Byte.toUnsignedInt(s.get(U8, OFFSET_IDLIST + i)); }
    /** DH group ID {@code i} (i < DHLEN). */
    public static int dhgroupId(MemorySegment s, int i) { return Byte.toUnsignedInt(s.get(U8, OFFSET_IDLIST + DH_IDS_AT + i)); }

    /** Writes the descriptor's lists (at most 30 IDs each) with their lengths. */
    public static void ids(MemorySegment s, int[] hashIds, int[] dhgroupIds) {
        if (hashIds.length > Dhchap.MAX_IDS || dhgroupIds.length > Dhchap.MAX_IDS) {
            throw new IllegalArgumentException("at most " + Dhchap.MAX_IDS + " IDs per list");
        }
        s.set(U8, OFFSET_HALEN, (byte) hashIds.length);
        s.set(U8, OFFSET_DHLEN, (byte) dhgroupIds.length);
        for (int i = 0; i < hashIds.length; i++) s.set(U8, OFFSET_IDLIST + i, (byte) hashIds[i]);
        for (int i = 0; i < dhgroupIds.length; i++) s.set(U8, OFFSET_IDLIST + DH_IDS_AT + i, (byte) dhgroupIds[i]);
    }
}
