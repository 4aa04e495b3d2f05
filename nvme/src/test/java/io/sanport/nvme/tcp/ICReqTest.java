package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.3 (ICReq). */
class ICReqTest {
    @Test
    void icReq() {
        assertEquals(128, ICReq.SIZE);
        assertEquals(0, ICReq.OFFSET_COMMON);
        assertEquals(8, ICReq.OFFSET_PFV);
        assertEquals(10, ICReq.OFFSET_HPDA);
        assertEquals(11, ICReq.OFFSET_DGST);
        assertEquals(12, ICReq.OFFSET_MAXR2T);
        assertEquals(128, ICReq.HLEN);

        MemorySegment s = misaligned(ICReq.SIZE);
        PduHeader.set(s, PduHeader.TYPE_IC_REQ, 0, ICReq.HLEN, 0, ICReq.SIZE);
        ICReq.pfv(s, ICReq.PFV_1_0);
        ICReq.hpda(s, 0);
        ICReq.dgst(s, ICReq.DIGEST_HEADER | ICReq.DIGEST_DATA);
        ICReq.maxr2t(s, 0);
        assertEquals(3, ICReq.dgst(s));
        assertBytes("00008000" + "80000000" + "0000" + "00" + "03" + "00000000", s, 0);
    }
}
