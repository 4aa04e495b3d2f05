package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.transport.rdma.FakeVerbsProvider.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Seeded malformed NVMe/RDMA capsules over the fake verbs provider: short, long, bad SGL types, keys,
 * addresses and lengths, fields at their edges, on queues before and after Connect. Each capsule must get a
 * completion or end its own queue (QP to ERR, queue handed back); the reactor lives on, a good queue beside
 * keeps reading and writing, and the fake provider sees no access outside what was registered.
 */
class RdmaFuzzTest {
    /** A longer run by hand: -Dsanport.fuzz.cases=5000 -Dsanport.fuzz.seed=0x1234. */
    static final long SEED = Long.decode(System.getProperty("sanport.fuzz.seed", "0x0D0AF022"));
    static final int CASES = Integer.getInteger("sanport.fuzz.cases", 300);
    static final int VICTIM_HSQSIZE = 7;

    final Arena arena = Arena.ofShared();
    int cid = 1;

    @Test
    void malformedCapsulesEndOnlyTheirOwnQueue() throws Exception {
        try (RdmaLoopback lo = new RdmaLoopback(); arena) {
            Host admin = lo.connect(0, 31).host();
            int cntlid = adminQueue(lo, admin);
            RdmaLoopback.Connection good = ioQueue(lo, 1, 127, cntlid);
            MemorySegment goodBuf = arena.allocate(4096, 4096);
            int goodKey = good.host().register(goodBuf);
            List<String> findings = new ArrayList<>();
            int ended = 0, completed = 0;
            RdmaLoopback.Connection connectedVictim = null; // queue 2, reused until a capsule ends it
            for (int i = 0; i < CASES && findings.size() < 10; i++) {
                long caseSeed = SEED * 31 + i;
                SplittableRandom rnd = new SplittableRandom(caseSeed);
                boolean connected = rnd.nextInt(3) != 0;
                RdmaLoopback.Connection victim;
                if (connected) {
                    if (connectedVictim == null) connectedVictim = ioQueue(lo, 2, VICTIM_HSQSIZE, cntlid);
                    victim = connectedVictim;
                } else {
                    // a fresh QP for queue 3 each time, left as it ends up (connected or not) for the loopback's close
                    victim = lo.connect(3, VICTIM_HSQSIZE, 2 * (VICTIM_HSQSIZE + 1 + RdmaQueue.SPARE) + 2);
                }
                StringBuilder what = new StringBuilder("case " + i + " seed " + caseSeed + (connected ? " connected:" : " before Connect:"));
                victim.host().send(mutated(victim.host(), rnd, connected, cntlid, what));
                String outcome = await(lo, victim, 3_000);
                if (outcome == null) {
                    findings.add(what + ": neither a completion nor the queue ended within 3 s");
                } else if (outcome.equals("ended")) {
                    ended++;
                    if (victim == connectedVictim) connectedVictim = null;
                    retire(lo, victim, false);
                } else {
                    completed++;
                    if (victim != connectedVictim) retire(lo, victim, true);
                }
                if (!lo.verbs.errors().isEmpty()) {
                    findings.add(what + ": the fake provider saw " + lo.verbs.errors());
                    break;
                }
                if (i % 25 == 0 || i == CASES - 1) {
                    String bad = goodIo(lo, good.host(), goodBuf, goodKey, i);
                    if (bad != null) findings.add(what + ": the good queue: " + bad);
                }
            }
            assertEquals(List.of(), findings);
            assertTrue(lo.reactor.thread().isAlive() && !lo.reactor.terminated().isDone(), "the reactor lives");
            assertEquals(1, lo.reactor.call(r -> 1).get(5, TimeUnit.SECONDS));
            assertTrue(!good.host().inError() && !admin.inError(), "the good queues were not touched");
            System.out.println("rdma fuzz: " + CASES + " capsules, " + completed + " answered by a completion, " + ended
                    + " ended their queue");
        }
    }

    /**
     * What the CM conductor does when a queue's connection goes (the loopback has no CM): the DISCONNECTED event
     * for a queue still up, then, once the reactor handed the queue back, its CQ entries returned.
     */
    static void retire(RdmaLoopback lo, RdmaLoopback.Connection v, boolean disconnect) throws Exception {
        if (disconnect) {
            lo.reactor.execute(() -> v.queue().cmGone(io.sanport.hostdriver.DisconnectReason.HOST));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!lo.freed.contains(v.queue())) {
            assertTrue(System.nanoTime() < deadline, "a queue whose connection went is handed back within 5 s");
            Thread.sleep(2);
        }
        lo.freed.remove(v.queue());
        lo.rr.unreserve(2 * (VICTIM_HSQSIZE + 1 + RdmaQueue.SPARE) + 2);
    }

    /** A completion for the victim ("completion"), its queue ended ("ended"), or null after the timeout. */
    static String await(RdmaLoopback lo, RdmaLoopback.Connection v, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (v.host().response(20, TimeUnit.MILLISECONDS) != null) return "completion";
            if (lo.freed.contains(v.queue()) || v.host().inError()) return "ended";
        }
        return null;
    }

    /** Write then read back 4 KiB on the good queue: null when it worked. */
    String goodIo(RdmaLoopback lo, Host h, MemorySegment buf, int key, long seed) throws InterruptedException {
        for (int i = 0; i < 4096; i++) buf.set(ValueLayout.JAVA_BYTE, i, (byte) (seed * 7 + i));
        byte[] expect = buf.toArray(ValueLayout.JAVA_BYTE);
        for (int opcode : new int[] {IoOpcode.WRITE, IoOpcode.READ}) {
            if (opcode == IoOpcode.READ) buf.fill((byte) 0);
            MemorySegment s = sqe(opcode);
            SubmissionQueueEntry.nsid(s, 1);
            SubmissionQueueEntry.slba(s, 8);
            SubmissionQueueEntry.nlb(s, 7);
            SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, buf.address(), 4096, key, SglDescriptor.ID_KEYED);
            h.send(copy(s, 64));
            byte[] cqe = h.response(5, TimeUnit.SECONDS);
            if (cqe == null) return "no completion for opcode " + opcode;
            int status = CompletionQueueEntry.status(MemorySegment.ofArray(cqe));
            if (!Status.isSuccess(status)) return Status.describe(status);
        }
        return java.util.Arrays.equals(expect, buf.toArray(ValueLayout.JAVA_BYTE)) ? null : "data mismatch";
    }

    // ---------------------------------------------------------------- capsules

    MemorySegment sqe(int opcode) {
        MemorySegment s = arena.allocate(SubmissionQueueEntry.SIZE);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        SubmissionQueueEntry.cid(s, cid++ & 0xFFFF);
        return s;
    }

    static MemorySegment copy(MemorySegment s, long length) {
        MemorySegment c = MemorySegment.ofArray(new byte[(int) length]);
        MemorySegment.copy(s, 0, c, 0, Math.min(length, s.byteSize()));
        return c;
    }

    MemorySegment connectData(int cntlid) {
        MemorySegment d = arena.allocate(ConnectCommand.DATA_LENGTH);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(RdmaLoopback.HOSTNQN.getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, RdmaLoopback.NQN);
        ConnectData.hostnqn(d, RdmaLoopback.HOSTNQN);
        return d;
    }

    MemorySegment connectCapsule(int qid, int sqsize, int cntlid) {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, sqsize);
        ConnectCommand.kato(s, 15_000);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        MemorySegment c = MemorySegment.ofArray(new byte[64 + ConnectCommand.DATA_LENGTH]);
        MemorySegment.copy(s, 0, c, 0, 64);
        MemorySegment.copy(connectData(cntlid), 0, c, 64, ConnectCommand.DATA_LENGTH);
        return c;
    }

    /** A valid capsule of the victim's state with seeded damage; what was done goes to {@code what}. */
    MemorySegment mutated(Host h, SplittableRandom rnd, boolean connected, int cntlid, StringBuilder what) {
        MemorySegment c;
        if (!connected || rnd.nextInt(10) == 0) {
            c = connectCapsule(connected ? 2 : 3, VICTIM_HSQSIZE, cntlid);
            what.append(" Connect");
        } else {
            int kind = rnd.nextInt(5);
            int opcode = kind == 4 ? rnd.nextInt(256) : kind % 2 == 0 ? IoOpcode.WRITE : IoOpcode.READ;
            int bytes = 512 * rnd.nextInt(1, 9);
            MemorySegment s = sqe(opcode);
            SubmissionQueueEntry.nsid(s, 1);
            SubmissionQueueEntry.slba(s, rnd.nextInt(64, 1024));
            SubmissionQueueEntry.nlb(s, bytes / 512 - 1);
            if (kind == 0) { // write in the capsule
                SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, bytes, SglDescriptor.ID_DATA_OFFSET);
                c = MemorySegment.ofArray(new byte[64 + bytes]);
                what.append(" Write in-capsule");
            } else { // keyed: the host's registered memory
                MemorySegment mem = arena.allocate(bytes, 4096);
                int key = h.register(mem);
                SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, mem.address(), bytes, key, SglDescriptor.ID_KEYED);
                c = MemorySegment.ofArray(new byte[64]);
                what.append(" keyed opcode 0x").append(Integer.toHexString(opcode));
            }
            MemorySegment.copy(s, 0, c, 0, 64);
        }
        byte[] b = c.toArray(ValueLayout.JAVA_BYTE);
        int n = 1 + rnd.nextInt(2);
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(8)) {
                case 0 -> { // short: part of an SQE, or an SQE without the data its SGL promises
                    int len = rnd.nextBoolean() ? rnd.nextInt(0, 64) : 64;
                    b = java.util.Arrays.copyOf(b, len);
                    what.append(" cut to ").append(len);
                }
                case 1 -> { // long: up to a whole receive buffer
                    int len = rnd.nextInt(b.length, RdmaTransport.RECV_SIZE + 1);
                    b = java.util.Arrays.copyOf(b, len);
                    what.append(" grown to ").append(len);
                }
                default -> {
                    int[][] fields = {{0, 1}, {1, 1}, {2, 2}, {4, 4}, {24, 8}, {32, 4}, {32, 3}, {35, 4}, {39, 1},
                            {40, 4}, {44, 4}, {48, 2}, {48, 4}, {52, 4}};
                    int[] f = fields[rnd.nextInt(fields.length)];
                    if (f[0] + f[1] > b.length) break;
                    long v = edge(rnd, f[1]);
                    for (int k = 0; k < f[1]; k++) b[f[0] + k] = (byte) (v >>> (8 * k));
                    what.append(" [").append(f[0]).append("..+").append(f[1]).append("]=0x").append(Long.toHexString(v));
                }
            }
        }
        if (b.length == 0) b = new byte[1];
        return MemorySegment.ofArray(b);
    }

    static long edge(SplittableRandom rnd, int width) {
        long max = width == 8 ? -1L : (1L << (width * 8)) - 1;
        return switch (rnd.nextInt(9)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> max;
            case 3 -> (1L << (width * 8 - 1));
            case 4 -> (1L << (width * 8 - 1)) - 1;
            case 5 -> width == 8 ? 0x7FFF_FFFF_FFFF_FC00L : max - 63;
            case 6 -> width == 1 ? new int[] {0x00, 0x01, 0x0A, 0x40, 0x4F, 0x5A, 0x20, 0x30}[rnd.nextInt(8)] : 8192 + 64;
            case 7 -> rnd.nextInt(0, 9000);
            default -> rnd.nextLong() & max;
        };
    }

    // ---------------------------------------------------------------- bring-up (as RdmaQueueTest does it)

    int adminQueue(RdmaLoopback lo, Host h) throws Exception {
        MemorySegment data = connectData(ConnectData.CNTLID_DYNAMIC);
        int key = h.register(data);
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, 0);
        ConnectCommand.sqsize(s, 31);
        ConnectCommand.kato(s, 15_000);
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, data.address(), (int) data.byteSize(), key, SglDescriptor.ID_KEYED);
        int cntlid = ok(h, s) & 0xFFFF;
        MemorySegment set = noData(FabricsCommand.OPCODE);
        FabricsCommand.fctype(set, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(set, Property.CC);
        PropertySetCommand.value(set, 0x00460001);
        ok(h, set);
        MemorySegment queues = noData(AdminOpcode.SET_FEATURES);
        SubmissionQueueEntry.cdw10(queues, FeatureId.NUM_QUEUES);
        SubmissionQueueEntry.cdw11(queues, FeatureId.numQueues(3, 3));
        ok(h, queues);
        return cntlid;
    }

    RdmaLoopback.Connection ioQueue(RdmaLoopback lo, int qid, int hsqsize, int cntlid) throws Exception {
        for (int attempt = 0; ; attempt++) {
            RdmaLoopback.Connection c = lo.connect(qid, hsqsize, 2 * (hsqsize + 1 + RdmaQueue.SPARE) + 2);
            c.host().send(connectCapsule(qid, hsqsize, cntlid));
            byte[] cqe = c.host().response(5, TimeUnit.SECONDS);
            if (cqe != null && Status.isSuccess(CompletionQueueEntry.status(MemorySegment.ofArray(cqe)))) return c;
            // the queue this qid had is still being torn down: try again shortly
            if (attempt == 20) throw new AssertionError("I/O Connect for queue " + qid + " keeps failing: "
                    + (cqe == null ? "no completion" : Status.describe(CompletionQueueEntry.status(MemorySegment.ofArray(cqe)))
                    + " dw0 0x" + Integer.toHexString(CompletionQueueEntry.dw0(MemorySegment.ofArray(cqe)))));
            Thread.sleep(20);
        }
    }

    MemorySegment noData(int opcode) {
        MemorySegment s = sqe(opcode);
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, 0, SglDescriptor.ID_KEYED);
        return s;
    }

    static int ok(Host h, MemorySegment sqe) throws InterruptedException {
        h.send(copy(sqe, 64));
        byte[] b = h.response(5, TimeUnit.SECONDS);
        assertTrue(b != null, "no completion for opcode 0x" + Integer.toHexString(SubmissionQueueEntry.opcode(sqe)));
        MemorySegment cqe = MemorySegment.ofArray(b);
        assertEquals(Status.SUCCESS, Status.code(CompletionQueueEntry.status(cqe)),
                "opcode 0x" + Integer.toHexString(SubmissionQueueEntry.opcode(sqe)));
        return CompletionQueueEntry.dw0(cqe);
    }
}
