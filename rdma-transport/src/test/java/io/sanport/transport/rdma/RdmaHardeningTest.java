package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.transport.rdma.FakeVerbsProvider.Host;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What a hostile or broken host on the fabric can do to the NVMe/RDMA target ([harden]), over the fake verbs
 * provider: every case ends with the target answering with the right status or ending that one queue, and the
 * other queues on the same reactor still serving I/O.
 */
class RdmaHardeningTest extends RdmaHostSide {

    /** The next response on {@code h}: its status code (without DNR). */
    static int status(Host h) throws InterruptedException {
        return Status.code(CompletionQueueEntry.status(response(h)));
    }

    // ---------------------------------------------------------------- in-capsule SGL ranges

    @Test
    void aConnectWhoseInCapsuleRangeWrapsIsRefusedAndTheReactorLives() throws Exception {
        RdmaLoopback.Connection admin = admin();
        Host good = io(1).host();
        RdmaLoopback.Connection c = lo.connect(2, 127);
        MemorySegment s = connectSqe(2, 127);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0x7FFF_FFFF_FFFF_FC00L, ConnectCommand.DATA_LENGTH,
                SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(s, arena.allocate(1))); // 65 bytes: one after the SQE
        assertEquals(Status.SGL_INVALID_OFFSET, status(c.host()));

        MemorySegment bare = connectSqe(2, 127); // 64 bytes: no receive buffer is kept for its data
        SglDescriptor.set(bare, SubmissionQueueEntry.OFFSET_DPTR, 0x7FFF_FFFF_FFFF_FC00L, ConnectCommand.DATA_LENGTH,
                SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(bare, null));
        assertEquals(Status.SGL_INVALID_OFFSET, status(c.host()));

        keyedRead(good, 0, 512, SglDescriptor.ID_KEYED);
        assertTrue(!admin.host().inError() && !good.inError() && !c.host().inError());
        assertEquals(0, lo.stats.protocolErrors(), "an NVMe error, not a framing error");
    }

    @Test
    void aWriteWhoseInCapsuleRangeStartsBeforeTheDataWritesNothing() throws Exception {
        admin();
        Host victim = io(1).host();
        Host attacker = io(2).host();
        // another host's in-capsule write leaves its bytes in a shared receive buffer
        MemorySegment secret = pattern(8192, 42);
        MemorySegment w = rw(IoOpcode.WRITE, 100, 8192);
        SglDescriptor.set(w, SubmissionQueueEntry.OFFSET_DPTR, 0, 8192, SglDescriptor.ID_DATA_OFFSET);
        victim.send(capsule(w, secret));
        assertEquals(Status.SUCCESS, status(victim));

        MemorySegment steal = rw(IoOpcode.WRITE, 200, 8192);
        SglDescriptor.set(steal, SubmissionQueueEntry.OFFSET_DPTR, (1L << 63) - 64, 8192, SglDescriptor.ID_DATA_OFFSET);
        attacker.send(capsule(steal, null));
        assertEquals(Status.SGL_INVALID_OFFSET, status(attacker));
        MemorySegment stored = keyedRead(attacker, 200, 8192, SglDescriptor.ID_KEYED);
        assertEquals(-1, stored.mismatch(arena.allocate(8192)), "the namespace still holds zeroes");
        assertEquals(-1, secret.mismatch(keyedRead(victim, 100, 8192, SglDescriptor.ID_KEYED)));
    }

    // ---------------------------------------------------------------- memory regions

    @Test
    void thePoolIsRegisteredForLocalAccessOnly() throws Exception {
        admin();
        Host h = io(1).host();
        MemorySegment pool = lo.target.memory(lo.reactor).pool().region();
        assertEquals(Ibverbs.IBV_ACCESS_LOCAL_WRITE, lo.verbs.access(pool),
                "the target posts every RDMA READ and WRITE itself: no host needs the pool's rkey");
        assertFalse(lo.verbs.remotelyAccessible(lo.rr.poolLkey, pool.address(), 4096, Ibverbs.IBV_ACCESS_REMOTE_READ),
                "a QP guessing the key reads nobody's in-flight data");
        assertFalse(lo.verbs.remotelyAccessible(lo.rr.poolLkey, pool.address(), 4096, Ibverbs.IBV_ACCESS_REMOTE_WRITE),
                "nor overwrites it");
        // the target still moves data both ways through the pool with its local key
        MemorySegment data = pattern(65536, 7);
        MemorySegment w = rw(IoOpcode.WRITE, 512, 65536);
        SglDescriptor.setKeyed(w, SubmissionQueueEntry.OFFSET_DPTR, data.address(), 65536, h.register(data),
                SglDescriptor.ID_KEYED);
        h.send(capsule(w, null));
        assertEquals(Status.SUCCESS, status(h));
        assertEquals(-1, data.mismatch(keyedRead(h, 512, 65536, SglDescriptor.ID_KEYED)));
    }

    // ---------------------------------------------------------------- fault isolation

    /** A QP whose every receive throws, as a bug in one queue's handling would: it can only end itself. */
    static final class ThrowingEndpoint implements RdmaReactor.Endpoint {
        final RdmaReactor rr;
        final int qpNum;
        final AtomicInteger faults = new AtomicInteger();
        int slot = -1;

        ThrowingEndpoint(RdmaReactor rr, int qpNum) {
            this.rr = rr;
            this.qpNum = qpNum;
        }

        @Override public int qpNum() { return qpNum; }

        @Override
        public void received(int index, int length) {
            rr.repost(index); // what it owns goes back before it fails
            throw new IllegalStateException("injected: a handler bug");
        }

        @Override
        public void sendCompleted(int kind, int tag, int status, int vendorErr) {
            throw new IllegalStateException("injected: a handler bug");
        }

        @Override
        public void fault(RuntimeException e) {
            faults.incrementAndGet();
            rr.drained(this);
            rr.unregister(this, slot);
        }
    }

    @Test
    void aHandlerThatThrowsEndsItsQpOnlyAndTheReactorGoesOn() throws Exception {
        int posted = lo.verbs.postedReceives();
        RdmaLoopback.Connection admin = admin();
        Host good = io(1).host();
        Host rogue = lo.verbs.connect(lo.rr.cq, lo.rr.srq);
        ThrowingEndpoint bad = new ThrowingEndpoint(lo.rr, rogue.qpNum);
        lo.reactor.call(r -> bad.slot = lo.rr.register(bad)).get(5, TimeUnit.SECONDS);
        rogue.send(capsule(noData(AdminOpcode.KEEP_ALIVE), null));
        waitFor(() -> bad.faults.get() == 1, "the throwing handler is ended");
        for (int i = 0; i < 8; i++) {
            assertEquals(-1, arena.allocate(512).mismatch(keyedRead(good, i, 512, SglDescriptor.ID_KEYED)));
        }
        assertEquals(Status.SUCCESS, status(sendNoData(admin.host(), AdminOpcode.KEEP_ALIVE)));
        assertEquals(1, bad.faults.get(), "ended once");
        waitFor(() -> lo.verbs.postedReceives() == posted, "every receive buffer reposted");
    }

    /**
     * A receive error on an endpoint that leaves {@link RdmaReactor.Endpoint#receiveFailed} to its default is still
     * logged with the status in words, as before endpoints were told; the buffer goes back to the SRQ.
     */
    @Test
    void aReceiveErrorOnAnEndpointWithoutItsOwnHandlingIsLoggedInWords() throws Exception {
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("sanport.rdma");
        java.util.logging.Handler recorder = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel() == java.util.logging.Level.WARNING) {
                    warnings.add(r.getMessage());
                }
            }
            @Override public void flush() { }
            @Override public void close() { }
        };
        log.addHandler(recorder);
        try {
            int posted = lo.verbs.postedReceives();
            Host other = lo.verbs.connect(lo.rr.cq, lo.rr.srq);
            ThrowingEndpoint e = new ThrowingEndpoint(lo.rr, other.qpNum);
            lo.reactor.call(r -> e.slot = lo.rr.register(e)).get(5, TimeUnit.SECONDS);
            other.failReceive(Ibverbs.IBV_WC_LOC_LEN_ERR);
            String expected = "QP " + other.qpNum + ": receive failed: "
                    + Ibverbs.describeWcStatus(Ibverbs.IBV_WC_LOC_LEN_ERR);
            waitFor(() -> warnings.contains(expected), "the warning " + expected);
            waitFor(() -> lo.verbs.postedReceives() == posted, "the failed receive's buffer reposted");
            assertEquals(0, e.faults.get(), "a receive error is not a handler fault");
            lo.reactor.call(r -> {
                lo.rr.drained(e);
                lo.rr.unregister(e, e.slot);
                return null;
            }).get(5, TimeUnit.SECONDS);
        } finally {
            log.removeHandler(recorder);
        }
    }

    /** Sends a command without data on {@code h}; returns {@code h} for the response. */
    Host sendNoData(Host h, int opcode) {
        h.send(capsule(noData(opcode), null));
        return h;
    }

    // ---------------------------------------------------------------- Connect against the RDMA CM request

    @Test
    void aConnectForADeeperQueueThanTheCmRequestIsRefusedAtOnce() throws Exception {
        admin();
        RdmaLoopback.Connection c = lo.connect(1, 31); // RDMA CM: HSQSIZE 31, the QP's buffers sized for 32
        MemorySegment deeper = connectSqe(1, 127);
        SglDescriptor.set(deeper, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH,
                SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(deeper, connectData(cntlid)));
        MemorySegment cqe = response(c.host());
        assertEquals(Status.CONNECT_INVALID_PARAM, Status.code(CompletionQueueEntry.status(cqe)));
        assertEquals(ConnectCommand.invalidParameterDw0((int) ConnectCommand.OFFSET_SQSIZE, false),
                CompletionQueueEntry.dw0(cqe), "IPO points at SQSIZE");
        assertFalse(c.host().inError(), "an NVMe error: the host may try again");

        // the same QP with the SQSIZE it asked RDMA CM for, then the whole queue at once
        MemorySegment honest = connectSqe(1, 31);
        SglDescriptor.set(honest, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH,
                SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(honest, connectData(cntlid)));
        assertEquals(Status.SUCCESS, status(c.host()));
        Set<Integer> cids = new HashSet<>();
        List<MemorySegment> capsules = new ArrayList<>();
        for (int i = 0; i < 31; i++) {
            capsules.add(keyedWriteCapsule(c.host(), i, pattern(512, i), cids));
        }
        c.host().sendAll(capsules);
        allSucceed(c.host(), cids);
        assertEquals(0, lo.stats.protocolErrors());
        assertEquals(0, lo.stats.queueFaults());
    }

    @Test
    void capsulesBehindARefusedConnectNeverRunBeyondTheQueue() throws Exception {
        admin();
        RdmaLoopback.Connection c = lo.connect(1, 31);
        MemorySegment deeper = connectSqe(1, 127);
        SglDescriptor.set(deeper, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH,
                SglDescriptor.ID_DATA_OFFSET);
        List<MemorySegment> burst = new ArrayList<>();
        burst.add(capsule(deeper, connectData(cntlid)));
        for (int i = 0; i < 40; i++) { // more than the 36 slots the QP was built with
            burst.add(keyedWriteCapsule(c.host(), i, pattern(512, i), new HashSet<>()));
        }
        c.host().sendAll(burst); // one drain: all of them before the Connect's response
        assertEquals(Status.CONNECT_INVALID_PARAM, status(c.host()));
        waitFor(() -> lo.freed.contains(c.queue()), "the queue is ended: commands on a queue without a controller");
        for (byte[] b; (b = c.host().response(50, TimeUnit.MILLISECONDS)) != null; ) {
            assertFalse(Status.code(CompletionQueueEntry.status(MemorySegment.ofArray(b))) == Status.SUCCESS,
                    "nothing ran on the refused queue");
        }
        assertEquals(1, lo.stats.protocolErrors());
        assertEquals(0, lo.stats.queueFaults(), "no tag beyond the QP's commands");
    }

    // ---------------------------------------------------------------- queues that never send a Connect

    /** Send-queue (and CQ) entries a queue of {@code hsqsize} takes, as QueuePairFactory sizes it. */
    static int sendDepth(int hsqsize) {
        return 2 * (hsqsize + 1 + RdmaQueue.SPARE) + 2;
    }

    /** CM connects that never send a Connect, deep ones first, until the reactor's CQ has no room for any queue. */
    List<RdmaLoopback.Connection> exhaustTheCq() throws Exception {
        List<RdmaLoopback.Connection> idle = new ArrayList<>();
        for (int hsqsize : new int[] {1023, 127, 31}) {
            while (lo.rr.reserve(sendDepth(hsqsize))) {
                lo.rr.unreserve(sendDepth(hsqsize));
                idle.add(lo.connect(1, hsqsize));
            }
        }
        return idle;
    }

    @Test
    void queuesThatNeverConnectAreEndedAndGiveTheirCqEntriesBack() throws Exception {
        long timeoutMs = 300;
        PendingQueues pending = new PendingQueues(new PendingQueues.Limits(timeoutMs, 1000));
        lo.pending = pending;
        List<RdmaLoopback.Connection> idle = exhaustTheCq();
        assertTrue(idle.size() >= 8, idle.size() + " idle queues");
        assertFalse(lo.rr.reserve(sendDepth(31)), "a real host's admin queue would now get NO_RSC");

        long start = System.nanoTime();
        waitFor(() -> {
            pending.expire(System.nanoTime());
            return idle.stream().allMatch(c -> lo.freed.contains(c.queue()));
        }, "every queue without a Connect is ended");
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(timeoutMs) - TimeUnit.MILLISECONDS.toNanos(50),
                "not before the Connect timeout");
        assertTrue(idle.stream().allMatch(c -> c.host().inError()), "their QPs went to ERR");
        assertEquals(idle.size(), lo.stats.connectTimeouts());
        assertEquals(0, pending.pending(RdmaLoopback.PEER));

        // a real host gets in, and its connected queues outlive the timeout
        RdmaLoopback.Connection admin = admin();
        Host h = io(1).host();
        Thread.sleep(timeoutMs + 50);
        assertEquals(0, pending.expire(System.nanoTime()), "connected queues are not pending");
        keyedRead(h, 0, 512, SglDescriptor.ID_KEYED);
        assertFalse(admin.host().inError() || h.inError());
        assertEquals(idle.size(), lo.stats.connectTimeouts());
    }

    @Test
    void oneAddressMayHoldOnlySoManyQueuesWithoutAConnect() throws Exception {
        PendingQueues pending = new PendingQueues(new PendingQueues.Limits(60_000, 3));
        lo.pending = pending;
        admin();
        pending.expire(System.nanoTime()); // the admin queue is connected: no longer pending
        assertTrue(pending.admits(RdmaLoopback.PEER));
        RdmaLoopback.Connection a = lo.connect(1, 127);
        RdmaLoopback.Connection b = lo.connect(2, 127);
        lo.connect(3, 127);
        assertEquals(3, pending.pending(RdmaLoopback.PEER));
        assertFalse(pending.admits(RdmaLoopback.PEER), "a fourth CM connect from this address is refused");
        assertTrue(pending.admits("192.0.2.7"), "other addresses are not");

        // one connects: room again
        MemorySegment s = connectSqe(1, 127);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        a.host().send(capsule(s, connectData(cntlid)));
        assertEquals(Status.SUCCESS, status(a.host()));
        pending.expire(System.nanoTime());
        assertEquals(2, pending.pending(RdmaLoopback.PEER));
        assertTrue(pending.admits(RdmaLoopback.PEER));
        // one goes away without a Connect: it no longer counts once destroyed
        b.queue().disconnect();
        waitFor(() -> lo.freed.contains(b.queue()), "the queue is torn down");
        assertEquals(1, pending.pending(RdmaLoopback.PEER));
    }

    // ---------------------------------------------------------------- pool buffers come back

    /** Waits until the reactor's pool has every buffer free (a response may reach the host before its slot is). */
    void everyPoolBufferBack() throws InterruptedException {
        waitFor(() -> {
            try {
                return lo.reactor.call(r -> {
                    var pool = lo.target.memory(lo.reactor).pool();
                    return pool.available() == pool.capacity();
                }).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "every pool buffer is back");
    }

    @Test
    void aQueueWhoseRdmaReadFailsGivesBackEveryPoolBuffer() throws Exception {
        int posted = lo.verbs.postedReceives();
        admin();
        Host good = io(1).host();
        RdmaLoopback.Connection bad = io(2);
        List<MemorySegment> capsules = new ArrayList<>();
        for (int i = 0; i < 24; i++) { // keyed writes whose key the host never registered: the READs fail
            MemorySegment w = rw(IoOpcode.WRITE, 8L * i, 4096);
            SglDescriptor.setKeyed(w, SubmissionQueueEntry.OFFSET_DPTR, 0x10_0000L * (i + 1), 4096, 0xBAD0 + i,
                    SglDescriptor.ID_KEYED);
            capsules.add(capsule(w, null));
        }
        long protocolErrors = disconnects(io.sanport.hostdriver.DisconnectReason.PROTOCOL_ERROR);
        bad.host().sendAll(capsules);
        waitFor(() -> lo.freed.contains(bad.queue()), "the queue in error is torn down");
        // IBV_WC_REM_ACCESS_ERR: the host's key was wrong, a protocol error as on TCP (not a host disconnect)
        waitFor(() -> disconnects(io.sanport.hostdriver.DisconnectReason.PROTOCOL_ERROR) == protocolErrors + 1,
                "the READ's remote access error counted as a protocol error");
        everyPoolBufferBack();
        keyedRead(good, 0, 4096, SglDescriptor.ID_KEYED);
        waitFor(() -> lo.verbs.postedReceives() == posted, "every receive buffer reposted");
    }

    @Test
    void aQueueThatDisconnectsWithCommandsInEveryStateGivesBackEveryPoolBuffer() throws Exception {
        int posted = lo.verbs.postedReceives();
        admin();
        Host good = io(1).host();
        RdmaLoopback.Connection leaving = io(2);
        int free = RdmaLoopback.SMALL.bufferCount();
        int size = RdmaLoopback.SMALL.bufferSize();
        List<MemorySegment> capsules = new ArrayList<>();
        // more large writes than the reactor has pool buffers (some park for a buffer, some for READ credits),
        // then reads: device I/O and RDMA WRITEs in flight when the host goes
        for (int i = 0; i < free + 8; i++) {
            capsules.add(keyedWriteCapsule(leaving.host(), (long) i * (size / LBA), pattern(size, i), new HashSet<>()));
        }
        for (int i = 0; i < 16; i++) {
            MemorySegment into = arena.allocate(size, 4096);
            MemorySegment r = rw(IoOpcode.READ, (long) i * (size / LBA), size);
            SglDescriptor.setKeyed(r, SubmissionQueueEntry.OFFSET_DPTR, into.address(), size,
                    leaving.host().register(into), SglDescriptor.ID_KEYED);
            capsules.add(capsule(r, null));
        }
        leaving.host().sendAll(capsules);
        leaving.queue().disconnect();
        waitFor(() -> lo.freed.contains(leaving.queue()), "the queue is torn down");
        everyPoolBufferBack();
        keyedRead(good, 0, 4096, SglDescriptor.ID_KEYED);
        waitFor(() -> lo.verbs.postedReceives() == posted, "every receive buffer reposted");
    }

    /** A work completion's error status names the reason as TCP's would, and reads as verbs.h spells it. */
    @Test
    void completionErrorsMapToTcpsReasons() {
        assertEquals(io.sanport.hostdriver.DisconnectReason.TIMEOUT, RdmaQueue.reason(Ibverbs.IBV_WC_RETRY_EXC_ERR));
        assertEquals(io.sanport.hostdriver.DisconnectReason.TIMEOUT,
                RdmaQueue.reason(Ibverbs.IBV_WC_RNR_RETRY_EXC_ERR));
        assertEquals(io.sanport.hostdriver.DisconnectReason.PROTOCOL_ERROR,
                RdmaQueue.reason(Ibverbs.IBV_WC_REM_ACCESS_ERR));
        assertEquals(io.sanport.hostdriver.DisconnectReason.PROTOCOL_ERROR,
                RdmaQueue.reason(Ibverbs.IBV_WC_LOC_LEN_ERR));
        assertEquals(io.sanport.hostdriver.DisconnectReason.HOST, RdmaQueue.reason(Ibverbs.IBV_WC_REM_ABORT_ERR));
        assertEquals(io.sanport.hostdriver.DisconnectReason.FAULT, RdmaQueue.reason(Ibverbs.IBV_WC_LOC_PROT_ERR));
        assertEquals("IBV_WC_RETRY_EXC_ERR", Ibverbs.wcStatusName(Ibverbs.IBV_WC_RETRY_EXC_ERR));
        assertEquals("IBV_WC_RESP_TIMEOUT_ERR", Ibverbs.wcStatusName(Ibverbs.IBV_WC_RESP_TIMEOUT_ERR));
        assertEquals("IBV_WC status 99", Ibverbs.wcStatusName(99));
        assertTrue(Ibverbs.describeWcStatus(Ibverbs.IBV_WC_REM_ACCESS_ERR).startsWith("IBV_WC_REM_ACCESS_ERR"));
    }
}
