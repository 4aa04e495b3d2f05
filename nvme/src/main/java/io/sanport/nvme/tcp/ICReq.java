package io.sanport.nvme.tcp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP Initialize Connection Request PDU, NVMe/TCP 1.0 §3.6.2.2 (128 B); SPDK {@code struct spdk_nvme_tcp_ic_req}. */
public final class ICReq {
    public static final int HLEN = 128;
    public static final int PFV_1_0 = 0;
    public static final int DIGEST_HEADER = 1 << 0;
    public static final int DIGEST_DATA = 1 << 1;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            U16.withName("pfv"),
            U8.withName("hpda"),
            U8.withName("dgst"),
            U32.withName("maxr2t"),
            MemoryLayout.paddingLayout(112)
    ).withName("spdk_nvme_tcp_ic_req");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_PFV = LAYOUT.byteOffset(groupElement("pfv"));
    public static final long OFFSET_HPDA = LAYOUT.byteOffset(groupElement("hpda"));
    public static final long OFFSET_DGST = LAYOUT.byteOffset(groupElement("dgst"));
    public static final long OFFSET_MAXR2T = LAYOUT.byteOffset(groupElement("maxr2t"));

    private ICReq() {}

    public static int pfv(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_PFV)); }
    public static void pfv(MemorySegment s, int v) { s.set(U16, OFFSET_PFV, (short) v); }

    // host PDU data alignment, 0-based dwords (nvmet requires 0)
    public static int hpda(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HPDA)); }
    public static void hpda(MemorySegment s, int v) { s.set(U8, OFFSET_HPDA, (byte) v); }

    // DIGEST_HEADER | DIGEST_DATA the host wants
    public static int dgst(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DGST)); }
    public static void dgst(MemorySegment s, int v) { s.set(U8, OFFSET_DGST, (byte) v); }

    // 0-based outstanding R2Ts per command; Linux sends 0
    public static long maxr2t(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_MAXR2T)); }
    public static void maxr2t(MemorySegment s, long v) { s.set(U32, OFFSET_MAXR2T, (int) v); }
}
