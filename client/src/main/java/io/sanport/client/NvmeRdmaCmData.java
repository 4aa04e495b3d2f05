package io.sanport.client;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * NVMe/RDMA RDMA CM private data, host side (NVMe-oF 1.1 §7.3.2; Linux {@code include/linux/nvme-rdma.h};
 * nvmeof.md §6.1), all little-endian: our {@code nvme_rdma_cm_req} (32 B) in {@code rdma_connect}, the target's
 * {@code nvme_rdma_cm_rep} (32 B) in ESTABLISHED, its {@code nvme_rdma_cm_rej} (4 B) in REJECTED.
 */
final class NvmeRdmaCmData {
    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final int REQ_SIZE = 32;
    static final int RECFMT_1_0 = 0;
    static final int REQ_RECFMT = 0;
    static final int REQ_QID = 2;
    /** 1-based: receive buffers the host posted for completions. */
    static final int REQ_HRQSIZE = 4;
    /** 0-based, as Connect SQSIZE. */
    static final int REQ_HSQSIZE = 6;
    /** L6.1: reserved; L6.13 and SPDK send the controller ID on I/O queues. */
    static final int REQ_CNTLID = 8;
    static final int REP_CRQSIZE = 2;
    static final int REJ_STS = 2;

    private NvmeRdmaCmData() {}

    static void encodeRequest(MemorySegment out, int qid, int hrqsize, int hsqsize, int cntlid) {
        out.asSlice(0, REQ_SIZE).fill((byte) 0);
        out.set(LE16, REQ_RECFMT, (short) RECFMT_1_0);
        out.set(LE16, REQ_QID, (short) qid);
        out.set(LE16, REQ_HRQSIZE, (short) hrqsize);
        out.set(LE16, REQ_HSQSIZE, (short) hsqsize);
        out.set(LE16, REQ_CNTLID, (short) cntlid);
    }

    /** CRQSIZE from the accept, or -1 when the target sent too little to hold it (the L6.1 host ignores it). */
    static int crqsize(byte[] accept) {
        return accept.length < REP_CRQSIZE + 2 ? -1 : u16(accept, REP_CRQSIZE);
    }

    /** STS of a reject, or -1 when there is none (a reject by the CM itself, e.g. no listener). */
    static int rejectStatus(byte[] reject) {
        return reject.length < REJ_STS + 2 ? -1 : u16(reject, REJ_STS);
    }

    /** {@code enum nvme_rdma_cm_status} in words. */
    static String describeReject(int sts) {
        return switch (sts) {
            case -1 -> "no NVMe/RDMA reject data (no listener on that port, or not an NVMe target)";
            case 0x01 -> "invalid private data length";
            case 0x02 -> "invalid RECFMT";
            case 0x03 -> "invalid QID";
            case 0x04 -> "invalid HSQSIZE";
            case 0x05 -> "invalid HRQSIZE";
            case 0x06 -> "no resources";
            case 0x07 -> "invalid IRD";
            case 0x08 -> "invalid ORD";
            case 0x09 -> "invalid CNTLID";
            default -> "unknown status 0x" + Integer.toHexString(sts);
        };
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }
}
