package io.sanport.nvme.fabrics;

import io.sanport.nvme.SglDescriptor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static io.sanport.nvme.fabrics.ConnectCommand.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §2.2. */
class ConnectCommandTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(64, SIZE);
        assertEquals(0, OFFSET_OPCODE);
        assertEquals(2, OFFSET_CID);
        assertEquals(4, OFFSET_FCTYPE);
        assertEquals(24, OFFSET_DPTR);
        assertEquals(40, OFFSET_RECFMT);
        assertEquals(42, OFFSET_QID);
        assertEquals(44, OFFSET_SQSIZE);
        assertEquals(46, OFFSET_CATTR);
        assertEquals(48, OFFSET_KATO);
    }

    @Test
    void linuxAdminConnectOverTcp() {
        MemorySegment s = misaligned(SIZE);
        opcode(s, FabricsCommand.OPCODE);
        cid(s, 0x1000);
        fctype(s, FabricsCommand.FCTYPE_CONNECT);
        SglDescriptor.set(s, OFFSET_DPTR, 0, DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        recfmt(s, RECFMT_0);
        qid(s, ADMIN_QID);
        sqsize(s, 31);
        cattr(s, 0);
        kato(s, 5000);
        assertEquals(31, sqsize(s));
        assertEquals(5000, kato(s));
        assertEquals(1, fctype(s));
        assertBytes("7f00" + "0010" + "01", s, 0);
        assertBytes("0000" + "0000" + "1f00" + "00" + "00" + "88130000", s, 40);
        assertEquals(1024, SglDescriptor.length(s, OFFSET_DPTR));
        kato(s, 0xFFFFFFFFL);
        assertEquals(0xFFFFFFFFL, kato(s));
    }

    @Test
    void responseDw0() {
        assertEquals(0x00000001, successDw0(1));
        assertEquals(0x00010010, invalidParameterDw0(16, true));
        assertEquals(44, invalidParameterDw0(44, false));
        assertEquals(0x4, CATTR_DISABLE_SQFLOW);
        assertEquals(1 << 17, AUTHREQ_ATR);
        assertEquals(1 << 18, AUTHREQ_ASCR);
    }
}
