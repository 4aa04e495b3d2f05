package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.1 and Linux enum nvme_admin_opcode. */
class AdminOpcodeTest {
    @Test
    void adminOpcodes() {
        assertEquals(0x02, AdminOpcode.GET_LOG_PAGE);
        assertEquals(0x06, AdminOpcode.IDENTIFY);
        assertEquals(0x08, AdminOpcode.ABORT);
        assertEquals(0x09, AdminOpcode.SET_FEATURES);
        assertEquals(0x0A, AdminOpcode.GET_FEATURES);
        assertEquals(0x0C, AdminOpcode.ASYNC_EVENT);
        assertEquals(0x18, AdminOpcode.KEEP_ALIVE);
        assertEquals(0x7F, AdminOpcode.FABRICS);
        assertEquals(2, AdminOpcode.dataDirection(AdminOpcode.GET_LOG_PAGE));
        assertEquals(1, AdminOpcode.dataDirection(AdminOpcode.SET_FEATURES));
    }
}
