package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.9 and libnvme enum nvme_cmd_get_log_lid. */
class LogPageIdTest {
    @Test
    void logPageIds() {
        assertEquals(0x01, LogPageId.ERROR);
        assertEquals(0x02, LogPageId.SMART);
        assertEquals(0x04, LogPageId.CHANGED_NS);
        assertEquals(0x05, LogPageId.CMD_EFFECTS);
        assertEquals(0x0C, LogPageId.ANA);
        assertEquals(0x70, LogPageId.DISCOVERY);
    }
}
