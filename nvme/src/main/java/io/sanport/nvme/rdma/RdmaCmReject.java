package io.sanport.nvme.rdma;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The controller's RDMA CM private data in {@code rdma_reject} (4 B, little-endian; reason
 * IB_CM_REJ_CONSUMER_DEFINED): Linux {@code struct nvme_rdma_cm_rej} and {@code enum nvme_rdma_cm_status},
 * nvmeof.md §6.1.
 */
public final class RdmaCmReject {
    // enum nvme_rdma_cm_status
    public static final int INVALID_LEN = 0x01;
    public static final int INVALID_RECFMT = 0x02;
    public static final int INVALID_QID = 0x03;
    public static final int INVALID_HSQSIZE = 0x04;
    public static final int INVALID_HRQSIZE = 0x05;
    public static final int NO_RSC = 0x06;
    public static final int INVALID_IRD = 0x07;
    public static final int INVALID_ORD = 0x08;
    /** Linux 6.13 and later. */
    public static final int INVALID_CNTLID = 0x09;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U16.withName("recfmt"),
            U16.withName("sts")
    ).withName("nvme_rdma_cm_rej");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_RECFMT = LAYOUT.byteOffset(groupElement("recfmt"));
    public static final long OFFSET_STS = LAYOUT.byteOffset(groupElement("sts"));

    private RdmaCmReject() {}

    /** Writes a 1.0 reject with status {@code sts}. */
    public static void set(MemorySegment s, int sts) {
        recfmt(s, RdmaCmRequest.RECFMT_1_0);
        sts(s, sts);
    }

    public static int recfmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RECFMT)); }
    public static void recfmt(MemorySegment s, int v) { s.set(U16, OFFSET_RECFMT, (short) v); }

    public static int sts(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_STS)); }
    public static void sts(MemorySegment s, int v) { s.set(U16, OFFSET_STS, (short) v); }

    /** STS of a reject's private data, or -1 when it is too short to hold one (a reject by the CM itself). */
    public static int stsOf(MemorySegment privateData) {
        return privateData.byteSize() < OFFSET_STS + 2 ? -1 : sts(privateData);
    }

    /** {@code enum nvme_rdma_cm_status} in words; -1 is "no NVMe/RDMA reject data". */
    public static String describe(int sts) {
        return switch (sts) {
            case -1 -> "no NVMe/RDMA reject data (no listener on that port, or not an NVMe target)";
            case INVALID_LEN -> "invalid private data length";
            case INVALID_RECFMT -> "invalid RECFMT";
            case INVALID_QID -> "invalid QID";
            case INVALID_HSQSIZE -> "invalid HSQSIZE";
            case INVALID_HRQSIZE -> "invalid HRQSIZE";
            case NO_RSC -> "no resources";
            case INVALID_IRD -> "invalid IRD";
            case INVALID_ORD -> "invalid ORD";
            case INVALID_CNTLID -> "invalid CNTLID";
            default -> "unknown status 0x" + Integer.toHexString(sts);
        };
    }
}
