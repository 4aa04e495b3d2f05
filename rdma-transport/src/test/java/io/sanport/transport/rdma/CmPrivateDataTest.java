package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The RDMA CM private data of NVMe/RDMA (nvme-rdma.h): layout, and the rejects nvmet gives for bad requests. */
class CmPrivateDataTest {
    private final Arena arena = Arena.ofAuto();

    private MemorySegment request(int qid, int hrqsize, int hsqsize) {
        MemorySegment s = arena.allocate(56); // what RDMA CM hands the passive side on RoCE: 32 bytes + zero padding
        CmPrivateData.encodeRequest(s, qid, hrqsize, hsqsize);
        return s;
    }

    @Test
    void linuxHostRequestsAreAccepted() {
        CmPrivateData.Request admin = CmPrivateData.decode(request(0, 32, 31));
        assertEquals(0, admin.status());
        assertEquals(32, admin.entries());
        CmPrivateData.Request io = CmPrivateData.decode(request(3, 128, 127));
        assertEquals(0, io.status());
        assertEquals(3, io.qid());
        assertEquals(128, io.hrqsize());
        assertEquals(127, io.hsqsize());
        assertEquals(0, CmPrivateData.decode(request(1, 1024, 1023)).status());
    }

    @Test
    void requestLayoutIsLittleEndian() {
        MemorySegment s = request(0x0102, 0x0304, 0x0203);
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(0x02, s.get(ValueLayout.JAVA_BYTE, 2));
        assertEquals(0x01, s.get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(0x04, s.get(ValueLayout.JAVA_BYTE, 4));
        assertEquals(0x03, s.get(ValueLayout.JAVA_BYTE, 6));
    }

    @Test
    void badRequestsGetTheirRejectStatus() {
        assertEquals(CmPrivateData.INVALID_LEN, CmPrivateData.decode(arena.allocate(0)).status());
        assertEquals(CmPrivateData.INVALID_LEN, CmPrivateData.decode(request(0, 32, 31).asSlice(0, 31)).status());
        MemorySegment recfmt = request(0, 32, 31);
        recfmt.set(CmPrivateData.LE16, 0, (short) 1);
        assertEquals(CmPrivateData.INVALID_RECFMT, CmPrivateData.decode(recfmt).status());
        assertEquals(CmPrivateData.INVALID_QID, CmPrivateData.decode(request(0xFFFF, 32, 31)).status());
        // nvmet: an admin queue deeper than NVME_AQ_DEPTH (32)
        assertEquals(CmPrivateData.INVALID_HSQSIZE, CmPrivateData.decode(request(0, 64, 63)).status());
        assertEquals(CmPrivateData.INVALID_HSQSIZE, CmPrivateData.decode(request(1, 128, 0)).status());
        assertEquals(CmPrivateData.INVALID_HSQSIZE, CmPrivateData.decode(request(1, 2048, 1024)).status());
        // the host must be able to receive a completion for every command it may send
        assertEquals(CmPrivateData.INVALID_HRQSIZE, CmPrivateData.decode(request(1, 64, 127)).status());
        assertEquals(CmPrivateData.INVALID_HRQSIZE, CmPrivateData.decode(request(1, 0, 15)).status());
    }

    @Test
    void replyAndReject() {
        MemorySegment rep = arena.allocate(CmPrivateData.REP_SIZE);
        rep.fill((byte) 0x55);
        CmPrivateData.encodeReply(rep, 128);
        assertEquals(0, CmPrivateData.u16(rep, CmPrivateData.REP_RECFMT));
        assertEquals(128, CmPrivateData.u16(rep, CmPrivateData.REP_CRQSIZE));
        for (int i = 4; i < 32; i++) {
            assertEquals(0, rep.get(ValueLayout.JAVA_BYTE, i), "reserved byte " + i);
        }
        MemorySegment rej = arena.allocate(CmPrivateData.REJ_SIZE);
        CmPrivateData.encodeReject(rej, CmPrivateData.INVALID_HSQSIZE);
        assertEquals(0, CmPrivateData.u16(rej, 0));
        assertEquals(4, CmPrivateData.u16(rej, 2));
    }
}
