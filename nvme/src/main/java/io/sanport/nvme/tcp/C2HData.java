package io.sanport.nvme.tcp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP C2HData PDU header, NVMe/TCP 1.0 §3.6.2.7 (24 B); SPDK {@code struct spdk_nvme_tcp_c2h_data_hdr}, Linux {@code struct nvme_tcp_data_pdu}. */
public final class C2HData {
    public static final int HLEN = 24;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            U16.withName("cccid"),
            U16.withName("ttag"),
            U32.withName("datao"),
            U32.withName("datal"),
            MemoryLayout.paddingLayout(4)
    ).withName("spdk_nvme_tcp_c2h_data_hdr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_CCCID = LAYOUT.byteOffset(groupElement("cccid"));
    public static final long OFFSET_TTAG = LAYOUT.byteOffset(groupElement("ttag"));
    public static final long OFFSET_DATAO = LAYOUT.byteOffset(groupElement("datao"));
    public static final long OFFSET_DATAL = LAYOUT.byteOffset(groupElement("datal"));

    private C2HData() {}

    // CID of the command the data belongs to
    public static int cccid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CCCID)); }
    public static void cccid(MemorySegment s, int v) { s.set(U16, OFFSET_CCCID, (short) v); }

    // reserved in C2HData
    public static int ttag(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_TTAG)); }
    public static void ttag(MemorySegment s, int v) { s.set(U16, OFFSET_TTAG, (short) v); }

    // offset into the command's data; the L6.1 host ignores it, so send in order
    public static long datao(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_DATAO)); }
    public static void datao(MemorySegment s, long v) { s.set(U32, OFFSET_DATAO, (int) v); }

    public static long datal(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_DATAL)); }
    public static void datal(MemorySegment s, long v) { s.set(U32, OFFSET_DATAL, (int) v); }
}
