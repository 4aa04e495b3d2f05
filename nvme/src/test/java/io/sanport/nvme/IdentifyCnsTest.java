package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.3 and libnvme enum nvme_identify_cns. */
class IdentifyCnsTest {
    @Test
    void cnsValues() {
        assertEquals(0x00, IdentifyCns.NS);
        assertEquals(0x01, IdentifyCns.CTRL);
        assertEquals(0x02, IdentifyCns.NS_ACTIVE_LIST);
        assertEquals(0x03, IdentifyCns.NS_DESC_LIST);
        assertEquals(0x05, IdentifyCns.CSI_NS);
        assertEquals(0x06, IdentifyCns.CSI_CTRL);
        assertEquals(0x08, IdentifyCns.CSI_INDEPENDENT_NS);
    }
}
