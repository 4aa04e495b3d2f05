package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.ErrorLogEntry.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected offsets: nvmeof.md §3.9 (LID 0x01) and libnvme nvme_error_log_page. */
class ErrorLogEntryTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(64, SIZE);
        assertEquals(0, OFFSET_ERROR_COUNT);
        assertEquals(8, OFFSET_SQID);
        assertEquals(10, OFFSET_CID);
        assertEquals(12, OFFSET_STATUS_FIELD);
        assertEquals(14, OFFSET_PARAMETER_ERROR_LOCATION);
        assertEquals(16, OFFSET_LBA);
        assertEquals(24, OFFSET_NSID);
        assertEquals(28, OFFSET_VENDOR_SPECIFIC);
        assertEquals(29, OFFSET_TRTYPE);
        assertEquals(32, OFFSET_COMMAND_SPECIFIC);
        assertEquals(40, OFFSET_TRTYPE_SPECIFIC_INFO);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        errorCount(s, 7);
        sqid(s, 1);
        cid(s, 0x1234);
        statusField(s, Status.word(Status.LBA_RANGE));
        parameterErrorLocation(s, 40);
        lba(s, 1L << 40);
        nsid(s, 1);
        trtype(s, 3);
        commandSpecific(s, -1L);
        assertEquals(7, errorCount(s));
        assertEquals(0x1234, cid(s));
        assertEquals(0x8100, statusField(s));
        assertEquals(40, parameterErrorLocation(s));
        assertEquals(1L << 40, lba(s));
        assertEquals(1, nsid(s));
        assertEquals(3, trtype(s));
        assertEquals(-1L, commandSpecific(s));
        assertBytes("0700000000000000" + "0100" + "3412" + "0081" + "2800", s, 0);
    }
}
