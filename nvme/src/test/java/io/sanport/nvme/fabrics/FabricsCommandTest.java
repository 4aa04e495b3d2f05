package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expected values: nvmeof.md §2.1. */
class FabricsCommandTest {
    @Test
    void sizeOffsetsAndTypes() {
        assertEquals(64, FabricsCommand.SIZE);
        assertEquals(0, FabricsCommand.OFFSET_OPCODE);
        assertEquals(2, FabricsCommand.OFFSET_CID);
        assertEquals(4, FabricsCommand.OFFSET_FCTYPE);
        assertEquals(24, FabricsCommand.OFFSET_DPTR);
        assertEquals(0x7F, FabricsCommand.OPCODE);
        assertEquals(0x00, FabricsCommand.FCTYPE_PROPERTY_SET);
        assertEquals(0x01, FabricsCommand.FCTYPE_CONNECT);
        assertEquals(0x04, FabricsCommand.FCTYPE_PROPERTY_GET);
        assertEquals(0x05, FabricsCommand.FCTYPE_AUTH_SEND);
        assertEquals(0x06, FabricsCommand.FCTYPE_AUTH_RECEIVE);
        assertEquals(0x08, FabricsCommand.FCTYPE_DISCONNECT);
        assertTrue(FabricsCommand.isHostToController(FabricsCommand.FCTYPE_CONNECT));
        assertTrue(FabricsCommand.isHostToController(FabricsCommand.FCTYPE_AUTH_SEND));
        assertFalse(FabricsCommand.isHostToController(FabricsCommand.FCTYPE_PROPERTY_GET));
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(FabricsCommand.SIZE);
        FabricsCommand.opcode(s, FabricsCommand.OPCODE);
        FabricsCommand.cid(s, 0x8001);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
        assertEquals(0x7F, FabricsCommand.opcode(s));
        assertEquals(0x8001, FabricsCommand.cid(s));
        assertEquals(4, FabricsCommand.fctype(s));
        // the generic SQE view sees FCTYPE as the low byte of NSID
        assertEquals(4, io.sanport.nvme.SubmissionQueueEntry.nsid(s));
    }
}
