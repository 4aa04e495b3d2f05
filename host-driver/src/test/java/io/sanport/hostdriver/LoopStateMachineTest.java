package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.LoopContractTest.LoopHost;
import io.sanport.hostdriver.contract.ContractTransport;
import io.sanport.hostdriver.contract.ContractTransport.Completion;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The core's controller and request state machines, driven over the loop transport: real Connection Manager,
 * queue pairs and io_uring reactor on a RAM namespace, with nothing between host and core but byte arrays.
 */
class LoopStateMachineTest {
    /** KATO of the tests that are not about keep-alive: an I/O controller must ask for one (KATO 0 is refused). */
    static final long KATO_MS = 30_000;
    static final int LBA = 512;
    static final long TIMEOUT_MS = 10_000;

    LoopContractTest.Loop loop;
    int nextCid = 1;

    @BeforeEach
    void start() throws Exception {
        loop = new LoopContractTest.Loop();
    }

    @AfterEach
    void stop() throws Exception {
        loop.close();
    }

    // ---------------------------------------------------------------- host helpers

    LoopHost open() throws Exception {
        return (LoopHost) loop.connect(0, 31, false, false);
    }

    MemorySegment sqe(int opcode) {
        MemorySegment s = MemorySegment.ofArray(new byte[(int) SubmissionQueueEntry.SIZE]);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        SubmissionQueueEntry.cid(s, nextCid++);
        return s;
    }

    Completion run(LoopHost h, MemorySegment sqe, byte[] write, boolean inCapsule, int readLength) throws Exception {
        h.submit(sqe, write, inCapsule, readLength);
        Completion c = h.next(TIMEOUT_MS);
        assertNotNull(c, "a completion");
        assertEquals(SubmissionQueueEntry.cid(sqe), c.cid());
        return c;
    }

    Completion connect(LoopHost h, int qid, long katoMs, int cntlid) throws Exception {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, qid == 0 ? 31 : 127);
        ConnectCommand.kato(s, katoMs);
        byte[] data = new byte[(int) ConnectCommand.DATA_LENGTH];
        MemorySegment d = MemorySegment.ofArray(data);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(ContractTransport.HOSTNQN.getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, ContractTransport.NQN);
        ConnectData.hostnqn(d, ContractTransport.HOSTNQN);
        return run(h, s, data, true, 0);
    }

    Completion propertyGet(LoopHost h, int offset) throws Exception {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
        PropertyGetCommand.ofst(s, offset);
        return run(h, s, null, false, 0);
    }

    int csts(LoopHost h) throws Exception {
        Completion c = propertyGet(h, Property.CSTS);
        assertEquals(Status.SUCCESS, c.code(), c.toString());
        return c.dw0();
    }

    Completion propertySet(LoopHost h, int offset, int value) throws Exception {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(s, offset);
        PropertySetCommand.value(s, value);
        return run(h, s, null, false, 0);
    }

    Completion identify(LoopHost h) throws Exception {
        MemorySegment s = sqe(AdminOpcode.IDENTIFY);
        SubmissionQueueEntry.cdw10(s, IdentifyCns.CTRL);
        return run(h, s, null, false, 4096);
    }

    MemorySegment rw(int opcode, long slba, int bytes) {
        MemorySegment s = sqe(opcode);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, bytes / LBA - 1);
        return s;
    }

    /** Connect (KATO {@code katoMs}) and CC.EN: returns the admin queue; its cntlid in {@link #cntlid}. */
    LoopHost enabledAdmin(long katoMs) throws Exception {
        LoopHost admin = open();
        Completion c = connect(admin, 0, katoMs, ConnectData.CNTLID_DYNAMIC);
        assertEquals(Status.SUCCESS, c.code(), c.toString());
        cntlid = c.dw0() & 0xFFFF;
        assertEquals(Status.SUCCESS, propertySet(admin, Property.CC, 0x00460001).code());
        assertTrue((csts(admin) & Property.CSTS_RDY) != 0);
        return admin;
    }

    int cntlid;

    static void waitFor(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(2);
        }
    }

    // ---------------------------------------------------------------- the controller

    @Test
    void onlyAConnectBeforeTheConnectAndNoSecondConnectAfter() throws Exception {
        LoopHost h = open();
        assertEquals(Status.INVALID_OPCODE, identify(h).code(), "Identify before the Connect");
        assertEquals(Status.INVALID_OPCODE, propertyGet(h, Property.CSTS).code(), "Property Get before the Connect");
        assertFalse(h.connection.closed(), "a refused command leaves the queue up");
        Completion c = connect(h, 0, KATO_MS, ConnectData.CNTLID_DYNAMIC);
        assertEquals(Status.SUCCESS, c.code(), c.toString());
        assertEquals(0, c.sqid());
        assertEquals(Status.CMD_SEQ_ERROR, connect(h, 0, KATO_MS, ConnectData.CNTLID_DYNAMIC).code(), "a second Connect");
        int id = c.dw0() & 0xFFFF;
        // commands other than fabrics wait for CC.EN, and so do I/O queues
        assertEquals(Status.CMD_SEQ_ERROR, identify(h).code(), "Identify before CC.EN");
        LoopHost early = open();
        assertEquals(Status.CMD_SEQ_ERROR, connect(early, 1, 0, id).code(), "an I/O queue before CSTS.RDY");
        assertEquals(Status.SUCCESS, propertySet(h, Property.CC, 0x00460001).code());
        assertEquals(Status.SUCCESS, identify(h).code());
        LoopHost io = open();
        assertEquals(Status.SUCCESS, connect(io, 1, 0, id).code());
        assertEquals(Status.CONNECT_INVALID_PARAM, connect(open(), 2, 0, id + 1).code(), "an unknown controller");
    }

    @Test
    void ccEnableSetsCstsReadyAndDisableClearsIt() throws Exception {
        LoopHost h = open();
        assertEquals(Status.SUCCESS, connect(h, 0, KATO_MS, ConnectData.CNTLID_DYNAMIC).code());
        assertEquals(0, csts(h) & Property.CSTS_RDY, "not ready before CC.EN");
        assertEquals(Status.SUCCESS, propertySet(h, Property.CC, 0x00460000).code());
        assertEquals(0x00460000, propertyGet(h, Property.CC).dw0(), "CC reads back");
        assertEquals(0, csts(h) & Property.CSTS_RDY);
        assertEquals(Status.SUCCESS, propertySet(h, Property.CC, 0x00460001).code());
        assertEquals(Property.CSTS_RDY, csts(h) & Property.CSTS_RDY, "CC.EN = 1: CSTS.RDY = 1");
        assertEquals(Status.SUCCESS, propertySet(h, Property.CC, 0x00460000).code());
        assertEquals(0, csts(h) & Property.CSTS_RDY, "CC.EN = 0: CSTS.RDY = 0");
    }

    @Test
    void ccShutdownNotificationCompletesWithCstsShst() throws Exception {
        LoopHost admin = enabledAdmin(KATO_MS);
        LoopHost io = open();
        assertEquals(Status.SUCCESS, connect(io, 1, 0, cntlid).code());
        byte[] data = new byte[4096];
        new Random(1).nextBytes(data);
        assertEquals(Status.SUCCESS, run(io, rw(IoOpcode.WRITE, 8, 4096), data, true, 0).code());
        assertEquals(Status.SUCCESS, propertySet(admin, Property.CC, 0x00460001 | Property.CC_SHN_NORMAL).code());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        int csts;
        while (Property.cstsShst(csts = csts(admin)) != Property.cstsShst(Property.CSTS_SHST_COMPLETE)) {
            assertTrue(System.nanoTime() < deadline, "CSTS.SHST complete");
        }
        assertEquals(0, csts & Property.CSTS_RDY, "a shut down controller is not ready");
    }

    @Test
    void keepAliveKeepsTheControllerAndSilenceEndsIt() throws Exception {
        LoopHost admin = enabledAdmin(600);
        LoopHost io = open();
        assertEquals(Status.SUCCESS, connect(io, 1, 0, cntlid).code());
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        while (System.nanoTime() < until) {
            assertEquals(Status.SUCCESS, run(admin, sqe(AdminOpcode.KEEP_ALIVE), null, false, 0).code());
            Thread.sleep(50);
        }
        assertFalse(admin.connection.closed() || io.connection.closed(), "kept alive for more than two KATOs");
        waitFor(() -> admin.connection.closed() && io.connection.closed(), "the silent controller is torn down");
        assertTrue(admin.connection.awaitGone(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                && io.connection.awaitGone(TIMEOUT_MS, TimeUnit.MILLISECONDS), "both queue pairs freed");
        // the target takes the host back
        enabledAdmin(KATO_MS);
    }

    // ---------------------------------------------------------------- the request

    Map<Request.State, Integer> states(QueuePair q) throws Exception {
        return q.reactor().call(r -> {
            Map<Request.State, Integer> n = new EnumMap<>(Request.State.class);
            for (int tag = 0; tag < q.capacity(); tag++) {
                n.merge(q.request(tag).state(), 1, Integer::sum);
            }
            return n;
        }).get(5, TimeUnit.SECONDS);
    }

    /**
     * A slow host holds its data: requests wait in TRANSFERRING_FROM_HOST holding every pool buffer, the next
     * ones in NEED_BUFFER; once the data comes they all run, complete, and every slot is FREE again.
     */
    @Test
    void requestsWaitForDataThenForBuffersThenComplete() throws Exception {
        enabledAdmin(KATO_MS);
        LoopHost io = open();
        assertEquals(Status.SUCCESS, connect(io, 1, 0, cntlid).code());
        QueuePair q = io.connection.queuePair();
        int buffers = q.reactor().buffers().capacity();
        assertEquals(Map.of(Request.State.FREE, q.capacity()), states(q), "all slots free when idle");
        io.connection.holdTransfers();
        int n = buffers + 4;
        byte[][] data = new byte[n][];
        for (int i = 0; i < n; i++) {
            data[i] = new byte[8192];
            new Random(i).nextBytes(data[i]);
            io.submit(rw(IoOpcode.WRITE, 16L * i, 8192), data[i], false, 0);
        }
        waitFor(() -> {
            try {
                Map<Request.State, Integer> s = states(q);
                return s.getOrDefault(Request.State.TRANSFERRING_FROM_HOST, 0) == buffers
                        && s.getOrDefault(Request.State.NEED_BUFFER, 0) == n - buffers;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "every buffer waits for host data, the rest wait for a buffer");
        assertEquals(null, io.next(50), "nothing completes while the host holds its data");
        assertTrue(loop.target.bufferWaits() >= n - buffers, "the rest waited for a pool buffer");
        io.connection.releaseTransfers();
        for (int i = 0; i < n; i++) {
            Completion c = io.next(TIMEOUT_MS);
            assertNotNull(c, "completion " + i);
            assertEquals(Status.SUCCESS, c.code(), c.toString());
        }
        waitFor(() -> {
            try {
                return states(q).equals(Map.of(Request.State.FREE, q.capacity()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "every slot FREE");
        assertEquals(0, q.outstanding());
        for (int i = 0; i < n; i++) {
            Completion r = run(io, rw(IoOpcode.READ, 16L * i, 8192), null, false, 8192);
            assertArrayEquals(data[i], r.data(), "write " + i);
        }
    }

    /** A queue dropped while its requests wait for data frees them all; the target goes on. */
    @Test
    void closingAQueueWithRequestsWaitingFreesThem() throws Exception {
        LoopHost admin = enabledAdmin(KATO_MS);
        LoopHost io = open();
        assertEquals(Status.SUCCESS, connect(io, 1, 0, cntlid).code());
        io.connection.holdTransfers();
        for (int i = 0; i < 40; i++) {
            io.submit(rw(IoOpcode.WRITE, 16L * i, 8192), new byte[8192], false, 0);
        }
        io.close();
        assertTrue(io.connection.awaitGone(TIMEOUT_MS, TimeUnit.MILLISECONDS), "the queue pair went idle and was freed");
        LoopHost again = open();
        assertEquals(Status.SUCCESS, connect(again, 2, 0, cntlid).code());
        assertEquals(Status.SUCCESS, run(again, rw(IoOpcode.READ, 0, 4096), null, false, 4096).code());
        assertEquals(Status.SUCCESS, run(admin, sqe(AdminOpcode.KEEP_ALIVE), null, false, 0).code());
    }
}
