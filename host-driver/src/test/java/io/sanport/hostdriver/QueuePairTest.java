package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertySetCommand;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The core's request state machine without sockets or disks: a fake Remote Transport that plays the host, the
 * in-memory Local Transport as the device. Everything runs on the reactor thread, as it would in the target.
 */
class QueuePairTest {
    static final String NQN = "nqn.2024-01.io.sanport:core";
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:0b5c7a9e-1f2d-4c3b-8a7e-6d5c4b3a2910";
    static final int LBA = 512;

    IoProcessor iop;
    Target target;
    Reactor reactor;
    Port port;
    final MemorySegment disk = Arena.ofAuto().allocate(16 << 20, 4096);

    @BeforeEach
    void start() throws Exception {
        start(new TargetOptions(0, 50, 5000));
    }

    void start(TargetOptions options) throws Exception {
        iop = IoProcessor.start(1, new ReactorConfig(64, 128 * 1024, 32), List.of(BlockDevices.open("ram:16M")));
        String json = """
            { "ports": [],
              "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "SANPORTCORE1" },
                                "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "ram:16M" } } ] } ] }
            """.formatted(NQN);
        target = Target.start(TargetConfig.parse(json, "core.json"), options, iop);
        reactor = target.reactors().getFirst();
        port = new Port(1, new LoopTransport(), "ipv4", "127.0.0.1", "4420", List.of(target.subsystem(NQN)));
    }

    @AfterEach
    void stop() throws Exception {
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    <T> T onReactor(Callable<T> body) throws Exception {
        return reactor.call(r -> {
            try {
                return body.call();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }).get();
    }

    /** The Remote Transport side of one queue, played by the test: SGL1 as NVMe/TCP maps it, data in hand. */
    static final class ScriptedQueue implements RemoteQueue {
        record Completion(int status, int dw0, int cid, int sqid, byte[] data, int word) {}

        QueuePair queue;
        final Map<Integer, byte[]> hostData = new HashMap<>(); // by tag: what the host sends for it
        final List<Request> awaitingData = new ArrayList<>();  // R2T-style transfers the test delivers later
        final List<Completion> completions = new ArrayList<>();
        int entries;
        boolean disconnected;
        String hostAddress; // null: no per-host share, as an in-process transport

        @Override
        public int mapData(Request r) {
            MemorySegment sqe = r.sqe();
            long at = SubmissionQueueEntry.OFFSET_DPTR;
            int id = SglDescriptor.identifier(sqe, at);
            long length = SglDescriptor.length(sqe, at);
            if (id == SglDescriptor.identifier(SglDescriptor.TYPE_DATA_BLOCK, SglDescriptor.SUBTYPE_OFFSET)) {
                if (length != r.inCapsuleLength()) return Status.SGL_INVALID_DATA;
            } else if (id != SglDescriptor.ID_TCP_TRANSPORT || r.inCapsuleLength() != 0) {
                return Status.SGL_INVALID_TYPE;
            }
            r.dataLength(length);
            return Status.SUCCESS;
        }

        @Override
        public void receiveData(Request r) {
            byte[] d = hostData.remove(r.tag());
            MemorySegment.copy(MemorySegment.ofArray(d), 0, r.buffer(), 0, d.length);
            if (r.inCapsuleLength() > 0) {
                queue.dataReceived(r); // in hand: straight from inside receiveData, no NOP
            } else {
                awaitingData.add(r);
            }
        }

        /** The host's H2C data for every R2T-style transfer has arrived (from the receive path: core not on the stack). */
        void deliver() {
            List<Request> now = new ArrayList<>(awaitingData);
            awaitingData.clear();
            for (Request r : now) {
                queue.dataReceived(r);
            }
        }

        @Override
        public void sendResponse(Request r) {
            MemorySegment cqe = Arena.ofAuto().allocate(CompletionQueueEntry.SIZE);
            r.fillCompletion(cqe);
            assertEquals(r.statusWord(), CompletionQueueEntry.status(cqe));
            byte[] data = r.sendsData() ? r.data().toArray(ValueLayout.JAVA_BYTE) : null;
            completions.add(new Completion(r.status(), CompletionQueueEntry.dw0(cqe), CompletionQueueEntry.cid(cqe),
                    CompletionQueueEntry.sqid(cqe), data, CompletionQueueEntry.status(cqe)));
            queue.release(r);
        }

        @Override
        public void install(int entries) {
            this.entries = entries;
        }

        @Override
        public void disconnect() {
            disconnected = true;
            if (queue.reactor().inReactor()) {
                queue.close(() -> { });
            } else {
                queue.reactor().execute(() -> queue.close(() -> { }));
            }
        }

        @Override
        public String localAddress() {
            return "127.0.0.1";
        }

        @Override
        public String hostAddress() {
            return hostAddress;
        }
    }

    /** One host, one memory disk: queues made on the reactor with the in-memory Local Transport. */
    final class Host {
        final MemoryLocalTransport local;
        int cid;

        Host(boolean synchronous) {
            local = new MemoryLocalTransport(disk, synchronous);
        }

        ScriptedQueue newQueue() {
            return newQueue(null);
        }

        /** A queue from host address {@code address} (null: none). */
        ScriptedQueue newQueue(String address) {
            ScriptedQueue t = new ScriptedQueue();
            t.hostAddress = address;
            ReactorContext ctx = target.connections().context(reactor);
            t.queue = target.connections().newQueue(port, ctx, t, local);
            return t;
        }

        /** Sends one command (SQE filled by {@code sqe}, {@code data} host-to-controller), runs until its completion. */
        ScriptedQueue.Completion run(ScriptedQueue t, Consumer<MemorySegment> sqe, byte[] data, boolean inCapsule) {
            int before = t.completions.size();
            int id = send(t, sqe, data, inCapsule);
            for (int i = 0; i < 8 && t.completions.size() == before; i++) {
                t.deliver();
                local.step();
            }
            assertEquals(before + 1, t.completions.size(), "one completion for cid " + id);
            ScriptedQueue.Completion c = t.completions.getLast();
            assertEquals(id, c.cid());
            return c;
        }

        /** Starts one command and returns its CID, without running the device. */
        int send(ScriptedQueue t, Consumer<MemorySegment> sqe, byte[] data, boolean inCapsule) {
            Request r = t.queue.acquire();
            assertNotNull(r, "a free slot");
            MemorySegment s = r.sqe();
            s.fill((byte) 0);
            int id = ++cid & 0xFFFF;
            SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
            transport(s, 0); // no data unless the command says otherwise
            sqe.accept(s);
            SubmissionQueueEntry.cid(s, id);
            if (data != null) {
                t.hostData.put(r.tag(), data);
                r.inCapsuleLength(inCapsule ? data.length : 0);
            }
            t.queue.start(r);
            return id;
        }

        ScriptedQueue.Completion connect(ScriptedQueue t, int qid, int cntlid, String subnqn) {
            byte[] d = new byte[(int) ConnectData.SIZE];
            MemorySegment cd = MemorySegment.ofArray(d);
            ConnectData.hostUuid(cd, UUID.nameUUIDFromBytes(HOST.getBytes()));
            ConnectData.cntlid(cd, cntlid);
            ConnectData.subnqn(cd, subnqn);
            ConnectData.hostnqn(cd, HOST);
            return run(t, s -> {
                ConnectCommand.opcode(s, FabricsCommand.OPCODE);
                ConnectCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
                ConnectCommand.qid(s, qid);
                ConnectCommand.sqsize(s, 31);
                ConnectCommand.kato(s, 15_000); // I/O controllers need a keep-alive; a discovery one takes it too
                inCapsule(s, d.length);
            }, d, true);
        }

        /** Admin queue, CC.EN = 1, one I/O queue: returns the I/O queue. */
        ScriptedQueue connected() {
            return connected(null);
        }

        /** As {@link #connected()}, both queues from host address {@code address}: a controller of its own. */
        ScriptedQueue connected(String address) {
            ScriptedQueue admin = newQueue(address);
            ScriptedQueue.Completion c = connect(admin, 0, ConnectData.CNTLID_DYNAMIC, NQN);
            assertEquals(Status.SUCCESS, c.status());
            int cntlid = c.dw0() & 0xFFFF;
            enable(admin);
            ScriptedQueue io = newQueue(address);
            assertEquals(Status.SUCCESS, connect(io, 1, cntlid, NQN).status());
            return io;
        }

        /** Property Set CC.EN = 1 (IOSQES 6, IOCQES 4): the controller becomes ready. */
        void enable(ScriptedQueue admin) {
            assertEquals(Status.SUCCESS, run(admin, s -> {
                PropertySetCommand.opcode(s, FabricsCommand.OPCODE);
                PropertySetCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
                PropertySetCommand.ofst(s, Property.CC);
                PropertySetCommand.value(s, Property.CC_EN | 6 << 16 | 4 << 20);
            }, null, false).status());
        }
    }

    static void inCapsule(MemorySegment s, long length) {
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, length,
                SglDescriptor.identifier(SglDescriptor.TYPE_DATA_BLOCK, SglDescriptor.SUBTYPE_OFFSET));
    }

    static void transport(MemorySegment s, long length) {
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, length, SglDescriptor.ID_TCP_TRANSPORT);
    }

    static Consumer<MemorySegment> rw(int opcode, int nsid, long slba, int bytes, boolean capsule) {
        return s -> {
            SubmissionQueueEntry.opcode(s, opcode);
            SubmissionQueueEntry.nsid(s, nsid);
            SubmissionQueueEntry.slba(s, slba);
            SubmissionQueueEntry.nlb(s, bytes / LBA - 1);
            if (capsule) inCapsule(s, bytes); else transport(s, bytes);
        };
    }

    @Test
    void adminConnectSizesTheQueueAndIdentifyReturnsTheController() throws Exception {
        onReactor(() -> {
            Host h = new Host(false);
            ScriptedQueue admin = h.newQueue();
            assertEquals(1, admin.queue.capacity(), "one slot, for the Connect, before the Connect");
            ScriptedQueue.Completion c = h.connect(admin, 0, ConnectData.CNTLID_DYNAMIC, NQN);
            assertEquals(Status.SUCCESS, c.status());
            assertEquals(0, admin.queue.qid());
            assertEquals(32 + ConnectionManager.SPARE_SLOTS, admin.queue.capacity());
            assertEquals(admin.queue.capacity(), admin.entries, "the transport was sized with the queue");
            h.enable(admin);
            ScriptedQueue.Completion id = h.run(admin, s -> {
                SubmissionQueueEntry.opcode(s, AdminOpcode.IDENTIFY);
                SubmissionQueueEntry.cdw10(s, 1); // CNS 1: controller
                transport(s, 4096);
            }, null, false);
            assertEquals(Status.SUCCESS, id.status());
            MemorySegment ident = MemorySegment.ofArray(id.data());
            assertEquals("SANPORTCORE1", IdentifyController.sn(ident));
            assertEquals(0, admin.queue.outstanding(), "every slot back after its completion");
            return null;
        });
    }

    @ParameterizedTest(name = "device completes synchronously: {0}")
    @ValueSource(booleans = {false, true})
    void writesThenReadsOfSeveralSizes(boolean synchronous) throws Exception {
        onReactor(() -> {
            Host h = new Host(synchronous);
            ScriptedQueue io = h.connected();
            Random random = new Random(42);
            long slba = 8;
            for (int bytes : new int[] {512, 4096, Capsule.IN_CAPSULE_DATA, 65536, 128 * 1024}) {
                byte[] data = new byte[bytes];
                random.nextBytes(data);
                boolean capsule = bytes <= Capsule.IN_CAPSULE_DATA;
                ScriptedQueue.Completion w = h.run(io, rw(IoOpcode.WRITE, 1, slba, bytes, capsule), data, capsule);
                assertEquals(Status.SUCCESS, w.status(), bytes + "-byte write");
                assertEquals(1, w.sqid());
                assertArrayEquals(data, disk.asSlice(slba * LBA, bytes).toArray(ValueLayout.JAVA_BYTE));
                ScriptedQueue.Completion r = h.run(io, rw(IoOpcode.READ, 1, slba, bytes, false), null, false);
                assertEquals(Status.SUCCESS, r.status(), bytes + "-byte read");
                assertArrayEquals(data, r.data());
                slba += bytes / LBA;
            }
            assertEquals(0, io.queue.outstanding());
            assertEquals(5, io.queue.controller().writeCommands());
            assertEquals(5, io.queue.controller().readCommands());
            // the metrics: the namespace's counts, bytes and histograms, nothing counted as an error
            TargetStats.IoTotals t = target.stats().snapshot().namespaces().getFirst().io();
            long bytes = 512 + 4096 + Capsule.IN_CAPSULE_DATA + 65536 + 128 * 1024;
            assertEquals(5, t.reads());
            assertEquals(5, t.writes());
            assertEquals(bytes, t.bytesRead());
            assertEquals(bytes, t.bytesWritten());
            assertEquals(5, t.readLatency().count());
            assertEquals(5, t.writeLatency().count());
            // the latency reads the reactor's round clock: this whole test is one task of one round, so 0 here
            // (QueuePair counts from the round that took the SQE to the one that completes it)
            assertTrue(t.readLatency().sumNanos() >= 0 && t.readLatency().sumNanos() < 10_000_000_000L);
            assertEquals(0, t.errors());
            return null;
        });
    }

    @Test
    void badCapsulesCompleteWithTheirStatusAndMoveNoData() throws Exception {
        onReactor(() -> {
            Host h = new Host(false);
            ScriptedQueue fresh = h.newQueue();
            // before its Connect a queue takes nothing else
            assertEquals(Status.INVALID_OPCODE, h.run(fresh, s -> SubmissionQueueEntry.opcode(s, AdminOpcode.IDENTIFY),
                    null, false).status());
            assertEquals(Status.CONNECT_INVALID_PARAM,
                    h.connect(fresh, 0, ConnectData.CNTLID_DYNAMIC, "nqn.2024-01.io.sanport:nobody").status());

            ScriptedQueue io = h.connected();
            long submitted = h.local.submitted;
            assertEquals(Status.INVALID_NS, h.run(io, rw(IoOpcode.READ, 9, 0, 4096, false), null, false).status());
            assertEquals(Status.LBA_RANGE, h.run(io, rw(IoOpcode.READ, 1, (16 << 20) / LBA, 4096, false), null, false)
                    .status());
            // SGL1 says 4 KiB, NLB says 1 KiB
            assertEquals(Status.SGL_INVALID_DATA, h.run(io, s -> {
                rw(IoOpcode.WRITE, 1, 0, 1024, false).accept(s);
                transport(s, 4096);
            }, new byte[4096], false).status());
            // PRPs are not a fabrics data pointer
            assertEquals(Status.INVALID_FIELD, h.run(io, s -> {
                rw(IoOpcode.READ, 1, 0, 4096, false).accept(s);
                SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_PRP);
            }, null, false).status());
            assertEquals(submitted, h.local.submitted, "nothing refused reached the device");
            assertTrue(io.awaitingData.isEmpty() && io.hostData.size() == 1, "the refused write asked for no data");

            h.local.failNext = Status.WRITE_FAULT;
            assertEquals(Status.WRITE_FAULT, h.run(io, rw(IoOpcode.WRITE, 1, 0, 4096, true), new byte[4096], true)
                    .status());
            assertEquals(0, io.queue.outstanding());
            // the metrics count the failures of namespace 1 by status code type (the unknown NSID and the PRP
            // command name none), and no failed command as a read or a write
            TargetStats.IoTotals t = target.stats().snapshot().namespaces().getFirst().io();
            assertEquals(2, t.errorsByStatusType()[Status.SCT_GENERIC], "LBA range, SGL data length");
            assertEquals(1, t.errorsByStatusType()[Status.SCT_MEDIA], "write fault");
            assertEquals(3, t.errors());
            assertEquals(0, t.reads() + t.writes());
            assertEquals(0, t.readLatency().count() + t.writeLatency().count());
            return null;
        });
    }

    /**
     * More in-capsule writes than pool buffers: the last ones wait for a buffer; a completion's release hands
     * them one, and their data, in hand, reaches the core from inside receiveData: it runs once the core call
     * returns, in arrival order, with no ring round trip.
     */
    @Test
    void inCapsuleWritesThatWaitedForABufferRunInOrderFromTheRunQueue() throws Exception {
        onReactor(() -> {
            Host h = new Host(false);
            ScriptedQueue io = h.connected();
            io.completions.clear(); // the Connect's
            int buffers = reactor.buffers().capacity();
            int n = io.queue.capacity(); // SQSIZE + 1 + spare > the 32 pool buffers of this reactor
            assertTrue(n > buffers, n + " slots, " + buffers + " buffers");
            byte[][] data = new byte[n][4096];
            Random random = new Random(7);
            List<Integer> cids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                random.nextBytes(data[i]);
                cids.add(h.send(io, rw(IoOpcode.WRITE, 1, 8L * i, 4096, true), data[i], true));
            }
            assertEquals(buffers, h.local.submitted, "the rest wait for a buffer");
            assertTrue(target.bufferWaits() >= n - buffers);
            for (int i = 0; i < 8 && io.completions.size() < n; i++) {
                h.local.step();
            }
            assertEquals(n, io.completions.size());
            assertEquals(cids, io.completions.stream().map(ScriptedQueue.Completion::cid).toList(), "completed in order");
            for (int i = 0; i < n; i++) {
                assertEquals(Status.SUCCESS, io.completions.get(i).status());
                assertArrayEquals(data[i], disk.asSlice(8L * i * LBA, 4096).toArray(ValueLayout.JAVA_BYTE));
            }
            assertEquals(0, io.queue.outstanding());
            return null;
        });
    }

    /**
     * Host-paced buffers (data still to come from the host) stop at the reactor's share; one whose transfer fails
     * gives its share back at once, and the oldest waiting write takes it. Connects whose data is not in the
     * capsule, before any controller exists, count against the same share: they cannot pin the pool either.
     */
    @Test
    void aFailedTransferGivesItsHostPacedShareToTheOldestWaitingWrite() throws Exception {
        onReactor(() -> {
            Host h = new Host(false);
            ScriptedQueue io = h.connected();
            io.completions.clear();
            int paced = target.options().hostPacedLimit(reactor.buffers().capacity());
            int n = paced + 4;
            List<Integer> cids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                cids.add(h.send(io, rw(IoOpcode.WRITE, 1, 8L * i, 4096, false), new byte[4096], false));
            }
            assertEquals(paced, io.awaitingData.size(), "only the host-paced share got buffers (an R2T each)");
            assertEquals(cids.subList(0, paced), io.awaitingData.stream().map(Request::cid).toList());

            // before any controller: Connects whose data the host has still to send wait behind the same share
            ScriptedQueue stranger = h.newQueue();
            h.send(stranger, s -> {
                ConnectCommand.opcode(s, FabricsCommand.OPCODE);
                ConnectCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
                ConnectCommand.qid(s, 0);
                ConnectCommand.sqsize(s, 31);
                transport(s, ConnectData.SIZE);
            }, new byte[(int) ConnectData.SIZE], false);
            assertTrue(stranger.awaitingData.isEmpty(), "no buffer for the stranger's Connect data: the share is taken");

            // a read still gets a buffer
            byte[] pattern = new byte[4096];
            new Random(3).nextBytes(pattern);
            MemorySegment.copy(MemorySegment.ofArray(pattern), 0, disk, 1000L * LBA, 4096);
            int readCid = h.send(io, rw(IoOpcode.READ, 1, 1000, 4096, false), null, false);
            for (int i = 0; i < 8 && io.completions.isEmpty(); i++) {
                h.local.step(); // the writes' data stays with the host
            }
            assertEquals(1, io.completions.size(), "the read completed");
            ScriptedQueue.Completion read = io.completions.getFirst();
            assertEquals(readCid, read.cid());
            assertEquals(Status.SUCCESS, read.status());
            assertEquals(paced, io.awaitingData.size());
            assertArrayEquals(pattern, read.data());
            io.completions.clear();

            Request first = io.awaitingData.removeFirst();
            io.queue.dataFailed(first, Status.DATA_XFER_ERROR);
            assertEquals(Status.DATA_XFER_ERROR, io.completions.getFirst().status());
            assertEquals(paced, io.awaitingData.size(), "the failed transfer's share went to the next write");
            assertEquals(cids.get(paced), io.awaitingData.getLast().cid(), "the oldest waiting one");

            for (int i = 0; i < 16 && io.completions.size() < n; i++) {
                io.deliver();
                h.local.step();
            }
            assertEquals(n, io.completions.size(), "every write ran once its data came");
            assertEquals(1, stranger.awaitingData.size(), "the stranger's Connect got its buffer once the share freed");
            stranger.deliver();
            assertEquals(1, stranger.completions.size());
            return null;
        });
    }

    /**
     * One host address holds at most its share of the reactor's buffers (here 4) in host-paced writes and reads,
     * over all its controllers; a command of another address parked behind its waiters goes first once a buffer
     * frees, while the first address's waiters stay parked until its own share frees.
     */
    @Test
    void oneHostAddressHoldsAtMostItsShareAndOthersGoPastItsWaiters() throws Exception {
        stop();
        start(new TargetOptions(0, 50, 5000).withHostPacedPerHost(4));
        onReactor(() -> {
            Host h = new Host(false); // the device completes only when stepped
            ScriptedQueue a1 = h.connected("192.0.2.1");
            ScriptedQueue a2 = h.connected("192.0.2.1"); // a second controller from the same address
            ScriptedQueue b = h.connected("192.0.2.2");
            ScriptedQueue anon = h.connected(); // a transport without addresses: no share, its reads fill the pool
            a1.completions.clear();
            a2.completions.clear();
            b.completions.clear();
            anon.completions.clear();
            int capacity = reactor.buffers().capacity();
            for (int i = 0; i < 3; i++) {
                h.send(a1, rw(IoOpcode.WRITE, 1, 8L * i, 4096, false), new byte[4096], false);
                h.send(a2, rw(IoOpcode.WRITE, 1, 64 + 8L * i, 4096, false), new byte[4096], false);
            }
            int aRead = h.send(a2, rw(IoOpcode.READ, 1, 500, 4096, false), null, false);
            assertEquals(4, a1.awaitingData.size() + a2.awaitingData.size(), "the address's share: 4 R2Ts of 6 writes");
            assertEquals(capacity - 4, reactor.buffers().available());
            int fill = reactor.buffers().available();
            for (int i = 0; i < fill; i++) {
                h.send(anon, rw(IoOpcode.READ, 1, 1000 + 8L * i, 4096, false), null, false);
            }
            assertEquals(0, reactor.buffers().available(), "reads of the address-less queue hold the rest");
            h.send(b, rw(IoOpcode.WRITE, 1, 2000, 4096, false), new byte[4096], false);
            assertTrue(b.awaitingData.isEmpty(), "no buffer free for the other address");
            h.local.step(); // the address-less reads complete and give their buffers back
            assertEquals(fill, anon.completions.size());
            assertEquals(1, b.awaitingData.size(), "the other address went past the waiters of the one at its share");
            assertEquals(4, a1.awaitingData.size() + a2.awaitingData.size(), "still 4: its waiters stay parked");
            assertTrue(a2.completions.isEmpty(), "its read waits for its share too");
            for (int i = 0; i < 16 && a1.completions.size() + a2.completions.size() + b.completions.size() < 8; i++) {
                a1.deliver(); // the address's data comes: its share frees, its waiters go
                a2.deliver();
                b.deliver();
                h.local.step();
            }
            assertEquals(3, a1.completions.size(), "every write of the address ran");
            assertEquals(4, a2.completions.size(), "and its read");
            assertTrue(a2.completions.stream().anyMatch(c -> c.cid() == aRead && c.status() == Status.SUCCESS));
            assertEquals(1, b.completions.size());
            assertEquals(capacity, reactor.buffers().available(), "every buffer came back");
            return null;
        });
    }
}
