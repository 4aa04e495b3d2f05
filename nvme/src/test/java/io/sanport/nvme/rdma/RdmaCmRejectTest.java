package io.sanport.nvme.rdma;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expected values: nvmeof.md §6.1 (reject and its STS values), Linux nvme-rdma.h. */
class RdmaCmRejectTest {
    @Test
    void layout() {
        assertEquals(4, RdmaCmReject.SIZE);
        assertEquals(0, RdmaCmReject.OFFSET_RECFMT);
        assertEquals(2, RdmaCmReject.OFFSET_STS);
    }

    @Test
    void set() {
        MemorySegment s = misaligned(RdmaCmReject.SIZE);
        s.fill((byte) 0x55);
        RdmaCmReject.set(s, RdmaCmReject.INVALID_HSQSIZE);
        assertBytes("0000" + "0400", s, 0);
        assertEquals(4, RdmaCmReject.sts(s));
    }

    @Test
    void statusValuesAndWords() {
        int[] sts = {RdmaCmReject.INVALID_LEN, RdmaCmReject.INVALID_RECFMT, RdmaCmReject.INVALID_QID,
                RdmaCmReject.INVALID_HSQSIZE, RdmaCmReject.INVALID_HRQSIZE, RdmaCmReject.NO_RSC,
                RdmaCmReject.INVALID_IRD, RdmaCmReject.INVALID_ORD, RdmaCmReject.INVALID_CNTLID};
        for (int i = 0; i < sts.length; i++) {
            assertEquals(i + 1, sts[i]);
        }
        assertEquals("invalid HSQSIZE", RdmaCmReject.describe(4));
        assertEquals("no resources", RdmaCmReject.describe(RdmaCmReject.NO_RSC));
        assertTrue(RdmaCmReject.describe(-1).contains("no listener"));
        assertTrue(RdmaCmReject.describe(0x42).contains("0x42"));
    }

    @Test
    void stsOfWhatTheHostReceived() {
        assertEquals(0x04, RdmaCmReject.stsOf(MemorySegment.ofArray(new byte[] {0, 0, 4, 0})));
        assertEquals(-1, RdmaCmReject.stsOf(MemorySegment.ofArray(new byte[] {0})));
    }
}
