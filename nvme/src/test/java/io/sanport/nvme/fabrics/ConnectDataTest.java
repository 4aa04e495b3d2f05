package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static io.sanport.nvme.fabrics.ConnectData.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected values: nvmeof.md §2.2 (Connect data). */
class ConnectDataTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(1024, SIZE);
        assertEquals(0, OFFSET_HOSTID);
        assertEquals(16, LENGTH_HOSTID);
        assertEquals(16, OFFSET_CNTLID);
        assertEquals(256, OFFSET_SUBNQN);
        assertEquals(256, LENGTH_SUBNQN);
        assertEquals(512, OFFSET_HOSTNQN);
        assertEquals(256, LENGTH_HOSTNQN);
        assertEquals(0xFFFF, CNTLID_DYNAMIC);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        s.fill((byte) 0x55);
        UUID host = UUID.fromString("f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
        hostUuid(s, host);
        cntlid(s, CNTLID_DYNAMIC);
        subnqn(s, "nqn.2024-01.io.sanport:disk0");
        hostnqn(s, "nqn.2014-08.org.nvmexpress:uuid:" + host);
        assertEquals(host, hostUuid(s));
        assertEquals(0xFFFF, cntlid(s));
        assertEquals("nqn.2024-01.io.sanport:disk0", subnqn(s));
        assertEquals("nqn.2014-08.org.nvmexpress:uuid:" + host, hostnqn(s));
        assertBytes("f81d4fae7dec11d0a76500a0c91e6bf6" + "ffff", s, 0);
        // NUL padded to the end of the 256-byte field
        assertBytes("00".repeat(256 - 28), s, 256 + 28);
        assertThrows(IllegalArgumentException.class, () -> subnqn(s, "n".repeat(256)));
    }
}
