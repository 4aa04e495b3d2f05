package io.sanport.nvme.rdma;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The host's RDMA CM private data in {@code rdma_connect} (32 B, little-endian): Linux {@code struct
 * nvme_rdma_cm_req}, nvmeof.md §6.1.
 */
public final class RdmaCmRequest {
    /** The only record format defined (NVMe/RDMA 1.0). */
    public static final int RECFMT_1_0 = 0;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U16.withName("recfmt"),
            U16.withName("qid"),
            U16.withName("hrqsize"),
            U16.withName("hsqsize"),
            U16.withName("cntlid"),
            MemoryLayout.paddingLayout(22)
    ).withName("nvme_rdma_cm_req");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_RECFMT = LAYOUT.byteOffset(groupElement("recfmt"));
    public static final long OFFSET_QID = LAYOUT.byteOffset(groupElement("qid"));
    public static final long OFFSET_HRQSIZE = LAYOUT.byteOffset(groupElement("hrqsize"));
    public static final long OFFSET_HSQSIZE = LAYOUT.byteOffset(groupElement("hsqsize"));
    public static final long OFFSET_CNTLID = LAYOUT.byteOffset(groupElement("cntlid"));

    private RdmaCmRequest() {}

    /** Zeroes the 32 bytes (reserved fields included) and writes a 1.0 request. */
    public static void set(MemorySegment s, int qid, int hrqsize, int hsqsize, int cntlid) {
        s.asSlice(0, SIZE).fill((byte) 0);
        recfmt(s, RECFMT_1_0);
        qid(s, qid);
        hrqsize(s, hrqsize);
        hsqsize(s, hsqsize);
        cntlid(s, cntlid);
    }

    public static int recfmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RECFMT)); }
    public static void recfmt(MemorySegment s, int v) { s.set(U16, OFFSET_RECFMT, (short) v); }

    // 0 = admin queue, else the I/O queue this QP carries
    public static int qid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_QID)); }
    public static void qid(MemorySegment s, int v) { s.set(U16, OFFSET_QID, (short) v); }

    // 1-based: receive buffers the host posted for completions
    public static int hrqsize(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_HRQSIZE)); }
    public static void hrqsize(MemorySegment s, int v) { s.set(U16, OFFSET_HRQSIZE, (short) v); }

    // 0-based, as Connect SQSIZE
    public static int hsqsize(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_HSQSIZE)); }
    public static void hsqsize(MemorySegment s, int v) { s.set(U16, OFFSET_HSQSIZE, (short) v); }

    // L6.1: reserved; L6.13 and SPDK send the controller ID on I/O queues
    public static int cntlid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CNTLID)); }
    public static void cntlid(MemorySegment s, int v) { s.set(U16, OFFSET_CNTLID, (short) v); }
}
