package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.ChangedNamespaceList.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected layout: nvmeof.md §3.9 (LID 0x04: 1024 x u32 = 4096 B). */
class ChangedNamespaceListTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(4096, SIZE);
        assertEquals(0, OFFSET_NS);
        assertEquals(1024, MAX_ENTRIES);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        nsid(s, 0, 1);
        nsid(s, 1023, OVERFLOW);
        assertEquals(1, nsid(s, 0));
        assertEquals(0, nsid(s, 1));
        assertEquals(0xFFFFFFFF, nsid(s, 1023));
        assertBytes("ffffffff", s, 4092);
        assertThrows(IndexOutOfBoundsException.class, () -> nsid(s, 1024));
    }
}
