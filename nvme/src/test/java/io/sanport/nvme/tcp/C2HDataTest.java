package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.4 (CCCID 8, TTAG 10, offset 12, length 16). */
class C2HDataTest {
    @Test
    void c2hData() {
        assertEquals(24, C2HData.SIZE);
        assertEquals(24, C2HData.HLEN);
        assertEquals(8, C2HData.OFFSET_CCCID);
        assertEquals(10, C2HData.OFFSET_TTAG);
        assertEquals(12, C2HData.OFFSET_DATAO);
        assertEquals(16, C2HData.OFFSET_DATAL);

        MemorySegment s = misaligned(C2HData.SIZE);
        C2HData.cccid(s, 0xFFFF);
        C2HData.datal(s, 0xFFFFFFFFL);
        assertEquals(0xFFFF, C2HData.cccid(s));
        assertEquals(0xFFFFFFFFL, C2HData.datal(s));
    }
}
