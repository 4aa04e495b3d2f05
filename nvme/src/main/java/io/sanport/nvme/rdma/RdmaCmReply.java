package io.sanport.nvme.rdma;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The controller's RDMA CM private data in {@code rdma_accept} (32 B, little-endian): Linux {@code struct
 * nvme_rdma_cm_rep}, nvmeof.md §6.1.
 */
public final class RdmaCmReply {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U16.withName("recfmt"),
            U16.withName("crqsize"),
            MemoryLayout.paddingLayout(28)
    ).withName("nvme_rdma_cm_rep");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_RECFMT = LAYOUT.byteOffset(groupElement("recfmt"));
    public static final long OFFSET_CRQSIZE = LAYOUT.byteOffset(groupElement("crqsize"));

    private RdmaCmReply() {}

    /** Zeroes the 32 bytes and writes a 1.0 reply. */
    public static void set(MemorySegment s, int crqsize) {
        s.asSlice(0, SIZE).fill((byte) 0);
        recfmt(s, RdmaCmRequest.RECFMT_1_0);
        crqsize(s, crqsize);
    }

    public static int recfmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RECFMT)); }
    public static void recfmt(MemorySegment s, int v) { s.set(U16, OFFSET_RECFMT, (short) v); }

    // controller receive queue size; nvmet sends HSQSIZE + 1, the L6.1 host does not read it
    public static int crqsize(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CRQSIZE)); }
    public static void crqsize(MemorySegment s, int v) { s.set(U16, OFFSET_CRQSIZE, (short) v); }

    /** CRQSIZE of an accept's private data, or -1 when it is too short to hold it. */
    public static int crqsizeOf(MemorySegment privateData) {
        return privateData.byteSize() < OFFSET_CRQSIZE + 2 ? -1 : crqsize(privateData);
    }
}
