package io.sanport.nvme.rdma;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §6.1 (accept), Linux nvme-rdma.h. */
class RdmaCmReplyTest {
    @Test
    void layout() {
        assertEquals(32, RdmaCmReply.SIZE);
        assertEquals(0, RdmaCmReply.OFFSET_RECFMT);
        assertEquals(2, RdmaCmReply.OFFSET_CRQSIZE);
    }

    @Test
    void setZeroesTheReservedBytes() {
        MemorySegment s = misaligned(RdmaCmReply.SIZE);
        s.fill((byte) 0x55);
        RdmaCmReply.set(s, 128);
        assertBytes("0000" + "8000" + "00".repeat(28), s, 0);
        assertEquals(128, RdmaCmReply.crqsize(s));
    }

    @Test
    void crqsizeOfWhatTheHostReceived() {
        assertEquals(32, RdmaCmReply.crqsizeOf(MemorySegment.ofArray(new byte[] {0, 0, 32, 0, 0, 0, 0, 0})));
        assertEquals(-1, RdmaCmReply.crqsizeOf(MemorySegment.ofArray(new byte[0])));
        assertEquals(-1, RdmaCmReply.crqsizeOf(MemorySegment.ofArray(new byte[3])));
    }
}
