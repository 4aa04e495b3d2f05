package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.DsmRange.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected offsets: nvmeof.md §4 (Dataset Management range). */
class DsmRangeTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(16, SIZE);
        assertEquals(0, OFFSET_CONTEXT_ATTRIBUTES);
        assertEquals(4, OFFSET_NLB);
        assertEquals(8, OFFSET_SLBA);
        assertEquals(4096, MAX_RANGES * SIZE);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        contextAttributes(s, 0);
        nlb(s, 0xFFFFFFFFL);
        slba(s, 0x10);
        assertEquals(0xFFFFFFFFL, nlb(s));
        assertEquals(0x10, slba(s));
        assertBytes("00000000" + "ffffffff" + "1000000000000000", s, 0);
    }
}
