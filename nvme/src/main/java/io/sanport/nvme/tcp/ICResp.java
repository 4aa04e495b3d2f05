package io.sanport.nvme.tcp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP Initialize Connection Response PDU, NVMe/TCP 1.0 §3.6.2.3 (128 B); SPDK {@code struct spdk_nvme_tcp_ic_resp}. */
public final class ICResp {
    public static final int HLEN = 128;
    public static final long MIN_MAXH2CDATA = 4096;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            U16.withName("pfv"),
            U8.withName("cpda"),
            U8.withName("dgst"),
            U32.withName("maxh2cdata"),
            MemoryLayout.paddingLayout(112)
    ).withName("spdk_nvme_tcp_ic_resp");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_PFV = LAYOUT.byteOffset(groupElement("pfv"));
    public static final long OFFSET_CPDA = LAYOUT.byteOffset(groupElement("cpda"));
    public static final long OFFSET_DGST = LAYOUT.byteOffset(groupElement("dgst"));
    public static final long OFFSET_MAXH2CDATA = LAYOUT.byteOffset(groupElement("maxh2cdata"));

    private ICResp() {}

    public static int pfv(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_PFV)); }
    public static void pfv(MemorySegment s, int v) { s.set(U16, OFFSET_PFV, (short) v); }

    // the Linux host requires 0
    public static int cpda(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CPDA)); }
    public static void cpda(MemorySegment s, int v) { s.set(U8, OFFSET_CPDA, (byte) v); }

    // must equal exactly what the ICReq asked for, or the Linux host fails the connect
    public static int dgst(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DGST)); }
    public static void dgst(MemorySegment s, int v) { s.set(U8, OFFSET_DGST, (byte) v); }

    // the Linux host requires >= 4096 and a multiple of 4
    public static long maxh2cdata(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_MAXH2CDATA)); }
    public static void maxh2cdata(MemorySegment s, long v) { s.set(U32, OFFSET_MAXH2CDATA, (int) v); }
}
