package io.sanport.transport.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.rdmacm.RdmaCmEvent;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.nvme.rdma.RdmaCmReject;
import io.sanport.nvme.rdma.RdmaCmRequest;
import io.sanport.transport.rdma.FakeVerbsProvider.Host;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The RDMA CM conductor over the fake provider: CM events are made in memory as librdmacm would hand them out,
 * its RDMA CM calls go to the fake, and the queues it admits are built by the loopback on the real reactor. The
 * test thread is the conductor thread: it hands events in, runs the tasks reactors give back, and ticks.
 */
class CmConductorTest extends RdmaHostSide {
    final Queue<Runnable> conductorTasks = new ConcurrentLinkedQueue<>();
    final Map<Long, Host> hosts = new HashMap<>();
    final Map<Long, RdmaQueue> built = new HashMap<>();
    final List<RdmaQueue> destroyed = new ArrayList<>();
    final Set<Long> established = new HashSet<>();
    CmConductor conductor;

    /** What QueuePairFactory does, on the loopback's reactor and fake QPs. */
    final class LoopbackMaker implements CmConductor.QueueMaker {
        @Override
        public RdmaQueue create(MemorySegment id, CmConnectRequest req, long handle, int initiatorDepth,
                                int responderResources, String local, String peer, PendingQueues pending)
                throws QueuePairFactory.Refused {
            int capacity = req.entries() + RdmaQueue.SPARE;
            int sendDepth = 2 * capacity + 2;
            if (!pending.makeRoom(lo.rr, sendDepth, System.nanoTime())) {
                throw new QueuePairFactory.Refused(RdmaCmReject.NO_RSC, "the pending share of the CQ is full");
            }
            if (!lo.rr.reserve(sendDepth)) {
                throw new QueuePairFactory.Refused(RdmaCmReject.NO_RSC, "the CQ is full");
            }
            Host h = lo.verbs.connect(lo.rr.cq, lo.rr.srq);
            try {
                RdmaQueue q = lo.build(h, id, handle, req.qid(), capacity, sendDepth, peer,
                        done -> conductorTasks.add(() -> conductor.destroy(done)));
                RdmaCmId.context(id, MemorySegment.ofAddress(handle));
                hosts.put(handle, h);
                built.put(handle, q);
                return q;
            } catch (Exception e) {
                lo.rr.unreserve(sendDepth);
                throw new QueuePairFactory.Refused(RdmaCmReject.NO_RSC, e.toString());
            }
        }

        @Override
        public void destroy(RdmaQueue q) {
            lo.rr.unreserve(q.sendDepth);
            destroyed.add(q);
        }
    }

    RdmaConnections connections;

    CmConductor conductor(long connectTimeoutMs, int maxPendingPerHost) {
        return conductor(ConnectionLimits.DEFAULT.withConnectTimeout(connectTimeoutMs).withMaxPendingPerHost(maxPendingPerHost));
    }

    CmConductor conductor(ConnectionLimits limits) {
        connections = new RdmaConnections(limits);
        conductor = new CmConductor(lo.port, lo.stats, new LoopbackMaker(), RdmaStatsFile.fromEnvironment(lo.stats),
                PendingQueues.Limits.of(limits), connections, lo.verbs);
        return conductor;
    }

    /** A cm_id from {@code peer} on the fake device. */
    MemorySegment cmId(String peer) throws Exception {
        MemorySegment id = arena.allocate(RdmaCmId.LAYOUT);
        id.set(ADDRESS, RdmaCmId.VERBS, lo.verbs.context());
        for (MemorySegment sin : List.of(RdmaCmId.dst_sin(id), RdmaCmId.src_sin(id))) {
            SockaddrIn.sin_family(sin, Libc.AF_INET);
            SockaddrIn.sin_port(sin, 4420);
        }
        SockaddrIn.sin_addr(RdmaCmId.dst_sin(id), InetAddress.getByName(peer).getAddress());
        SockaddrIn.sin_addr(RdmaCmId.src_sin(id), InetAddress.getByName("127.0.0.1").getAddress());
        return id;
    }

    MemorySegment event(int type, MemorySegment id) {
        MemorySegment e = arena.allocate(RdmaCmEvent.LAYOUT);
        e.set(ADDRESS, RdmaCmEvent.ID, id);
        e.set(JAVA_INT, RdmaCmEvent.EVENT, type);
        return e;
    }

    /** A CONNECT_REQUEST from {@code peer} for queue {@code qid} of HSQSIZE {@code hsqsize}; returns the cm_id. */
    MemorySegment connectRequest(String peer, int qid, int hsqsize) throws Exception {
        MemorySegment id = cmId(peer);
        MemorySegment e = event(Rdmacm.RDMA_CM_EVENT_CONNECT_REQUEST, id);
        MemorySegment pd = arena.allocate(RdmaCmRequest.SIZE);
        RdmaCmRequest.set(pd, qid, hsqsize + 1, hsqsize, 0);
        long conn = RdmaCmEvent.PARAM_CONN;
        e.set(ADDRESS, conn + RdmaConnParam.PRIVATE_DATA, pd);
        e.set(JAVA_BYTE, conn + RdmaConnParam.PRIVATE_DATA_LEN, (byte) RdmaCmRequest.SIZE);
        e.set(JAVA_BYTE, conn + RdmaConnParam.INITIATOR_DEPTH, (byte) RdmaLoopback.READ_DEPTH);
        e.set(JAVA_BYTE, conn + RdmaConnParam.RESPONDER_RESOURCES, (byte) RdmaLoopback.READ_DEPTH);
        conductor.handle(e);
        return id;
    }

    /** The connection of an accepted cm_id, after RDMA CM's ESTABLISHED. */
    RdmaLoopback.Connection establish(MemorySegment id) {
        assertTrue(lo.verbs.accepted(id), "accepted");
        conductor.handle(event(Rdmacm.RDMA_CM_EVENT_ESTABLISHED, id));
        long handle = RdmaCmId.context(id).address();
        established.add(handle);
        return new RdmaLoopback.Connection(hosts.get(handle), built.get(handle));
    }

    /** Runs what the reactors handed the conductor, and its clock. */
    void conductorTurn() {
        for (Runnable t; (t = conductorTasks.poll()) != null; ) {
            t.run();
        }
        conductor.tick(System.nanoTime());
    }

    /** As the listener's close: queues the core does not know yet end here; the target's close ends the others. */
    @AfterEach
    void stopListening() throws InterruptedException {
        if (conductor != null) {
            conductor.stopListening();
            turnUntil(() -> built.entrySet().stream().filter(e -> !established.contains(e.getKey()))
                    .allMatch(e -> destroyed.contains(e.getValue())), "queues never established are destroyed");
        }
    }

    /** Runs conductor turns until {@code done}. */
    void turnUntil(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        waitFor(() -> {
            conductorTurn();
            return done.getAsBoolean();
        }, what);
    }

    @Test
    void oneAddressGetsNoMoreQueuesWithoutAConnectThanTheCap() throws Exception {
        conductor(60_000, 3);
        RdmaLoopback.Connection first = establish(connectRequest("10.1.1.1", 0, 31));
        establish(connectRequest("10.1.1.1", 1, 127));
        establish(connectRequest("10.1.1.1", 2, 127));
        MemorySegment fourth = connectRequest("10.1.1.1", 3, 127);
        assertEquals(RdmaCmReject.NO_RSC, lo.verbs.rejectStatus(fourth), "a fourth queue without a Connect");
        assertTrue(lo.verbs.idDestroyed(fourth));
        MemorySegment other = connectRequest("10.1.1.2", 0, 31);
        assertTrue(lo.verbs.accepted(other), "another address is not held back");

        admin(first); // its Connect: no longer pending from the next turn on
        conductorTurn();
        MemorySegment again = connectRequest("10.1.1.1", 3, 127);
        assertTrue(lo.verbs.accepted(again), "room again");
        assertEquals(1, lo.stats.rejected());
    }

    @Test
    void theConductorsClockEndsQueuesWithoutAConnectAndGivesTheCqBack() throws Exception {
        long timeoutMs = 200;
        conductor(timeoutMs, 1000);
        int before = budget();
        List<RdmaQueue> idle = new ArrayList<>();
        for (int hsqsize : new int[] {1023, 127, 127, 31}) { // CM connects that never send a Connect
            idle.add(establish(connectRequest("10.6.6.6", 1, hsqsize)).queue());
        }
        assertTrue(budget() < before, "they hold CQ entries");

        turnUntil(() -> destroyed.containsAll(idle), "every queue without a Connect is ended and destroyed");
        assertTrue(idle.stream().allMatch(q -> hosts.get(q.handle).inError()), "their QPs went to ERR");
        assertEquals(idle.size(), lo.stats.connectTimeouts());
        assertEquals(before, budget(), "every CQ entry came back");
        assertEquals(0, connections.count(), "they no longer count against the caps");
        RdmaLoopback.Connection admin = admin(establish(connectRequest("10.0.0.1", 0, 31)));
        Thread.sleep(timeoutMs + 50);
        conductorTurn();
        assertFalse(destroyed.contains(admin.queue()), "a connected queue outlives the Connect timeout");
        ok(admin.host(), noData(io.sanport.nvme.AdminOpcode.KEEP_ALIVE));
        assertEquals(idle.size(), lo.stats.connectTimeouts());
    }

    /** CQ entries of the loopback's reactor not promised to a send queue. */
    int budget() {
        int n = 0;
        while (lo.rr.reserve(1)) {
            n++;
        }
        lo.rr.unreserve(n);
        return n;
    }

    /**
     * Many addresses, each under its own cap of queues without a Connect, together may hold only half of a
     * reactor's CQ; when that share is full, the oldest of them past a tenth of the Connect timeout make room for
     * a new host. Before the share, such a flood filled the CQ and every host got NO_RSC for the whole timeout.
     */
    @Test
    void queuesWithoutAConnectFromManyAddressesHoldAtMostHalfTheCq() throws Exception {
        long timeoutMs = 10_000; // the grace under pressure: 1 s
        conductor(timeoutMs, 2);
        int share = PendingQueues.share(lo.rr);
        assertEquals(lo.rr.cqEntriesForQueues() / 2, share);
        List<RdmaQueue> flood = new ArrayList<>();
        int address = 1;
        for (int hsqsize : new int[] {1023, 127, 31}) {
            while (true) {
                MemorySegment id = connectRequest("10.9.0." + address, 1, hsqsize);
                if (!lo.verbs.accepted(id)) {
                    assertEquals(RdmaCmReject.NO_RSC, lo.verbs.rejectStatus(id));
                    address++; // the next size from a fresh address: no per-address cap is reached
                    break;
                }
                flood.add(establish(id).queue());
                if (flood.size() % 2 == 0) {
                    address++;
                }
            }
        }
        assertTrue(address > 4, "from " + address + " addresses, each under its cap of 2");
        int held = flood.stream().mapToInt(q -> q.sendDepth).sum();
        assertTrue(held <= share, held + " CQ entries held without a Connect, share " + share);
        assertTrue(budget() >= lo.rr.cqEntriesForQueues() - share, "half the CQ is still free for connected queues");
        MemorySegment tooSoon = connectRequest("10.0.0.1", 0, 31);
        assertEquals(RdmaCmReject.NO_RSC, lo.verbs.rejectStatus(tooSoon), "none of them is past the grace yet");

        Thread.sleep(timeoutMs / PendingQueues.GRACE_DIVISOR + 50);
        RdmaLoopback.Connection host = admin(establish(connectRequest("10.0.0.1", 0, 31)));
        assertTrue(destroyed.isEmpty() || flood.containsAll(destroyed));
        turnUntil(() -> destroyed.contains(flood.getFirst()), "the oldest queue without a Connect made room");
        assertFalse(destroyed.contains(host.queue()));
        ok(host.host(), noData(io.sanport.nvme.AdminOpcode.KEEP_ALIVE));
        assertTrue(lo.stats.connectTimeouts() >= 1);
    }

    /**
     * The target's queue pairs, established or not, are capped in total and per host address, as NVMe/TCP
     * connections are: over a cap a CM connect request is rejected with NO_RSC, and a queue that goes gives its
     * place back.
     */
    @Test
    void queuePairsAreCappedInTotalAndPerAddress() throws Exception {
        conductor(ConnectionLimits.DEFAULT.withMaxConnections(5, 3));
        RdmaLoopback.Connection first = admin(establish(connectRequest("10.1.1.1", 0, 31)));
        conductorTurn(); // its Connect came: it is no longer pending, but it still counts
        establish(connectRequest("10.1.1.1", 1, 127));
        establish(connectRequest("10.1.1.1", 2, 127));
        MemorySegment fourth = connectRequest("10.1.1.1", 3, 127);
        assertEquals(RdmaCmReject.NO_RSC, lo.verbs.rejectStatus(fourth), "a fourth queue pair from one address");
        assertTrue(lo.verbs.idDestroyed(fourth));
        establish(connectRequest("10.1.1.2", 0, 31));
        establish(connectRequest("10.1.1.2", 1, 31));
        MemorySegment sixth = connectRequest("10.1.1.3", 0, 31);
        assertEquals(RdmaCmReject.NO_RSC, lo.verbs.rejectStatus(sixth), "a sixth queue pair on the target");
        assertEquals(5, connections.count());
        assertEquals(2, lo.stats.rejected());

        first.queue().disconnect();
        turnUntil(() -> destroyed.contains(first.queue()), "the connected queue is torn down");
        assertEquals(2, connections.count("10.1.1.1"));
        MemorySegment again = connectRequest("10.1.1.3", 0, 31);
        assertTrue(lo.verbs.accepted(again), "its place is free again");
    }

    @Test
    void aCmEventThatFailsEndsItsQueueOnlyAndTheConductorGoesOn() throws Exception {
        conductor(60_000, 129);
        RdmaLoopback.Connection admin = admin(establish(connectRequest("10.0.0.1", 0, 31)));
        MemorySegment badId = connectRequest("10.0.0.2", 0, 31);
        RdmaLoopback.Connection bad = establish(badId);
        lo.verbs.failDisconnect(badId);
        conductor.handle(event(Rdmacm.RDMA_CM_EVENT_DISCONNECTED, badId)); // answering the DREQ throws
        turnUntil(() -> destroyed.contains(bad.queue()), "the queue whose event failed is ended");
        assertTrue(bad.host().inError());

        ok(admin.host(), noData(io.sanport.nvme.AdminOpcode.KEEP_ALIVE));
        RdmaLoopback.Connection next = admin(establish(connectRequest("10.0.0.3", 0, 31)));
        ok(next.host(), noData(io.sanport.nvme.AdminOpcode.KEEP_ALIVE));
        assertFalse(admin.host().inError() || next.host().inError());
    }

    /**
     * Each RDMA CM event that ends a connection counts under the reason TCP would give it: DISCONNECTED the
     * host's end, REJECTED a protocol error, UNREACHABLE and CONNECT_ERROR a timeout, DEVICE_REMOVAL the
     * connection found gone; and an event whose handling fails a fault.
     */
    @Test
    void cmEventsEndQueuesForReasonsAsSpecificAsTcps() throws Exception {
        conductor(60_000, 129);
        Object[][] cases = {
                {Rdmacm.RDMA_CM_EVENT_DISCONNECTED, io.sanport.hostdriver.DisconnectReason.HOST},
                {Rdmacm.RDMA_CM_EVENT_REJECTED, io.sanport.hostdriver.DisconnectReason.PROTOCOL_ERROR},
                {Rdmacm.RDMA_CM_EVENT_UNREACHABLE, io.sanport.hostdriver.DisconnectReason.TIMEOUT},
                {Rdmacm.RDMA_CM_EVENT_CONNECT_ERROR, io.sanport.hostdriver.DisconnectReason.TIMEOUT},
                {Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL, io.sanport.hostdriver.DisconnectReason.HOST},
                {-1, io.sanport.hostdriver.DisconnectReason.FAULT}};
        for (int i = 0; i < cases.length; i++) {
            int type = (int) cases[i][0];
            var why = (io.sanport.hostdriver.DisconnectReason) cases[i][1];
            long before = disconnects(why);
            MemorySegment id = connectRequest("10.0.1." + (i + 1), 0, 31);
            RdmaLoopback.Connection q = admin(establish(id));
            if (type < 0) {
                lo.verbs.failDisconnect(id); // answering the DREQ throws: the event's handling fails
                conductor.handle(event(Rdmacm.RDMA_CM_EVENT_DISCONNECTED, id));
            } else {
                conductor.handle(event(type, id));
            }
            turnUntil(() -> destroyed.contains(q.queue()), "the queue is ended on " + Rdmacm.eventName(type));
            waitFor(() -> disconnects(why) == before + 1, Rdmacm.eventName(type) + " counted as " + why.label());
        }
        assertEquals("RDMA_CM_EVENT_TIMEWAIT_EXIT", Rdmacm.eventName(Rdmacm.RDMA_CM_EVENT_TIMEWAIT_EXIT));
    }
}
