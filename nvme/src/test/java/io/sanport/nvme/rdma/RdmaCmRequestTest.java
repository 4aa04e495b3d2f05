package io.sanport.nvme.rdma;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §6.1 (connect request), Linux nvme-rdma.h. */
class RdmaCmRequestTest {
    @Test
    void layout() {
        assertEquals(32, RdmaCmRequest.SIZE);
        assertEquals(0, RdmaCmRequest.OFFSET_RECFMT);
        assertEquals(2, RdmaCmRequest.OFFSET_QID);
        assertEquals(4, RdmaCmRequest.OFFSET_HRQSIZE);
        assertEquals(6, RdmaCmRequest.OFFSET_HSQSIZE);
        assertEquals(8, RdmaCmRequest.OFFSET_CNTLID);
    }

    @Test
    void setZeroesTheReservedBytesAndIsLittleEndian() {
        MemorySegment s = misaligned(RdmaCmRequest.SIZE);
        s.fill((byte) 0x55);
        RdmaCmRequest.set(s, 3, 128, 127, 0x1234);
        assertBytes("0000" + "0300" + "8000" + "7f00" + "3412" + "00".repeat(22), s, 0);
        assertEquals(RdmaCmRequest.RECFMT_1_0, RdmaCmRequest.recfmt(s));
        assertEquals(3, RdmaCmRequest.qid(s));
        assertEquals(128, RdmaCmRequest.hrqsize(s));
        assertEquals(127, RdmaCmRequest.hsqsize(s));
        assertEquals(0x1234, RdmaCmRequest.cntlid(s));
        RdmaCmRequest.qid(s, 0xFFFF);
        assertEquals(0xFFFF, RdmaCmRequest.qid(s), "unsigned");
    }
}
