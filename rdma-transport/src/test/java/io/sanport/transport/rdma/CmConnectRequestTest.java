package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sanport.nvme.Wire;
import io.sanport.nvme.rdma.RdmaCmReject;
import io.sanport.nvme.rdma.RdmaCmRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The rejects nvmet gives for bad {@code nvme_rdma_cm_req}s, and what it accepts (the layout: nvme's RdmaCmRequestTest). */
class CmConnectRequestTest {
    private final Arena arena = Arena.ofAuto();

    private MemorySegment request(int qid, int hrqsize, int hsqsize) {
        MemorySegment s = arena.allocate(56); // what RDMA CM hands the passive side on RoCE: 32 bytes + zero padding
        RdmaCmRequest.set(s, qid, hrqsize, hsqsize, 0);
        return s;
    }

    @Test
    void linuxHostRequestsAreAccepted() {
        CmConnectRequest admin = CmConnectRequest.check(request(0, 32, 31));
        assertEquals(0, admin.status());
        assertEquals(32, admin.entries());
        CmConnectRequest io = CmConnectRequest.check(request(3, 128, 127));
        assertEquals(0, io.status());
        assertEquals(3, io.qid());
        assertEquals(128, io.hrqsize());
        assertEquals(127, io.hsqsize());
        assertEquals(0, CmConnectRequest.check(request(1, 1024, 1023)).status());
        MemorySegment withCntlid = request(2, 128, 127);
        RdmaCmRequest.cntlid(withCntlid, 7); // L6.13 and SPDK
        assertEquals(7, CmConnectRequest.check(withCntlid).cntlid());
    }

    @Test
    void badRequestsGetTheirRejectStatus() {
        assertEquals(RdmaCmReject.INVALID_LEN, CmConnectRequest.check(arena.allocate(0)).status());
        assertEquals(RdmaCmReject.INVALID_LEN, CmConnectRequest.check(request(0, 32, 31).asSlice(0, 31)).status());
        MemorySegment recfmt = request(0, 32, 31);
        recfmt.set(Wire.U16, 0, (short) 1);
        assertEquals(RdmaCmReject.INVALID_RECFMT, CmConnectRequest.check(recfmt).status());
        assertEquals(RdmaCmReject.INVALID_QID, CmConnectRequest.check(request(0xFFFF, 32, 31)).status());
        // nvmet: an admin queue deeper than NVME_AQ_DEPTH (32)
        assertEquals(RdmaCmReject.INVALID_HSQSIZE, CmConnectRequest.check(request(0, 64, 63)).status());
        assertEquals(RdmaCmReject.INVALID_HSQSIZE, CmConnectRequest.check(request(1, 128, 0)).status());
        assertEquals(RdmaCmReject.INVALID_HSQSIZE, CmConnectRequest.check(request(1, 2048, 1024)).status());
        // the host must be able to receive a completion for every command it may send
        assertEquals(RdmaCmReject.INVALID_HRQSIZE, CmConnectRequest.check(request(1, 64, 127)).status());
        assertEquals(RdmaCmReject.INVALID_HRQSIZE, CmConnectRequest.check(request(1, 0, 15)).status());
    }
}
