package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.3 (ICResp). */
class ICRespTest {
    @Test
    void icResp() {
        assertEquals(128, ICResp.SIZE);
        assertEquals(8, ICResp.OFFSET_PFV);
        assertEquals(10, ICResp.OFFSET_CPDA);
        assertEquals(11, ICResp.OFFSET_DGST);
        assertEquals(12, ICResp.OFFSET_MAXH2CDATA);
        assertEquals(128, ICResp.HLEN);

        MemorySegment s = misaligned(ICResp.SIZE);
        ICResp.cpda(s, 0);
        ICResp.dgst(s, 1);
        ICResp.maxh2cdata(s, 0x400000);
        assertEquals(0x400000, ICResp.maxh2cdata(s));
        assertEquals(1, ICResp.dgst(s));
        assertBytes("00" + "01" + "00004000", s, 10);
    }
}
