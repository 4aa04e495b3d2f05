package io.sanport.client;

import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@link RdmaDataMapper} describes a command's data in its capsule: in capsule, bounced through the slot's area of
 * the {@link RdmaCapsulePool}, or refused; no RDMA device needed (the zero-copy MR path is the VM's).
 */
class RdmaDataMapperTest {
    private static final long SQE = SubmissionQueueEntry.SIZE;

    private final Arena arena = Arena.ofShared();
    private final RdmaCapsulePool capsules = new RdmaCapsulePool(null, arena, 4);
    private final RdmaDataMapper mapper = new RdmaDataMapper(capsules, 4);

    @AfterEach
    void close() {
        arena.close();
    }

    private CommandSlot slot(int index, long bytes, boolean toController) {
        CommandSlot slot = new CommandSlot(index, arena);
        slot.prepare(toController ? "Write" : "Read");
        MemorySegment data = arena.allocate(bytes, 4096);
        NvmeTcpQueueTestSupport.fill(data);
        slot.data(data, toController);
        return slot;
    }

    private long dptr(int index) {
        return RdmaCapsulePool.capsule(index) + SubmissionQueueEntry.OFFSET_DPTR;
    }

    @Test
    void writeWithinTheInCapsuleLimitTravelsBehindTheSqe() throws Exception {
        mapper.inCapsuleMax(4096);
        CommandSlot slot = slot(1, 4096, true);
        assertEquals(SQE + 4096, mapper.map(slot), "the SEND carries SQE and data");
        assertTrue(slot.inCapsule);
        assertEquals(SglDescriptor.ID_DATA_OFFSET, SglDescriptor.identifier(capsules.pool, dptr(1)));
        assertEquals(4096, SglDescriptor.length(capsules.pool, dptr(1)));
        assertEquals(-1, capsules.pool.asSlice(RdmaCapsulePool.capsule(1) + SQE, 4096).mismatch(slot.data));
        assertEquals(4096, mapper.payloadBytesCopied());
    }

    @Test
    void adminQueueBouncesSmallWritesWithThePoolKey() throws Exception {
        mapper.inCapsuleMax(0); // the admin queue: never in capsule
        CommandSlot slot = slot(2, 1024, true);
        assertEquals(SQE, mapper.map(slot));
        assertFalse(slot.inCapsule);
        long area = RdmaCapsulePool.capsule(2) + SQE;
        assertEquals(SglDescriptor.ID_KEYED, SglDescriptor.identifier(capsules.pool, dptr(2)));
        assertEquals(capsules.pool.address() + area, SglDescriptor.address(capsules.pool, dptr(2)));
        assertEquals(1024, SglDescriptor.keyedLength(capsules.pool, dptr(2)));
        assertEquals(capsules.rkey(), SglDescriptor.key(capsules.pool, dptr(2)));
        assertEquals(-1, capsules.pool.asSlice(area, 1024).mismatch(slot.data));
        mapper.unmap(slot, 0); // a write's data is not copied back
        assertEquals(1024, mapper.payloadBytesCopied());
    }

    @Test
    void bouncedReadIsCopiedToTheCallerOnlyOnSuccess() throws Exception {
        mapper.inCapsuleMax(8192);
        CommandSlot slot = slot(3, RdmaCapsulePool.SMALL_DATA, false);
        assertEquals(SQE, mapper.map(slot), "reads never travel in the capsule");
        long area = RdmaCapsulePool.capsule(3) + SQE;
        capsules.pool.asSlice(area, RdmaCapsulePool.SMALL_DATA).fill((byte) 0x5A); // what the target RDMA-WRITEs
        mapper.unmap(slot, Status.word(Status.DATA_XFER_ERROR, false));
        assertEquals(0, mapper.payloadBytesCopied(), "a failed read leaves the caller's buffer alone");
        mapper.unmap(slot, 0);
        assertEquals(-1, capsules.pool.asSlice(area, RdmaCapsulePool.SMALL_DATA).mismatch(slot.data));
        assertEquals(RdmaCapsulePool.SMALL_DATA, mapper.payloadBytesCopied());
        mapper.release(slot); // no MR held
    }

    @Test
    void noDataIsAnEmptyKeyedDescriptor() throws Exception {
        CommandSlot slot = new CommandSlot(0, arena);
        slot.prepare("Flush");
        capsules.pool.asSlice(dptr(0), SglDescriptor.SIZE).fill((byte) 0xFF);
        assertEquals(SQE, mapper.map(slot));
        assertEquals(SglDescriptor.ID_KEYED, SglDescriptor.identifier(capsules.pool, dptr(0)));
        assertEquals(0, SglDescriptor.address(capsules.pool, dptr(0)));
        assertEquals(0, SglDescriptor.keyedLength(capsules.pool, dptr(0)));
    }

    @Test
    void transferBeyondAKeyedDescriptorFailsTheCommand() {
        CommandSlot slot = new CommandSlot(0, arena);
        slot.prepare("Read");
        slot.data(MemorySegment.ofAddress(arena.allocate(8).address()).reinterpret(SglDescriptor.KEYED_MAX_LENGTH + 1L), false);
        NvmeTransportException e = assertThrows(NvmeTransportException.class, () -> mapper.map(slot));
        assertTrue(e.getMessage().contains("24-bit length"), e.getMessage());
    }
}
