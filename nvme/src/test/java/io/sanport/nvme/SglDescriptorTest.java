package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.SglDescriptor.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected offsets and identifiers: nvmeof.md §1.4 (Linux nvme_sgl_desc / nvme_keyed_sgl_desc). */
class SglDescriptorTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(16, SIZE);
        assertEquals(16, KEYED_LAYOUT.byteSize());
        assertEquals(0, OFFSET_ADDRESS);
        assertEquals(8, OFFSET_LENGTH);
        assertEquals(11, OFFSET_KEY);
        assertEquals(15, OFFSET_IDENTIFIER);
    }

    @Test
    void identifiers() {
        assertEquals(0x01, identifier(TYPE_DATA_BLOCK, SUBTYPE_OFFSET));
        assertEquals(0x5A, identifier(TYPE_TRANSPORT_DATA_BLOCK, SUBTYPE_TRANSPORT));
        assertEquals(0x40, identifier(TYPE_KEYED_DATA_BLOCK, SUBTYPE_ADDRESS));
        assertEquals(0x4F, identifier(TYPE_KEYED_DATA_BLOCK, SUBTYPE_INVALIDATE_KEY));
        assertEquals(ID_DATA_OFFSET, 0x01);
        assertEquals(ID_TCP_TRANSPORT, 0x5A);
        assertEquals(ID_KEYED, 0x40);
        assertEquals(ID_KEYED_INVALIDATE, 0x4F);
        assertEquals(TYPE_KEYED_DATA_BLOCK, type(0x4F));
        assertEquals(SUBTYPE_INVALIDATE_KEY, subtype(0x4F));
    }

    @Test
    void dataBlockInSqe() {
        MemorySegment sqe = misaligned(SubmissionQueueEntry.SIZE);
        long at = SubmissionQueueEntry.OFFSET_DPTR;
        set(sqe, at, 0, 1024, ID_DATA_OFFSET);
        assertEquals(0, address(sqe, at));
        assertEquals(1024, length(sqe, at));
        assertEquals(0x01, identifier(sqe, at));
        assertBytes("0000000000000000" + "00040000" + "000000" + "01", sqe, 24);
        length(sqe, at, 0xFFFFFFFFL);
        assertEquals(0xFFFFFFFFL, length(sqe, at));
    }

    @Test
    void keyedDataBlock() {
        MemorySegment s = misaligned(SIZE);
        setKeyed(s, 0, 0x00007F0012345000L, 0x123456, 0xA1B2C3D4, ID_KEYED_INVALIDATE);
        assertEquals(0x00007F0012345000L, address(s, 0));
        assertEquals(0x123456, keyedLength(s, 0));
        assertEquals(0xA1B2C3D4, key(s, 0));
        assertEquals(0x4F, identifier(s, 0));
        assertBytes("0050341200" + "7f0000" + "563412" + "d4c3b2a1" + "4f", s, 0);
        keyedLength(s, 0, KEYED_MAX_LENGTH);
        assertEquals(0xFFFFFF, keyedLength(s, 0));
        assertEquals(0xA1B2C3D4, key(s, 0));
    }
}
