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
 * The host side of the NVMe/RDMA tests over the fake verbs provider ({@link RdmaLoopback}): a target per test,
 * capsules built and sent as the Linux host sends them (admin bring-up, I/O queues, keyed and in-capsule I/O),
 * and the checks on what comes back. After each test the fake provider must have seen no bad verbs call.
 */
abstract class RdmaHostSide {
    static final int LBA = 512;
    final Arena arena = Arena.ofShared();
    RdmaLoopback lo;
    int cntlid;
    int nextCid = 1;

    @BeforeEach
    void start() throws Exception {
        lo = new RdmaLoopback();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            assertEquals(List.of(), lo.verbs.errors(), "the fake provider saw no bad call");
        } finally {
            lo.close();
            arena.close();
        }
    }

    // ---------------------------------------------------------------- host side helpers

    MemorySegment sqe(int opcode) {
        MemorySegment s = arena.allocate(SubmissionQueueEntry.SIZE);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG); // NVMe-oF: SGLs only
        SubmissionQueueEntry.cid(s, nextCid++);
        return s;
    }

    /** The capsule: the SQE followed by {@code inCapsule} bytes. */
    MemorySegment capsule(MemorySegment sqe, MemorySegment inCapsule) {
        long n = inCapsule == null ? 0 : inCapsule.byteSize();
        MemorySegment c = arena.allocate(SubmissionQueueEntry.SIZE + n);
        MemorySegment.copy(sqe, 0, c, 0, SubmissionQueueEntry.SIZE);
        if (n > 0) {
            MemorySegment.copy(inCapsule, 0, c, SubmissionQueueEntry.SIZE, n);
        }
        return c;
    }

    static MemorySegment response(Host h) throws InterruptedException {
        byte[] b = h.response(5, TimeUnit.SECONDS);
        assertNotNull(b, "no response SEND");
        assertEquals(CompletionQueueEntry.SIZE, b.length, "a response SEND is exactly one CQE");
        return MemorySegment.ofArray(b);
    }

    MemorySegment connectData(int cntlid) {
        MemorySegment d = arena.allocate(ConnectCommand.DATA_LENGTH);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(RdmaLoopback.HOSTNQN.getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, RdmaLoopback.NQN);
        ConnectData.hostnqn(d, RdmaLoopback.HOSTNQN);
        return d;
    }

    MemorySegment connectSqe(int qid, int sqsize) {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, sqsize);
        ConnectCommand.kato(s, 15_000); // an I/O controller refuses KATO 0
        return s;
    }

    /** The admin queue as the Linux host brings it up over RDMA: Connect data by keyed SGL (the target READs it). */
    RdmaLoopback.Connection admin() throws Exception {
        return admin(lo.connect(0, 31));
    }

    /** The same on {@code c}, a QP for queue 0 of 32 entries, established. */
    RdmaLoopback.Connection admin(RdmaLoopback.Connection c) throws Exception {
        MemorySegment data = connectData(ConnectData.CNTLID_DYNAMIC);
        int key = c.host().register(data);
        MemorySegment s = connectSqe(0, 31);
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, data.address(), (int) data.byteSize(), key,
                SglDescriptor.ID_KEYED);
        c.host().send(capsule(s, null));
        MemorySegment cqe = response(c.host());
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)),
                "admin Connect: dw0 0x" + Integer.toHexString(CompletionQueueEntry.dw0(cqe)) + " " + lo.verbs.errors());
        assertEquals(SubmissionQueueEntry.cid(s), CompletionQueueEntry.cid(cqe));
        cntlid = CompletionQueueEntry.dw0(cqe) & 0xFFFF;
        // enable (CC.EN with IOSQES 6, IOCQES 4), wait for CSTS.RDY, ask for I/O queues
        MemorySegment set = noData(FabricsCommand.OPCODE);
        FabricsCommand.fctype(set, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(set, Property.CC);
        PropertySetCommand.value(set, 0x00460001);
        ok(c.host(), set);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            MemorySegment get = noData(FabricsCommand.OPCODE);
            FabricsCommand.fctype(get, FabricsCommand.FCTYPE_PROPERTY_GET);
            PropertyGetCommand.ofst(get, Property.CSTS);
            if ((ok(c.host(), get) & Property.CSTS_RDY) != 0) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "CSTS.RDY within 5 s");
        }
        MemorySegment queues = noData(AdminOpcode.SET_FEATURES);
        SubmissionQueueEntry.cdw10(queues, FeatureId.NUM_QUEUES);
        SubmissionQueueEntry.cdw11(queues, FeatureId.numQueues(3, 3));
        ok(c.host(), queues);
        return c;
    }

    /** A command without data: keyed SGL of length 0 and key 0, as the Linux host sends it. */
    MemorySegment noData(int opcode) {
        MemorySegment s = sqe(opcode);
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, 0, SglDescriptor.ID_KEYED);
        return s;
    }

    /** Sends {@code sqe} alone, expects success; returns DW0. */
    static int ok(Host h, MemorySegment sqe) throws InterruptedException {
        MemorySegment c = MemorySegment.ofArray(new byte[(int) SubmissionQueueEntry.SIZE]);
        MemorySegment.copy(sqe, 0, c, 0, SubmissionQueueEntry.SIZE);
        h.send(c);
        MemorySegment cqe = response(h);
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)),
                "opcode 0x" + Integer.toHexString(SubmissionQueueEntry.opcode(sqe)));
        assertEquals(SubmissionQueueEntry.cid(sqe), CompletionQueueEntry.cid(cqe));
        return CompletionQueueEntry.dw0(cqe);
    }

    /** An I/O queue: Connect data in the capsule (SGL Data Block, Offset subtype). */
    RdmaLoopback.Connection io(int qid) throws Exception {
        return io(qid, 2 * (127 + 1 + RdmaQueue.SPARE) + 2);
    }

    /** The same over a send queue of {@code sendDepth} WRs. */
    RdmaLoopback.Connection io(int qid, int sendDepth) throws Exception {
        RdmaLoopback.Connection c = lo.connect(qid, 127, sendDepth);
        MemorySegment s = connectSqe(qid, 127);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        c.host().send(capsule(s, connectData(cntlid)));
        MemorySegment cqe = response(c.host());
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)), "I/O Connect");
        return c;
    }

    MemorySegment rw(int opcode, long slba, int bytes) {
        MemorySegment s = sqe(opcode);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, bytes / LBA - 1);
        return s;
    }

    MemorySegment pattern(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        MemorySegment m = arena.allocate(bytes, 4096);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, bytes);
        return m;
    }

    /** A keyed read of {@code bytes} at {@code slba} into fresh host memory; returns what arrived. */
    MemorySegment keyedRead(Host h, long slba, int bytes, int identifier) throws Exception {
        MemorySegment into = arena.allocate(bytes, 4096);
        int key = h.register(into);
        MemorySegment s = rw(IoOpcode.READ, slba, bytes);
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, into.address(), bytes, key, identifier);
        h.send(capsule(s, null));
        MemorySegment cqe = response(h);
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)), "read");
        return into;
    }

    /** A keyed write of {@code data} to {@code slba}, not sent: its capsule; {@code cids} gets its CID. */
    MemorySegment keyedWriteCapsule(Host h, long slba, MemorySegment data, Set<Integer> cids) {
        int key = h.register(data);
        MemorySegment w = rw(IoOpcode.WRITE, slba, (int) data.byteSize());
        SglDescriptor.setKeyed(w, SubmissionQueueEntry.OFFSET_DPTR, data.address(), (int) data.byteSize(), key,
                SglDescriptor.ID_KEYED);
        cids.add(SubmissionQueueEntry.cid(w));
        return capsule(w, null);
    }

    /** Takes {@code cids.size()} responses, each a success for one of {@code cids}, in any order. */
    static void allSucceed(Host h, Set<Integer> cids) throws InterruptedException {
        for (int n = cids.size(); n > 0; n--) {
            MemorySegment cqe = response(h);
            assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)));
            assertTrue(cids.remove(CompletionQueueEntry.cid(cqe)), "one response per command");
        }
    }

    static void waitFor(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Port 1's queue pairs ended by {@code why} so far. */
    long disconnects(io.sanport.hostdriver.DisconnectReason why) {
        return lo.target.stats().snapshot().ports().stream().filter(p -> p.portId() == lo.port.portId())
                .findFirst().orElseThrow().disconnects()[why.ordinal()];
    }
}
