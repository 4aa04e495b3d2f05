package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static io.sanport.nvme.tcp.TermReq.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.4 (FES 8-9, FEI 10-13 per the spec and SPDK, PLEN 24..152) and FES values. */
class TermReqTest {
    @Test
    void sizeOffsetsAndCodes() {
        assertEquals(24, SIZE);
        assertEquals(24, HLEN);
        assertEquals(8, OFFSET_FES);
        assertEquals(10, OFFSET_FEI);
        assertEquals(152, MAX_PLEN);
        assertEquals(0x01, FES_INVALID_HEADER_FIELD);
        assertEquals(0x02, FES_PDU_SEQUENCE_ERROR);
        assertEquals(0x03, FES_HEADER_DIGEST_ERROR);
        assertEquals(0x04, FES_DATA_OUT_OF_RANGE);
        assertEquals(0x05, FES_DATA_LIMIT_EXCEEDED);
        assertEquals(0x06, FES_UNSUPPORTED_PARAMETER);
    }

    @Test
    void buildCopiesTheOffendingHeader() {
        MemorySegment offending = misaligned(200);
        offending.fill((byte) 0xAA);
        MemorySegment s = misaligned(MAX_PLEN);
        int plen = build(s, PduHeader.TYPE_C2H_TERM_REQ, FES_INVALID_HEADER_FIELD, 2, offending);
        assertEquals(152, plen);
        assertEquals(152, PduHeader.plen(s));
        assertEquals(FES_INVALID_HEADER_FIELD, fes(s));
        assertEquals(2, fei(s));
        assertBytes("03001800" + "98000000" + "0100" + "02000000" + "00".repeat(10) + "aaaa", s, 0);

        int small = build(s, PduHeader.TYPE_C2H_TERM_REQ, FES_PDU_SEQUENCE_ERROR, 0, offending.asSlice(0, 8));
        assertEquals(32, small);
    }
}
