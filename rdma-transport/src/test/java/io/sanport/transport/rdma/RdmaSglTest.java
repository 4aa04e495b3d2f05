package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** SGL1 checks of an RDMA capsule, as nvmet_rdma_map_sgl: every type, subtype, length and offset. */
class RdmaSglTest {
    private static final long AT = SubmissionQueueEntry.OFFSET_DPTR;
    private static final int INLINE = io.sanport.nvme.fabrics.Capsule.IN_CAPSULE_DATA;
    private static final long MAX = 128 * 1024;
    private final MemorySegment sqe = Arena.ofAuto().allocate(64);
    private final RdmaSgl sgl = new RdmaSgl();

    private void keyed(long addr, int len, int key, int id) {
        SglDescriptor.setKeyed(sqe, AT, addr, len, key, id);
    }

    private void inCapsule(long offset, long len) {
        SglDescriptor.set(sqe, AT, offset, len, SglDescriptor.ID_DATA_OFFSET);
    }

    @Test
    void keyedWithInvalidate() {
        keyed(0x7f00_1234_5000L, 65536, 0xABCD1234, SglDescriptor.ID_KEYED_INVALIDATE);
        assertEquals(Status.SUCCESS, sgl.map(sqe, 0, INLINE, MAX));
        assertEquals(65536, sgl.length);
        assertEquals(0, sgl.inCapsuleLength);
        assertEquals(0x7f00_1234_5000L, sgl.remoteAddress);
        assertEquals(0xABCD1234, sgl.key);
        assertTrue(sgl.invalidate);
    }

    @Test
    void keyedWithoutInvalidateAndNoData() {
        keyed(0x1000, 4096, 7, SglDescriptor.ID_KEYED);
        assertEquals(Status.SUCCESS, sgl.map(sqe, 0, INLINE, MAX));
        assertFalse(sgl.invalidate);
        // "no data" from the Linux host: 0x40 with address, length and key 0; an 0x4F of length 0 invalidates nothing
        keyed(0, 0, 0, SglDescriptor.ID_KEYED);
        assertEquals(Status.SUCCESS, sgl.map(sqe, 0, INLINE, MAX));
        assertEquals(0, sgl.length);
        keyed(0, 0, 99, SglDescriptor.ID_KEYED_INVALIDATE);
        assertEquals(Status.SUCCESS, sgl.map(sqe, 0, INLINE, MAX));
        assertFalse(sgl.invalidate);
    }

    @Test
    void keyedTooLongOrBadSubtype() {
        keyed(0x1000, (int) MAX + 4096, 7, SglDescriptor.ID_KEYED_INVALIDATE);
        assertEquals(Status.SGL_INVALID_DATA, sgl.map(sqe, 0, INLINE, MAX));
        keyed(0x1000, SglDescriptor.KEYED_MAX_LENGTH, 7, SglDescriptor.ID_KEYED);
        assertEquals(Status.SGL_INVALID_DATA, sgl.map(sqe, 0, INLINE, MAX));
        keyed(0x1000, 4096, 7, SglDescriptor.identifier(SglDescriptor.TYPE_KEYED_DATA_BLOCK, 0x1));
        assertEquals(Status.INVALID_FIELD, sgl.map(sqe, 0, INLINE, MAX));
    }

    @Test
    void inCapsule() {
        inCapsule(0, 4096);
        assertEquals(Status.SUCCESS, sgl.map(sqe, 4096, INLINE, MAX));
        assertEquals(4096, sgl.length);
        assertEquals(4096, sgl.inCapsuleLength);
        assertEquals(0, sgl.inCapsuleOffset);
        assertFalse(sgl.invalidate);
        inCapsule(512, 1024);
        assertEquals(Status.SUCCESS, sgl.map(sqe, 1536, INLINE, MAX));
        assertEquals(512, sgl.inCapsuleOffset);
    }

    @Test
    void inCapsuleOutOfBounds() {
        inCapsule(0, INLINE + 512);                 // more than IOCCSZ allows
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, INLINE + 512, INLINE, MAX));
        inCapsule(INLINE, 16);                      // offset past the in-capsule area
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, INLINE, INLINE, MAX));
        inCapsule(-16, 16);                         // a huge (unsigned) offset
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, INLINE, INLINE, MAX));
        inCapsule(0, 4096);                         // the capsule carried fewer bytes than the SGL claims
        assertEquals(Status.SGL_INVALID_DATA, sgl.map(sqe, 4000, INLINE, MAX));
        SglDescriptor.set(sqe, AT, 0, 4096, SglDescriptor.identifier(SglDescriptor.TYPE_DATA_BLOCK, 0));
        assertEquals(Status.INVALID_FIELD, sgl.map(sqe, 4096, INLINE, MAX)); // Data Block, Address subtype
    }

    @Test
    void inCapsuleRangesNearTheTopOfTheAddressSpaceDoNotWrap() {
        inCapsule(0x7FFF_FFFF_FFFF_FC00L, 1024);   // off + len = 2^63: negative as a long
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, 1, INLINE, MAX));
        inCapsule((1L << 63) - 64, 8192);          // would start 64 bytes before the data: the SQE, then stale bytes
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, 0, INLINE, MAX));
        inCapsule(-1L, 2);                         // off + len wraps to 1
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, INLINE, INLINE, MAX));
        inCapsule(16, 0xFFFF_FFFFL);               // the largest length
        assertEquals(Status.SGL_INVALID_OFFSET, sgl.map(sqe, INLINE, INLINE, MAX));
        inCapsule(INLINE - 16, 16);                // the last 16 bytes: fine when they came
        assertEquals(Status.SUCCESS, sgl.map(sqe, INLINE, INLINE, MAX));
        inCapsule(100, 16);                        // within IOCCSZ but past what the capsule carried
        assertEquals(Status.SGL_INVALID_DATA, sgl.map(sqe, 64, INLINE, MAX));
        assertEquals(Status.SGL_INVALID_DATA, sgl.map(sqe, 0, INLINE, MAX)); // no bytes after the SQE at all
    }

    @Test
    void otherTypesAreRefused() {
        SglDescriptor.set(sqe, AT, 0, 4096, SglDescriptor.ID_TCP_TRANSPORT);
        assertEquals(Status.SGL_INVALID_TYPE, sgl.map(sqe, 0, INLINE, MAX));
        SglDescriptor.set(sqe, AT, 0, 64, SglDescriptor.identifier(SglDescriptor.TYPE_LAST_SEGMENT, 0));
        assertEquals(Status.SGL_INVALID_TYPE, sgl.map(sqe, 0, INLINE, MAX));
        SglDescriptor.set(sqe, AT, 0, 64, SglDescriptor.identifier(SglDescriptor.TYPE_BIT_BUCKET, 0));
        assertEquals(Status.SGL_INVALID_TYPE, sgl.map(sqe, 0, INLINE, MAX));
    }

    @Test
    void transportAdvertisesWhatTheLinuxHostNeeds() {
        RdmaTransport t = new RdmaTransport();
        assertEquals("rdma", t.type());
        assertEquals(1, t.trtype());
        assertEquals(516, t.ioccsz());
        assertEquals(0x100005, t.sgls());
        assertTrue(io.sanport.hostdriver.Transports.find("rdma") instanceof RdmaTransport);
    }
}
