package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.9 (discovery log page header). */
class DiscoveryLogPageTest {
    @Test
    void header() {
        assertEquals(1024, DiscoveryLogPage.SIZE);
        assertEquals(0, DiscoveryLogPage.OFFSET_GENCTR);
        assertEquals(8, DiscoveryLogPage.OFFSET_NUMREC);
        assertEquals(16, DiscoveryLogPage.OFFSET_RECFMT);
        assertEquals(1024, DiscoveryLogPage.entryOffset(0));
        assertEquals(3072, DiscoveryLogPage.entryOffset(2));
        assertEquals(1024 + 3 * 1024, DiscoveryLogPage.length(3));

        MemorySegment s = misaligned(DiscoveryLogPage.SIZE);
        DiscoveryLogPage.genctr(s, 5);
        DiscoveryLogPage.numrec(s, 2);
        DiscoveryLogPage.recfmt(s, 0);
        assertEquals(5, DiscoveryLogPage.genctr(s));
        assertEquals(2, DiscoveryLogPage.numrec(s));
        assertBytes("0500000000000000" + "0200000000000000" + "0000", s, 0);
    }
}
