package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.CompletionQueueEntry.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected offsets: nvmeof.md §1.2. */
class CompletionQueueEntryTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(16, SIZE);
        assertEquals(0, OFFSET_DW0);
        assertEquals(4, OFFSET_DW1);
        assertEquals(8, OFFSET_SQHD);
        assertEquals(10, OFFSET_SQID);
        assertEquals(12, OFFSET_CID);
        assertEquals(14, OFFSET_STATUS);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        dw0(s, 0x00000001);
        dw1(s, 0xCAFEBABE);
        sqhd(s, SQHD_DISABLED);
        sqid(s, 3);
        cid(s, 0xABCD);
        status(s, Status.word(Status.LBA_RANGE));
        assertEquals(1, dw0(s));
        assertEquals(0xCAFEBABE, dw1(s));
        assertEquals(0xFFFF, sqhd(s));
        assertEquals(3, sqid(s));
        assertEquals(0xABCD, cid(s));
        assertEquals(0x8100, status(s));
        assertBytes("01000000" + "bebafeca" + "ffff" + "0300" + "cdab" + "0081", s, 0);
        result64(s, 0x0000_0001_00C8_03FFL);
        assertEquals(0x00C803FF, dw0(s));
        assertEquals(1, dw1(s));
    }
}
