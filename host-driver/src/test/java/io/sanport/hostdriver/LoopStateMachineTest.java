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
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
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
        int paced = loop.target.options().hostPacedLimit(buffers); // what may wait for the host's data at once
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
                return s.getOrDefault(Request.State.TRANSFERRING_FROM_HOST, 0) == paced
                        && s.getOrDefault(Request.State.NEED_BUFFER, 0) == n - paced;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "the host-paced share of the buffers waits for host data, the rest wait for a buffer");
        assertEquals(null, io.next(50), "nothing completes while the host holds its data");
        assertTrue(loop.target.bufferWaits() >= n - paced, "the rest waited for a pool buffer");
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

    // ---------------------------------------------------------------- host-paced buffer quotas

    /** An I/O queue of a new controller (its admin queue is kept in {@code admins}). */
    LoopHost ioQueue(List<LoopHost> admins) throws Exception {
        admins.add(enabledAdmin(KATO_MS));
        LoopHost io = open();
        assertEquals(Status.SUCCESS, connect(io, 1, 0, cntlid).code());
        return io;
    }

    /** Slots of {@code q} per state, read on its reactor. */
    int count(QueuePair q, Request.State state) {
        try {
            return states(q).getOrDefault(state, 0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    int count(List<LoopHost> queues, Request.State state) {
        int n = 0;
        for (LoopHost h : queues) {
            n += count(h.connection.queuePair(), state);
        }
        return n;
    }

    /** CIDs of {@code q}'s requests in {@code state}, sorted. */
    List<Integer> cids(QueuePair q, Request.State state) throws Exception {
        return q.reactor().call(r -> {
            List<Integer> c = new ArrayList<>();
            for (int tag = 0; tag < q.capacity(); tag++) {
                if (q.request(tag).state() == state) {
                    c.add(q.request(tag).cid());
                }
            }
            Collections.sort(c);
            return c;
        }).get(5, TimeUnit.SECONDS);
    }

    /**
     * Hosts that send Writes and never their data pin at most the host-paced share of the pool: a read and an
     * in-capsule write of another controller still get buffers and complete; once one stalled host sends its data
     * or goes, the writes waiting behind the quota take the freed share in order, and all complete.
     */
    @Test
    void hostsThatNeverSendTheirDataCannotTakeEveryBuffer() throws Exception {
        List<LoopHost> admins = new ArrayList<>();
        List<LoopHost> stalled = new ArrayList<>();
        int buffers = 0;
        for (int h = 0; h < 4; h++) {
            LoopHost io = ioQueue(admins);
            buffers = io.connection.queuePair().reactor().buffers().capacity();
            io.connection.holdTransfers();
            stalled.add(io);
        }
        int paced = loop.target.options().hostPacedLimit(buffers);
        assertTrue(paced < buffers);
        int perHost = buffers / 4 + 2; // together more writes than the pool has buffers
        List<List<Integer>> written = new ArrayList<>();
        for (LoopHost io : stalled) {
            List<Integer> c = new ArrayList<>();
            for (int i = 0; i < perHost; i++) {
                MemorySegment w = rw(IoOpcode.WRITE, 16L * i, 8192);
                c.add(SubmissionQueueEntry.cid(w));
                io.submit(w, new byte[8192], false, 0);
            }
            written.add(c);
        }
        waitFor(() -> count(stalled, Request.State.TRANSFERRING_FROM_HOST) == paced
                && count(stalled, Request.State.NEED_BUFFER) == 4 * perHost - paced,
                "the stalled hosts hold the host-paced share, their other writes wait");
        Thread.sleep(50);
        assertEquals(paced, count(stalled, Request.State.TRANSFERRING_FROM_HOST), "never more than the share");

        LoopHost good = ioQueue(admins);
        byte[] data = new byte[4096];
        new Random(7).nextBytes(data);
        assertEquals(Status.SUCCESS, run(good, rw(IoOpcode.WRITE, 4096, 4096), data, true, 0).code(), "in-capsule write");
        Completion r = run(good, rw(IoOpcode.READ, 4096, 4096), null, false, 4096);
        assertEquals(Status.SUCCESS, r.code(), "a read of another controller gets a buffer");
        assertArrayEquals(data, r.data());
        for (LoopHost a : admins) {
            assertEquals(Status.SUCCESS, run(a, sqe(AdminOpcode.KEEP_ALIVE), null, false, 0).code());
        }

        // the first stalled host goes: its share passes to the writes that waited longest
        LoopHost gone = stalled.remove(0);
        List<Integer> goneHeld = cids(gone.connection.queuePair(), Request.State.TRANSFERRING_FROM_HOST);
        gone.close();
        assertTrue(gone.connection.awaitGone(TIMEOUT_MS, TimeUnit.MILLISECONDS), "the closed queue is freed");
        waitFor(() -> count(stalled, Request.State.TRANSFERRING_FROM_HOST) == paced,
                "the waiting writes took the share the closed queue gave back");
        for (int h = 0; h < stalled.size(); h++) {
            List<Integer> held = cids(stalled.get(h).connection.queuePair(), Request.State.TRANSFERRING_FROM_HOST);
            List<Integer> mine = written.get(h + 1);
            assertEquals(mine.subList(0, held.size()), held, "host " + (h + 1) + ": the oldest writes hold buffers");
        }
        assertFalse(goneHeld.isEmpty());

        // the rest send their data: everything completes
        for (LoopHost io : stalled) {
            io.connection.releaseTransfers();
        }
        for (LoopHost io : stalled) {
            for (int i = 0; i < perHost; i++) {
                Completion c = io.next(TIMEOUT_MS);
                assertNotNull(c, "completion " + i);
                assertEquals(Status.SUCCESS, c.code(), c.toString());
            }
        }
        waitFor(() -> count(stalled, Request.State.FREE) == 3 * stalled.get(0).connection.queuePair().capacity(),
                "every slot FREE");
    }

    /** One controller holds at most its own host-paced cap; a second controller still gets its own. */
    @Test
    void oneControllerHoldsAtMostItsHostPacedCap() throws Exception {
        loop.close();
        loop = new LoopContractTest.Loop(new TargetOptions(0, 50, 5000).withHostPacedBuffers(50, 4));
        List<LoopHost> admins = new ArrayList<>();
        LoopHost a = ioQueue(admins);
        LoopHost b = ioQueue(admins);
        a.connection.holdTransfers();
        b.connection.holdTransfers();
        List<Integer> aCids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            MemorySegment w = rw(IoOpcode.WRITE, 16L * i, 8192);
            aCids.add(SubmissionQueueEntry.cid(w));
            a.submit(w, new byte[8192], false, 0);
        }
        for (int i = 0; i < 10; i++) {
            b.submit(rw(IoOpcode.WRITE, 16L * i, 8192), new byte[8192], false, 0);
        }
        QueuePair qa = a.connection.queuePair();
        QueuePair qb = b.connection.queuePair();
        waitFor(() -> count(qa, Request.State.TRANSFERRING_FROM_HOST) == 4 && count(qb, Request.State.TRANSFERRING_FROM_HOST) == 4
                && count(qa, Request.State.NEED_BUFFER) == 6 && count(qb, Request.State.NEED_BUFFER) == 6,
                "each controller holds its cap of 4, its other writes wait");
        Thread.sleep(50);
        assertEquals(4, count(qa, Request.State.TRANSFERRING_FROM_HOST), "the cap holds");
        assertEquals(aCids.subList(0, 4), cids(qa, Request.State.TRANSFERRING_FROM_HOST), "the oldest go first");
        assertEquals(Status.SUCCESS, run(admins.get(0), sqe(AdminOpcode.KEEP_ALIVE), null, false, 0).code());
        a.connection.releaseTransfers();
        for (int i = 0; i < 10; i++) {
            Completion c = a.next(TIMEOUT_MS);
            assertNotNull(c, "completion " + i);
            assertEquals(Status.SUCCESS, c.code(), c.toString());
        }
        assertEquals(4, count(qb, Request.State.TRANSFERRING_FROM_HOST), "b still at its cap");
        b.connection.releaseTransfers();
        for (int i = 0; i < 10; i++) {
            assertEquals(Status.SUCCESS, b.next(TIMEOUT_MS).code());
        }
    }
}
