package io.sanport.transport.rdma;

import io.sanport.nvme.rdma.RdmaCmReject;
import io.sanport.nvme.rdma.RdmaCmRequest;
import java.lang.foreign.MemorySegment;

/**
 * A host's {@code nvme_rdma_cm_req} ({@link RdmaCmRequest}) as the CM conductor checks it: {@code status} is 0
 * or the {@code nvme_rdma_cm_status} ({@link RdmaCmReject}) to refuse the connection with.
 */
record CmConnectRequest(int status, int qid, int hrqsize, int hsqsize, int cntlid) {
    /** Admin queue depth, as nvmet's NVME_AQ_DEPTH: a larger admin HSQSIZE+1 is refused with INVALID_HSQSIZE. */
    static final int ADMIN_DEPTH = 32;
    /** The largest I/O queue: CAP.MQES + 1 (nvmet: 1024). */
    static final int MAX_IO_DEPTH = 1024;

    /** Receive buffers the queue needs: HSQSIZE is 0-based. */
    int entries() { return hsqsize + 1; }

    /**
     * Decodes and checks the host's request as nvmet's {@code nvmet_rdma_parse_cm_connect_req} does (length at
     * least 32 bytes, RECFMT 0, admin HSQSIZE+1 at most 32), plus sizes a queue can be built with: HSQSIZE
     * 1..MQES, HRQSIZE 1..1024 and at least HSQSIZE+1 (the host must be able to take every completion).
     * The RDMA CM may pad the private data, so a longer one is fine.
     */
    static CmConnectRequest check(MemorySegment data) {
        if (data.byteSize() < RdmaCmRequest.SIZE) {
            return new CmConnectRequest(RdmaCmReject.INVALID_LEN, 0, 0, 0, 0);
        }
        int qid = RdmaCmRequest.qid(data);
        int hrqsize = RdmaCmRequest.hrqsize(data);
        int hsqsize = RdmaCmRequest.hsqsize(data);
        int status = 0;
        if (RdmaCmRequest.recfmt(data) != RdmaCmRequest.RECFMT_1_0) {
            status = RdmaCmReject.INVALID_RECFMT;
        } else if (qid == 0xFFFF) {
            status = RdmaCmReject.INVALID_QID;
        } else if (hsqsize < 1 || hsqsize + 1 > (qid == 0 ? ADMIN_DEPTH : MAX_IO_DEPTH)) {
            status = RdmaCmReject.INVALID_HSQSIZE;
        } else if (hrqsize < hsqsize + 1 || hrqsize > MAX_IO_DEPTH) {
            status = RdmaCmReject.INVALID_HRQSIZE;
        }
        return new CmConnectRequest(status, qid, hrqsize, hsqsize, RdmaCmRequest.cntlid(data));
    }
}
