package io.sanport.transport.rdma;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The NVMe/RDMA RDMA CM private data (NVMe-oF 1.1 §7.3.2; Linux {@code include/linux/nvme-rdma.h}), all
 * little-endian: the host's {@code nvme_rdma_cm_req} (32 B) in CONNECT_REQUEST, our {@code nvme_rdma_cm_rep}
 * (32 B) in the accept, our {@code nvme_rdma_cm_rej} (4 B) in a reject.
 */
final class CmPrivateData {
    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final int REQ_SIZE = 32;
    static final int REP_SIZE = 32;
    static final int REJ_SIZE = 4;
    static final int RECFMT_1_0 = 0;

    static final int REQ_RECFMT = 0;
    static final int REQ_QID = 2;
    static final int REQ_HRQSIZE = 4;
    static final int REQ_HSQSIZE = 6;
    static final int REQ_CNTLID = 8;
    static final int REP_RECFMT = 0;
    static final int REP_CRQSIZE = 2;
    static final int REJ_RECFMT = 0;
    static final int REJ_STS = 2;

    // enum nvme_rdma_cm_status
    static final int INVALID_LEN = 0x01;
    static final int INVALID_RECFMT = 0x02;
    static final int INVALID_QID = 0x03;
    static final int INVALID_HSQSIZE = 0x04;
    static final int INVALID_HRQSIZE = 0x05;
    static final int NO_RSC = 0x06;
    static final int INVALID_IRD = 0x07;
    static final int INVALID_ORD = 0x08;

    /** Admin queue depth, as nvmet's NVME_AQ_DEPTH: a larger admin HSQSIZE+1 is refused with INVALID_HSQSIZE. */
    static final int ADMIN_DEPTH = 32;
    /** The largest I/O queue: CAP.MQES + 1 (nvmet: 1024). */
    static final int MAX_IO_DEPTH = 1024;

    private CmPrivateData() {}

    /** A checked {@code nvme_rdma_cm_req}: {@code status} is 0 or the {@code nvme_rdma_cm_status} to reject with. */
    record Request(int status, int qid, int hrqsize, int hsqsize, int cntlid) {
        /** Receive buffers the queue needs: HSQSIZE is 0-based. */
        int entries() { return hsqsize + 1; }
    }

    /**
     * Decodes and checks the host's request as nvmet's {@code nvmet_rdma_parse_cm_connect_req} does (length at
     * least 32 bytes, RECFMT 0, admin HSQSIZE+1 at most 32), plus sizes a queue can be built with: HSQSIZE
     * 1..MQES, HRQSIZE 1..1024 and at least HSQSIZE+1 (the host must be able to take every completion).
     */
    static Request decode(MemorySegment data) {
        if (data.byteSize() < REQ_SIZE) {
            return new Request(INVALID_LEN, 0, 0, 0, 0);
        }
        int recfmt = u16(data, REQ_RECFMT);
        int qid = u16(data, REQ_QID);
        int hrqsize = u16(data, REQ_HRQSIZE);
        int hsqsize = u16(data, REQ_HSQSIZE);
        int cntlid = u16(data, REQ_CNTLID);
        int status = 0;
        if (recfmt != RECFMT_1_0) {
            status = INVALID_RECFMT;
        } else if (qid == 0xFFFF) {
            status = INVALID_QID;
        } else if (hsqsize < 1 || hsqsize + 1 > (qid == 0 ? ADMIN_DEPTH : MAX_IO_DEPTH)) {
            status = INVALID_HSQSIZE;
        } else if (hrqsize < hsqsize + 1 || hrqsize > MAX_IO_DEPTH) {
            status = INVALID_HRQSIZE;
        }
        return new Request(status, qid, hrqsize, hsqsize, cntlid);
    }

    static void encodeRequest(MemorySegment out, int qid, int hrqsize, int hsqsize) {
        out.asSlice(0, REQ_SIZE).fill((byte) 0);
        out.set(LE16, REQ_RECFMT, (short) RECFMT_1_0);
        out.set(LE16, REQ_QID, (short) qid);
        out.set(LE16, REQ_HRQSIZE, (short) hrqsize);
        out.set(LE16, REQ_HSQSIZE, (short) hsqsize);
    }

    /** {@code nvme_rdma_cm_rep}: CRQSIZE = HSQSIZE + 1, as nvmet sends. */
    static void encodeReply(MemorySegment out, int crqsize) {
        out.asSlice(0, REP_SIZE).fill((byte) 0);
        out.set(LE16, REP_RECFMT, (short) RECFMT_1_0);
        out.set(LE16, REP_CRQSIZE, (short) crqsize);
    }

    static void encodeReject(MemorySegment out, int status) {
        out.asSlice(0, REJ_SIZE).fill((byte) 0);
        out.set(LE16, REJ_RECFMT, (short) RECFMT_1_0);
        out.set(LE16, REJ_STS, (short) status);
    }

    static int u16(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(LE16, at));
    }

    static String statusName(int status) {
        return switch (status) {
            case INVALID_LEN -> "invalid private data length";
            case INVALID_RECFMT -> "invalid RECFMT";
            case INVALID_QID -> "invalid QID";
            case INVALID_HSQSIZE -> "invalid HSQSIZE";
            case INVALID_HRQSIZE -> "invalid HRQSIZE";
            case NO_RSC -> "no resources";
            case INVALID_IRD -> "invalid IRD";
            case INVALID_ORD -> "invalid ORD";
            default -> "status " + status;
        };
    }
}
