package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.transport.rdma.FakeVerbsProvider.Host;
import io.sanport.transport.rdma.FakeVerbsProvider.SendWr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The target's NVMe/RDMA data path ({@link RdmaQueue} on an {@link RdmaReactor}) over the fake verbs provider:
 * capsules arrive as RECV completions on the SRQ, data moves by RDMA READ/WRITE against the fake host's
 * registered memory, completions leave as 16-byte SENDs. Real io_uring reactor, RAM namespace.
 */
class RdmaQueueTest extends RdmaHostSide {
    @Test
    void connectOverKeyedSglIsReadByRdmaRead() throws Exception {
        RdmaLoopback.Connection c = admin();
        List<SendWr> posted = c.host().posted().subList(0, 2); // the Connect's; the bring-up follows

        assertEquals(Ibverbs.IBV_WR_RDMA_READ, posted.get(0).opcode());
        assertEquals(ConnectCommand.DATA_LENGTH, posted.get(0).length());
        assertEquals(Ibverbs.IBV_WR_SEND, posted.get(1).opcode());
        assertTrue(cntlid > 0 && cntlid < 0xFFF0, "cntlid " + cntlid);
        assertEquals(1, lo.stats.rdmaReads(), "the bring-up after it moves no data");
        assertEquals(0, lo.stats.keyedBytesCopied());
    }

    @Test
    void inCapsuleWriteThenKeyedReadReturnsTheData() throws Exception {
        admin();
        Host h = io(1).host();
        MemorySegment data = pattern(4096, 1);
        MemorySegment w = rw(IoOpcode.WRITE, 8, 4096);
        SglDescriptor.set(w, SubmissionQueueEntry.OFFSET_DPTR, 0, 4096, SglDescriptor.ID_DATA_OFFSET);
        long readsBefore = lo.stats.rdmaReads();
        h.send(capsule(w, data));
        MemorySegment cqe = response(h);
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)), "in-capsule write");
        assertEquals(SubmissionQueueEntry.cid(w), CompletionQueueEntry.cid(cqe));
        assertEquals(1, CompletionQueueEntry.sqid(cqe));
        assertEquals(readsBefore, lo.stats.rdmaReads(), "in-capsule data needs no RDMA READ");
        assertTrue(lo.stats.inCapsuleBytesCopied() >= 4096);

        MemorySegment back = keyedRead(h, 8, 4096, SglDescriptor.ID_KEYED);
        assertEquals(-1, data.mismatch(back));
    }

    @Test
    void keyedReadIsAnRdmaWriteChainedWithTheSendWithInvalidate() throws Exception {
        admin();
        Host h = io(1).host();
        int before = h.posted().size();
        MemorySegment into = keyedRead(h, 0, 8192, SglDescriptor.ID_KEYED_INVALIDATE);
        List<SendWr> posted = h.posted().subList(before, h.posted().size());
        assertEquals(2, posted.size(), posted.toString());
        SendWr write = posted.get(0), send = posted.get(1);
        assertEquals(Ibverbs.IBV_WR_RDMA_WRITE, write.opcode());
        assertEquals(into.address(), write.remoteAddr());
        assertEquals(8192, write.length());
        assertEquals(Ibverbs.IBV_WR_SEND_WITH_INV, send.opcode(), "0x4F: the completion invalidates the key");
        assertEquals(write.rkey(), send.invalidateRkey());
        assertEquals(List.of(write.rkey()), h.invalidated());
        assertEquals(1, lo.stats.sendsWithInvalidate());
        assertEquals(0, lo.stats.keyedBytesCopied());
    }

    @Test
    void aCommandRefusedBeforeItsSglIsReadInvalidatesNothing() throws Exception {
        admin();
        Host h = io(1).host();
        keyedRead(h, 0, 512, SglDescriptor.ID_KEYED_INVALIDATE); // its slot answered with SEND_WITH_INVALIDATE
        MemorySegment fused = rw(IoOpcode.READ, 0, 512);
        SubmissionQueueEntry.flags(fused, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG | SubmissionQueueEntry.FUSE_FIRST);
        SglDescriptor.setKeyed(fused, SubmissionQueueEntry.OFFSET_DPTR, 0x1000, 512, 0x77, SglDescriptor.ID_KEYED_INVALIDATE);
        int before = h.posted().size();
        h.send(capsule(fused, null));
        assertEquals(Status.INVALID_FIELD, Status.code(CompletionQueueEntry.status(response(h))));
        List<SendWr> posted = h.posted().subList(before, h.posted().size());
        assertEquals(1, posted.size(), posted.toString());
        assertEquals(Ibverbs.IBV_WR_SEND, posted.get(0).opcode(), "refused at the flags: SGL1 never mapped, no key to invalidate");
    }

    @Test
    void keyedWriteIsAnRdmaReadThenTheCompletion() throws Exception {
        admin();
        Host h = io(1).host();
        MemorySegment data = pattern(16384, 2);
        int key = h.register(data);
        MemorySegment w = rw(IoOpcode.WRITE, 64, 16384);
        SglDescriptor.setKeyed(w, SubmissionQueueEntry.OFFSET_DPTR, data.address(), 16384, key, SglDescriptor.ID_KEYED);
        int before = h.posted().size();
        h.send(capsule(w, null));
        MemorySegment cqe = response(h);
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)), "keyed write");
        List<SendWr> posted = h.posted().subList(before, h.posted().size());
        assertEquals(2, posted.size(), posted.toString());
        assertEquals(Ibverbs.IBV_WR_RDMA_READ, posted.get(0).opcode());
        assertEquals(data.address(), posted.get(0).remoteAddr());
        assertEquals(key, posted.get(0).rkey());
        assertEquals(Ibverbs.IBV_WR_SEND, posted.get(1).opcode());

        assertEquals(-1, data.mismatch(keyedRead(h, 64, 16384, SglDescriptor.ID_KEYED)));
    }

    @Test
    void aShortCapsuleEndsOnlyItsQueue() throws Exception {
        RdmaLoopback.Connection admin = admin();
        RdmaLoopback.Connection bad = io(1);
        Host good = io(2).host();
        bad.host().send(arena.allocate(32)); // half an SQE
        waitFor(() -> lo.freed.contains(bad.queue()), "the bad queue is torn down");
        assertTrue(bad.host().inError(), "its QP went to ERR");
        assertEquals(1, lo.stats.protocolErrors());
        assertNull(bad.host().response(100, TimeUnit.MILLISECONDS), "no completion for garbage");
        // the other queues go on
        keyedRead(good, 0, 512, SglDescriptor.ID_KEYED);
        assertTrue(!admin.host().inError() && !good.inError());
    }

    @Test
    void aConnectForAnotherQueueEndsThatQp() throws Exception {
        admin();
        RdmaLoopback.Connection c = lo.connect(1, 127);
        MemorySegment s = connectSqe(2, 127); // the CM request said queue 1
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(s, connectData(cntlid)));
        waitFor(() -> lo.freed.contains(c.queue()), "the queue is torn down");
        assertEquals(1, lo.stats.protocolErrors());
    }

    @Test
    void aBadSglIsRefusedWithItsStatusAndTheQueueGoesOn() throws Exception {
        admin();
        Host h = io(1).host();
        MemorySegment r = rw(IoOpcode.READ, 0, 4096);
        SglDescriptor.set(r, SubmissionQueueEntry.OFFSET_DPTR, 0, 4096, SglDescriptor.ID_TCP_TRANSPORT);
        h.send(capsule(r, null));
        MemorySegment cqe = response(h);
        assertEquals(Status.SGL_INVALID_TYPE, Status.code(CompletionQueueEntry.status(cqe)));
        // in-capsule data shorter than the SGL says
        MemorySegment w = rw(IoOpcode.WRITE, 0, 4096);
        SglDescriptor.set(w, SubmissionQueueEntry.OFFSET_DPTR, 0, 4096, SglDescriptor.ID_DATA_OFFSET);
        h.send(capsule(w, pattern(512, 4)));
        assertEquals(Status.SGL_INVALID_DATA, Status.code(CompletionQueueEntry.status(response(h))));
        keyedRead(h, 0, 512, SglDescriptor.ID_KEYED);
        assertEquals(0, lo.stats.protocolErrors(), "an NVMe error, not a protocol violation (as nvmet)");
    }

    @Test
    void receiveBuffersGoBackToTheSrq() throws Exception {
        int posted = lo.verbs.postedReceives();
        admin();
        Host h = io(1).host();
        for (int i = 0; i < 64; i++) {
            keyedRead(h, i, 512, SglDescriptor.ID_KEYED);
        }
        waitFor(() -> lo.verbs.postedReceives() == posted, "every receive buffer reposted");
    }


    @Test
    void moreKeyedWritesThanTheReadDepthWaitForReadCredits() throws Exception {
        admin();
        Host h = io(1).host();
        int n = RdmaLoopback.READ_DEPTH + 8; // within the reactor's 32 pool buffers
        List<MemorySegment> data = new ArrayList<>();
        List<MemorySegment> capsules = new ArrayList<>();
        Set<Integer> cids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            data.add(pattern(4096, 100 + i));
            capsules.add(keyedWriteCapsule(h, 8L * i, data.get(i), cids));
        }
        long parked = lo.stats.parkedForCredits();
        h.sendAll(capsules); // one drain takes them all: READ_DEPTH READs go out, the rest wait

        allSucceed(h, cids);
        assertEquals(RdmaLoopback.READ_DEPTH, h.maxReadsInFlight(), "every READ credit used, none exceeded");
        assertTrue(lo.stats.parkedForCredits() - parked >= n - RdmaLoopback.READ_DEPTH,
                "parked " + (lo.stats.parkedForCredits() - parked));
        for (int i = 0; i < n; i++) {
            assertEquals(-1, data.get(i).mismatch(keyedRead(h, 8L * i, 4096, SglDescriptor.ID_KEYED)), "write " + i);
        }
    }

    @Test
    void aShortSendQueueParksReadsAndResponsesUntilCreditsReturn() throws Exception {
        admin();
        int depth = 3; // one WRITE + SEND chain and one more WR
        Host h = io(1, depth).host();
        int n = 12;
        List<MemorySegment> data = new ArrayList<>();
        List<MemorySegment> capsules = new ArrayList<>();
        Set<Integer> cids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            data.add(pattern(512, 200 + i));
            capsules.add(keyedWriteCapsule(h, 300 + i, data.get(i), cids));
        }
        long parked = lo.stats.parkedForCredits();
        h.sendAll(capsules);
        allSucceed(h, cids);
        assertTrue(lo.stats.parkedForCredits() - parked >= n - depth, "keyed writes waited for send-queue credits");

        // keyed reads: each response is an RDMA WRITE chained with its SEND, two credits at once
        List<MemorySegment> into = new ArrayList<>();
        capsules.clear();
        for (int i = 0; i < n; i++) {
            into.add(arena.allocate(512, 4096));
            MemorySegment r = rw(IoOpcode.READ, 300 + i, 512);
            SglDescriptor.setKeyed(r, SubmissionQueueEntry.OFFSET_DPTR, into.get(i).address(), 512,
                    h.register(into.get(i)), SglDescriptor.ID_KEYED);
            cids.add(SubmissionQueueEntry.cid(r));
            capsules.add(capsule(r, null));
        }
        h.sendAll(capsules);
        allSucceed(h, cids);
        for (int i = 0; i < n; i++) {
            assertEquals(-1, data.get(i).mismatch(into.get(i)), "read " + i);
        }
        assertEquals(depth, h.maxInFlight(), "the send queue filled up and never overflowed");
    }

    @Test
    void capsulesBeforeEstablishedRunAtEstablished() throws Exception {
        int posted = lo.verbs.postedReceives();
        admin();
        waitFor(() -> lo.verbs.postedReceives() == posted, "the bring-up's receive buffers reposted");
        RdmaLoopback.Connection c = lo.accept(1, 127, 2 * (127 + 1 + RdmaQueue.SPARE) + 2);
        MemorySegment s = connectSqe(1, 127);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(s, connectData(cntlid))); // the host's SEND may beat ESTABLISHED to the target
        assertNull(c.host().response(100, TimeUnit.MILLISECONDS), "nothing runs before ESTABLISHED");
        lo.establish(c.queue());
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(response(c.host()))), "I/O Connect");
        keyedRead(c.host(), 0, 512, SglDescriptor.ID_KEYED);
        waitFor(() -> lo.verbs.postedReceives() == posted, "every receive buffer reposted");
    }

    @Test
    void anEarlyCapsuleThatEndsTheQueueGivesEachReceiveBufferBackOnce() throws Exception {
        int posted = lo.verbs.postedReceives();
        admin();
        waitFor(() -> lo.verbs.postedReceives() == posted, "the bring-up's receive buffers reposted");
        RdmaLoopback.Connection c = lo.accept(1, 127, 2 * (127 + 1 + RdmaQueue.SPARE) + 2);
        MemorySegment lie = connectSqe(2, 127); // the CM request said queue 1
        SglDescriptor.set(lie, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        MemorySegment honest = connectSqe(1, 127);
        SglDescriptor.set(honest, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        c.host().sendAll(List.of(capsule(lie, connectData(cntlid)), capsule(honest, connectData(cntlid)),
                capsule(noData(AdminOpcode.KEEP_ALIVE), null)));
        waitFor(() -> lo.verbs.postedReceives() == posted - 3, "the three capsules held until ESTABLISHED");
        lo.establish(c.queue());
        waitFor(() -> lo.freed.contains(c.queue()), "the queue is torn down");
        assertEquals(1, lo.stats.protocolErrors());
        waitFor(() -> lo.verbs.postedReceives() == posted, "every receive buffer reposted");
        Thread.sleep(50);
        assertEquals(posted, lo.verbs.postedReceives(), "and none twice");
    }

    @Test
    void theResponsesOfOneRoundLeaveInOneChainWithOnlyTheSendsSignaledAndTheBusyCqIsPolled() throws Exception {
        admin();
        Host h = io(1).host();
        int n = 16;
        List<MemorySegment> into = new ArrayList<>();
        List<MemorySegment> capsules = new ArrayList<>();
        Set<Integer> cids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            into.add(arena.allocate(4096, 4096));
            MemorySegment r = rw(IoOpcode.READ, 8L * i, 4096);
            SglDescriptor.setKeyed(r, SubmissionQueueEntry.OFFSET_DPTR, into.get(i).address(), 4096,
                    h.register(into.get(i)), SglDescriptor.ID_KEYED);
            cids.add(SubmissionQueueEntry.cid(r));
            capsules.add(capsule(r, null));
        }
        int postsBefore = h.postCalls();
        int before = h.posted().size();
        long postSendsBefore = lo.stats.postSends();
        long eventsBefore = lo.stats.cqEvents();
        h.sendAll(capsules); // one drain; the RAM namespace completes the reads within few loop rounds
        allSucceed(h, cids);
        List<SendWr> posted = h.posted().subList(before, h.posted().size());
        assertEquals(2 * n, posted.size(), posted.toString());
        for (int i = 0; i < n; i++) {
            SendWr write = posted.get(2 * i), send = posted.get(2 * i + 1);
            assertEquals(Ibverbs.IBV_WR_RDMA_WRITE, write.opcode());
            assertTrue(!write.signaled(), "the WRITE's completion is its SEND's");
            assertEquals(Ibverbs.IBV_WR_SEND, send.opcode());
            assertTrue(send.signaled());
            assertTrue((send.flags() & Ibverbs.IBV_SEND_INLINE) != 0, "the 16-byte response goes inline");
            assertEquals(0, write.flags() & Ibverbs.IBV_SEND_INLINE, "the data is never inline");
        }
        int calls = h.postCalls() - postsBefore;
        assertTrue(calls < n / 2, n + " responses in " + calls + " ibv_post_send calls");
        assertEquals(calls, lo.stats.postSends() - postSendsBefore);
        long events = lo.stats.cqEvents() - eventsBefore;
        assertTrue(events < n / 2, "a busy reactor polls its CQ; " + events + " channel events for " + n + " commands");
        assertTrue(h.maxInFlight() <= 2 * (127 + 1 + RdmaQueue.SPARE) + 2, "within the send queue");
    }
}
