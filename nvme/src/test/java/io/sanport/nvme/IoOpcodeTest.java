package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §4 and Linux enum nvme_opcode. */
class IoOpcodeTest {
    @Test
    void ioOpcodes() {
        assertEquals(0x00, IoOpcode.FLUSH);
        assertEquals(0x01, IoOpcode.WRITE);
        assertEquals(0x02, IoOpcode.READ);
        assertEquals(0x04, IoOpcode.WRITE_UNCORRECTABLE);
        assertEquals(0x05, IoOpcode.COMPARE);
        assertEquals(0x08, IoOpcode.WRITE_ZEROES);
        assertEquals(0x09, IoOpcode.DSM);
        assertEquals(0x0C, IoOpcode.VERIFY);
    }
}
