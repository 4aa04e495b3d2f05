package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static io.sanport.nvme.tcp.PduHeader.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.1, §5.2 and Linux nvme-tcp.h. */
class PduHeaderTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(8, SIZE);
        assertEquals(0, OFFSET_TYPE);
        assertEquals(1, OFFSET_FLAGS);
        assertEquals(2, OFFSET_HLEN);
        assertEquals(3, OFFSET_PDO);
        assertEquals(4, OFFSET_PLEN);
    }

    @Test
    void typesFlagsAndHeaderLengths() {
        assertEquals(0x00, TYPE_IC_REQ);
        assertEquals(0x01, TYPE_IC_RESP);
        assertEquals(0x02, TYPE_H2C_TERM_REQ);
        assertEquals(0x03, TYPE_C2H_TERM_REQ);
        assertEquals(0x04, TYPE_CAPSULE_CMD);
        assertEquals(0x05, TYPE_CAPSULE_RESP);
        assertEquals(0x06, TYPE_H2C_DATA);
        assertEquals(0x07, TYPE_C2H_DATA);
        assertEquals(0x09, TYPE_R2T);
        assertEquals(0x01, FLAG_HDGSTF);
        assertEquals(0x02, FLAG_DDGSTF);
        assertEquals(0x04, FLAG_LAST_PDU);
        assertEquals(0x08, FLAG_SUCCESS);
        assertEquals(4, DIGEST_LENGTH);
        assertEquals(4420, PORT_IO);
        assertEquals(8009, PORT_DISCOVERY);

        assertEquals(128, expectedHlen(TYPE_IC_REQ));
        assertEquals(128, expectedHlen(TYPE_IC_RESP));
        assertEquals(24, expectedHlen(TYPE_H2C_TERM_REQ));
        assertEquals(24, expectedHlen(TYPE_C2H_TERM_REQ));
        assertEquals(72, expectedHlen(TYPE_CAPSULE_CMD));
        assertEquals(24, expectedHlen(TYPE_CAPSULE_RESP));
        assertEquals(24, expectedHlen(TYPE_H2C_DATA));
        assertEquals(24, expectedHlen(TYPE_C2H_DATA));
        assertEquals(24, expectedHlen(TYPE_R2T));
        assertEquals(-1, expectedHlen(0x08));

        assertEquals(0x0F, allowedFlags(TYPE_C2H_DATA));
        assertEquals(0x07, allowedFlags(TYPE_H2C_DATA));
        assertEquals(0x03, allowedFlags(TYPE_CAPSULE_CMD));
        assertEquals(0x01, allowedFlags(TYPE_CAPSULE_RESP));
        assertEquals(0x00, allowedFlags(TYPE_IC_REQ));
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        set(s, TYPE_CAPSULE_CMD, FLAG_HDGSTF | FLAG_DDGSTF, 72, 76, 72 + 4 + 4096 + 4);
        assertEquals(TYPE_CAPSULE_CMD, type(s));
        assertEquals(3, flags(s));
        assertEquals(72, hlen(s));
        assertEquals(76, pdo(s));
        assertEquals(4176, plen(s));
        assertBytes("0403484c" + "50100000", s, 0);
        plen(s, 0xFFFFFFF0L);
        assertEquals(0xFFFFFFF0L, plen(s));
    }
}
