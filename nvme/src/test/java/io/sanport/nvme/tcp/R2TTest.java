package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.4 (CCCID 8, TTAG 10, offset 12, length 16). */
class R2TTest {
    @Test
    void r2t() {
        assertEquals(24, R2T.SIZE);
        assertEquals(24, R2T.HLEN);
        assertEquals(8, R2T.OFFSET_CCCID);
        assertEquals(10, R2T.OFFSET_TTAG);
        assertEquals(12, R2T.OFFSET_R2TO);
        assertEquals(16, R2T.OFFSET_R2TL);

        MemorySegment s = misaligned(R2T.SIZE);
        R2T.cccid(s, 3);
        R2T.ttag(s, 0xBEEF);
        R2T.r2to(s, 0);
        R2T.r2tl(s, 131072);
        assertEquals(0xBEEF, R2T.ttag(s));
        assertEquals(131072, R2T.r2tl(s));
        assertBytes("0300" + "efbe" + "00000000" + "00000200", s, 8);
    }
}
