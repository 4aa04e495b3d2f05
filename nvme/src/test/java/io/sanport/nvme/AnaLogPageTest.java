package io.sanport.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The ANA log's byte layout (NVMe Base 2.0 Figure 224-225, libnvme struct nvme_ana_log) and the state names. */
class AnaLogPageTest {
    @Test
    void layoutAsTheSpec() {
        byte[] b = new byte[64];
        MemorySegment s = MemorySegment.ofArray(b);
        AnaLogPage.chgcnt(s, 0x0102030405060708L);
        AnaLogPage.ngrps(s, 0x0A0B);
        assertEquals(0x08, b[0]);
        assertEquals(0x01, b[7]);
        assertEquals(0x0B, b[8]);
        assertEquals(0x0A, b[9]);
        MemorySegment d = s.asSlice(AnaLogPage.HEADER_SIZE);
        AnaLogPage.grpid(d, 5);
        AnaLogPage.nnsids(d, 1);
        AnaLogPage.groupChgcnt(d, 9);
        AnaLogPage.state(d, AnaState.CHANGE.value());
        AnaLogPage.nsid(d, 0, 77);
        assertEquals(5, b[16]);
        assertEquals(1, b[20]);
        assertEquals(9, b[24]);
        assertEquals(0x0F, b[32]);
        assertEquals(77, b[48]);
        assertEquals(36, AnaLogPage.descriptorLength(1));
    }

    @Test
    void statesByNameAndValue() {
        assertEquals(AnaState.NON_OPTIMIZED, AnaState.parse("non-optimized"));
        assertEquals(AnaState.PERSISTENT_LOSS, AnaState.parse("Persistent_Loss"));
        assertNull(AnaState.parse("sideways"));
        assertEquals(AnaState.INACCESSIBLE, AnaState.of(3));
        assertNull(AnaState.of(0));
        assertEquals(Status.ANA_TRANSITION, AnaState.CHANGE.ioStatus());
        assertEquals(0x1F, AnaState.ANACAP_ALL);
        assertEquals(0x000C0302, AsyncEvent.ANA_CHANGED);
    }
}
