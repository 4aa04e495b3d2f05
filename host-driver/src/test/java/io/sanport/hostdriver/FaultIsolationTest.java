package io.sanport.hostdriver;

import static io.sanport.hostdriver.QueuePairTest.rw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectData;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An exception while the core handles one queue's command ends that queue (its transport is told to disconnect)
 * and nothing else: it never reaches the reactor loop, and other queues on the same reactor keep working.
 */
class FaultIsolationTest {
    CoreFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new CoreFixture();
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    /** A device whose writes throw inside the submit (a bug in a Local Transport, a device kind's prep). */
    static final class ThrowingWrites implements LocalTransport {
        final MemoryLocalTransport inner;

        ThrowingWrites(MemoryLocalTransport inner) { this.inner = inner; }

        @Override public void read(Request r, Namespace ns, long offset, int length, long address) {
            inner.read(r, ns, offset, length, address);
        }
        @Override public void write(Request r, Namespace ns, long offset, int length, long address, boolean fua) {
            throw new IllegalStateException("injected: the device's write path threw");
        }
        @Override public void flush(Request r, Namespace ns) { inner.flush(r, ns); }
        @Override public void writeZeroes(Request r, Namespace ns, long offset, long length) {
            inner.writeZeroes(r, ns, offset, length);
        }
        @Override public void discard(Request r, Namespace ns, long offset, long length) { inner.discard(r, ns, offset, length); }
    }

    /** The test host's queue, with a transport that throws where the test asks. */
    static final class ThrowingQueue implements RemoteQueue {
        final QueuePairTest.ScriptedQueue inner = new QueuePairTest.ScriptedQueue();
        boolean throwOnSend;
        boolean throwingTask;

        @Override public int mapData(Request r) { return inner.mapData(r); }
        @Override public void receiveData(Request r) {
            if (throwingTask) {
                // a transport task queued while the core is on the stack (a paused parser resuming)
                inner.queue.runSoon(() -> { throw new IllegalStateException("injected: a transport task threw"); });
            }
            inner.receiveData(r);
        }
        @Override public void sendResponse(Request r) {
            if (throwOnSend) {
                throw new IllegalStateException("injected: the send path threw");
            }
            inner.sendResponse(r);
        }
        @Override public void install(int entries) { inner.install(entries); }
        @Override public void disconnect() { inner.disconnect(); }
        @Override public String localAddress() { return inner.localAddress(); }
    }

    static void assertWorks(QueuePairTest.Host h, QueuePairTest.ScriptedQueue io, long slba) {
        byte[] data = new byte[8192];
        new Random(slba).nextBytes(data);
        assertEquals(Status.SUCCESS, h.run(io, rw(IoOpcode.WRITE, 1, slba, 8192, false), data, false).status());
        assertArrayEquals(data, h.run(io, rw(IoOpcode.READ, 1, slba, 8192, false), null, false).data());
        assertFalse(io.disconnected);
    }

    QueuePairTest.ScriptedQueue queue(QueuePairTest.Host h, RemoteQueue transport, QueuePairTest.ScriptedQueue loop, LocalTransport local) {
        ReactorContext ctx = f.target().connections().context(f.core.reactor);
        loop.queue = f.target().connections().newQueue(f.core.port, ctx, transport, local);
        return loop;
    }

    @Test
    void aLocalTransportThatThrowsEndsItsQueueOnly() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue good = h.connected();
            int cntlid = good.queue.controller().cntlid();
            QueuePairTest.ScriptedQueue badLoop = new QueuePairTest.ScriptedQueue();
            QueuePairTest.ScriptedQueue bad = queue(h, badLoop, badLoop, new ThrowingWrites(h.local));
            assertEquals(Status.SUCCESS, h.connect(bad, 2, cntlid, QueuePairTest.NQN).status());
            int before = bad.completions.size();
            h.send(bad, rw(IoOpcode.WRITE, 1, 0, 4096, true), new byte[4096], true);
            assertTrue(bad.disconnected, "the queue whose command threw is ended");
            assertEquals(before, bad.completions.size(), "no completion on a queue that is going");
            assertWorks(h, good, 64);
            assertFalse(good.queue.controller().dead(), "an I/O queue's fault leaves its controller");
            return null;
        });
        assertEquals(1, (int) f.core.reactor.call(r -> 1).get(), "the reactor still runs tasks");
    }

    @Test
    void aRemoteQueueThatThrowsOnTheCompletionPathEndsItsQueueOnly() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue good = h.connected();
            int cntlid = good.queue.controller().cntlid();
            ThrowingQueue t = new ThrowingQueue();
            QueuePairTest.ScriptedQueue bad = queue(h, t, t.inner, h.local);
            assertEquals(Status.SUCCESS, h.connect(bad, 2, cntlid, QueuePairTest.NQN).status());
            t.throwOnSend = true;
            h.send(bad, rw(IoOpcode.READ, 1, 0, 4096, false), null, false);
            int goodBefore = good.completions.size();
            h.send(good, rw(IoOpcode.READ, 1, 0, 4096, false), null, false);
            h.local.step(); // the device completes both: the bad queue's send throws from the completion path
            assertTrue(bad.disconnected);
            assertEquals(goodBefore + 1, good.completions.size(), "the other queue's completion in the same step");
            assertWorks(h, good, 128);
            return null;
        });
    }

    @Test
    void aTransportTaskThatThrowsEndsTheQueueThatQueuedIt() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue good = h.connected();
            int cntlid = good.queue.controller().cntlid();
            ThrowingQueue t = new ThrowingQueue();
            QueuePairTest.ScriptedQueue bad = queue(h, t, t.inner, h.local);
            assertEquals(Status.SUCCESS, h.connect(bad, 2, cntlid, QueuePairTest.NQN).status());
            t.throwingTask = true;
            h.send(bad, rw(IoOpcode.WRITE, 1, 0, 4096, true), new byte[4096], true);
            assertTrue(bad.disconnected);
            assertWorks(h, good, 192);
            return null;
        });
    }

    /** The same on the real ring: the read's completion comes from the reactor loop's CQ reaping, where an
     *  exception used to stop the reactor for every queue on it. */
    @Test
    void anExceptionOnTheRingsCompletionPathLeavesTheReactorRunning() throws Exception {
        ThrowingQueue t = new ThrowingQueue();
        QueuePairTest.Host[] host = new QueuePairTest.Host[1];
        QueuePairTest.ScriptedQueue[] good = new QueuePairTest.ScriptedQueue[1];
        f.onReactor(() -> {
            QueuePairTest.Host h = host[0] = f.host();
            good[0] = h.connected();
            ReactorContext ctx = f.target().connections().context(f.core.reactor);
            queue(h, t, t.inner, ctx.local); // the io_uring Local Transport
            assertEquals(Status.SUCCESS, h.connect(t.inner, 2, good[0].queue.controller().cntlid(), QueuePairTest.NQN)
                    .status());
            t.throwOnSend = true;
            h.send(t.inner, rw(IoOpcode.READ, 1, 0, 4096, false), null, false);
            return null;
        });
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!f.core.reactor.call(r -> t.inner.disconnected).get(5, java.util.concurrent.TimeUnit.SECONDS)) {
            assertTrue(System.nanoTime() < deadline, "the faulty queue is ended");
            Thread.sleep(5);
        }
        assertFalse(f.core.reactor.terminated().isDone(), "the reactor runs on");
        f.onReactor(() -> {
            assertWorks(host[0], good[0], 320);
            return null;
        });
    }

    @Test
    void anAsyncEventWhoseSendThrowsEndsThatAdminQueue() throws Exception {
        ThrowingQueue t = new ThrowingQueue();
        QueuePairTest.Host[] host = new QueuePairTest.Host[1];
        QueuePairTest.ScriptedQueue[] good = new QueuePairTest.ScriptedQueue[1];
        f.onReactor(() -> {
            QueuePairTest.Host h = host[0] = f.host();
            good[0] = h.connected();
            QueuePairTest.ScriptedQueue admin = queue(h, t, t.inner, h.local);
            assertEquals(Status.SUCCESS, h.connect(admin, 0, ConnectData.CNTLID_DYNAMIC, QueuePairTest.NQN).status());
            h.enable(admin);
            assertEquals(Status.SUCCESS, CoreFixture.setFeature(h, admin, FeatureId.ASYNC_EVENT,
                    IdentifyController.OAES_NS_ATTRIBUTE).status());
            h.send(admin, s -> SubmissionQueueEntry.opcode(s, AdminOpcode.ASYNC_EVENT), null, false);
            t.throwOnSend = true;
            return null;
        });
        f.target().subsystem(QueuePairTest.NQN).setNamespaceEnabled(CoreFixture.HIGH_NSID, false); // the AER completes on the reactor
        f.onReactor(() -> {
            assertTrue(t.inner.disconnected, "the admin queue whose AER completion threw is ended");
            assertWorks(host[0], good[0], 256);
            return null;
        });
    }
}
