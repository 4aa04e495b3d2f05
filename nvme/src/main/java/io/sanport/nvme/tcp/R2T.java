package io.sanport.nvme.tcp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP Ready to Transfer PDU, NVMe/TCP 1.0 §3.6.2.8 (24 B); SPDK {@code struct spdk_nvme_tcp_r2t_hdr}. */
public final class R2T {
    public static final int HLEN = 24;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            U16.withName("cccid"),
            U16.withName("ttag"),
            U32.withName("r2to"),
            U32.withName("r2tl"),
            MemoryLayout.paddingLayout(4)
    ).withName("spdk_nvme_tcp_r2t_hdr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_CCCID = LAYOUT.byteOffset(groupElement("cccid"));
    public static final long OFFSET_TTAG = LAYOUT.byteOffset(groupElement("ttag"));
    public static final long OFFSET_R2TO = LAYOUT.byteOffset(groupElement("r2to"));
    public static final long OFFSET_R2TL = LAYOUT.byteOffset(groupElement("r2tl"));

    private R2T() {}

    public static int cccid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CCCID)); }
    public static void cccid(MemorySegment s, int v) { s.set(U16, OFFSET_CCCID, (short) v); }

    // chosen by the controller, echoed in the H2CData PDUs
    public static int ttag(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_TTAG)); }
    public static void ttag(MemorySegment s, int v) { s.set(U16, OFFSET_TTAG, (short) v); }

    public static long r2to(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_R2TO)); }
    public static void r2to(MemorySegment s, long v) { s.set(U32, OFFSET_R2TO, (int) v); }

    // must be > 0; Linux allows one outstanding R2T per command (MAXR2T 0)
    public static long r2tl(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_R2TL)); }
    public static void r2tl(MemorySegment s, long v) { s.set(U32, OFFSET_R2TL, (int) v); }
}
