package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.4 (CCCID 8, TTAG 10, offset 12, length 16). */
class H2CDataTest {
    @Test
    void h2cData() {
        assertEquals(24, H2CData.SIZE);
        assertEquals(24, H2CData.HLEN);
        assertEquals(8, H2CData.OFFSET_CCCID);
        assertEquals(10, H2CData.OFFSET_TTAG);
        assertEquals(12, H2CData.OFFSET_DATAO);
        assertEquals(16, H2CData.OFFSET_DATAL);

        MemorySegment s = misaligned(H2CData.SIZE);
        PduHeader.set(s, PduHeader.TYPE_H2C_DATA, PduHeader.FLAG_LAST_PDU, H2CData.HLEN, H2CData.HLEN, 24 + 8192);
        H2CData.cccid(s, 0x1001);
        H2CData.ttag(s, 7);
        H2CData.datao(s, 8192);
        H2CData.datal(s, 8192);
        assertEquals(0x1001, H2CData.cccid(s));
        assertEquals(7, H2CData.ttag(s));
        assertEquals(8192, H2CData.datao(s));
        assertEquals(8192, H2CData.datal(s));
        assertBytes("06041818" + "18200000" + "0110" + "0700" + "00200000" + "00200000" + "00000000", s, 0);
    }
}
