package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.Wire;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.H2CData;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import io.sanport.nvme.tcp.TermReq;
import io.sanport.hostdriver.DisconnectReason;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetStats;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.transport.tcp.RawHost.Completion;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The receive path of a connection ({@link PduReceiver}): PDUs parsed out of one staging buffer however the stream is cut
 * (many in one segment, a header split at every byte, in-capsule data half staged), large data received
 * straight into the request's buffer, and no heap allocation on the reactor thread per I/O. One reactor, so
 * every connection and its counters live on one thread.
 */
class TcpConnectionTest {
    static final String NQN = "nqn.2024-01.io.sanport:conn";
    static final int LBA = 512;
    static final int BLOCK = 4096;

    IoProcessor iop;
    Target target;
    TcpStats stats;
    int port;

    @BeforeEach
    void start() throws Exception {
        BlockDevice ram = BlockDevices.open("ram:64M");
        iop = IoProcessor.start(1, new ReactorConfig(256, 128 * 1024, 64), List.of(ram));
        TargetConfig c = TargetConfig.forDevice("ram:64M", NQN, "tcp", "127.0.0.1", 0);
        target = Target.start(c, new TargetOptions(0, 100, 5000), iop);
        port = target.port(1).boundPort();
        stats = TcpTransport.stats(target);
    }

    @AfterEach
    void stop() throws Exception {
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    RawHost admin() throws IOException {
        RawHost admin = RawHost.connect(port);
        admin.adminQueue(NQN, 5000);
        admin.setNumberOfQueues(1);
        return admin;
    }

    RawHost ioQueue(RawHost admin, boolean hdgst, boolean ddgst) throws IOException {
        RawHost io = RawHost.connect(port, hdgst, ddgst);
        RawHost.ok(io.connect(1, 127, 0, admin.cntlid, NQN));
        return io;
    }

    static byte[] writeCapsule(RawHost h, int cid, long slba, byte[] data) {
        MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
        SubmissionQueueEntry.cid(s, cid);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, data.length / LBA - 1);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, data.length, SglDescriptor.ID_DATA_OFFSET);
        return h.capsule(s, data);
    }

    static byte[] readCapsule(RawHost h, int cid, long slba, int length) {
        MemorySegment s = RawHost.sqe(IoOpcode.READ);
        SubmissionQueueEntry.cid(s, cid);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, length / LBA - 1);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, length, SglDescriptor.ID_TCP_TRANSPORT);
        return h.capsule(s, null);
    }

    static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        parts.forEach(all::writeBytes);
        return all.toByteArray();
    }

    /** Sends {@code bytes} cut at {@code cuts}, pausing between pieces so the target sees them apart. */
    static void sendInPieces(RawHost h, byte[] bytes, int... cuts) throws Exception {
        int from = 0;
        for (int cut : cuts) {
            h.out.write(bytes, from, cut - from);
            h.out.flush();
            Thread.sleep(1);
            from = cut;
        }
        h.out.write(bytes, from, bytes.length - from);
        h.out.flush();
    }

    @Test
    void pipelinedCommandsInOneSegmentCostFewReceives() throws Exception {
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, false)) {
            int n = 64;
            Random random = new Random(7);
            byte[][] blocks = new byte[n][BLOCK];
            List<byte[]> writes = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                random.nextBytes(blocks[i]);
                writes.add(writeCapsule(io, 100 + i, 8L * i, blocks[i]));
            }
            long copied = stats.payloadBytesCopied();
            io.send(concat(writes)); // 64 x 4168 bytes: spans several staging buffers, capsules cut anywhere
            for (Completion c : io.collect(n).values()) {
                assertTrue(c.ok(), c.toString());
            }
            assertEquals((long) n * BLOCK, stats.payloadBytesCopied() - copied, "in-capsule data is staged, then copied");

            List<byte[]> reads = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                reads.add(readCapsule(io, 200 + i, 8L * i, BLOCK));
            }
            long recvs = stats.recvs();
            long capsules = stats.capsules();
            io.send(concat(reads)); // 64 x 72 bytes: one segment
            Map<Integer, Completion> done = io.collect(n);
            assertEquals(n, stats.capsules() - capsules);
            long used = stats.recvs() - recvs;
            assertTrue(used <= 4, n + " pipelined capsules took " + used + " RECVs");
            for (int i = 0; i < n; i++) {
                Completion c = done.get(200 + i);
                assertTrue(c.ok(), c.toString());
                assertArrayEquals(blocks[i], c.data(), "block " + i);
            }
        }
    }

    @Test
    void headerSplitAtEveryByteBoundary() throws Exception {
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, true, true)) {
            byte[] block = new byte[BLOCK];
            new Random(8).nextBytes(block);
            RawHost.ok(io.write(1, 0, block, LBA, true));
            // a read capsule with its header digest (76 bytes), cut at each byte in turn
            byte[] probe = readCapsule(io, 1, 0, BLOCK);
            long recvs = stats.recvs();
            for (int cut = 1; cut < probe.length; cut++) {
                int cid = 300 + cut;
                byte[] pdu = readCapsule(io, cid, 0, BLOCK);
                sendInPieces(io, pdu, cut);
                Completion c = io.await(cid, null, BLOCK);
                assertTrue(c.ok(), "cut at " + cut + ": " + c);
                assertArrayEquals(block, c.data(), "cut at " + cut);
            }
            int commands = probe.length - 1;
            assertTrue(stats.recvs() - recvs > commands, "the pieces came in separate RECVs: "
                    + (stats.recvs() - recvs) + " for " + commands + " commands");
            // and one whole capsule byte by byte (TCP_NODELAY: a segment each)
            byte[] pdu = readCapsule(io, 400, 0, BLOCK);
            for (byte b : pdu) {
                io.out.write(b);
                io.out.flush();
            }
            assertArrayEquals(block, RawHost.ok(io.await(400, null, BLOCK)).data());
        }
    }

    @Test
    void inCapsuleDataPartlyStaged() throws Exception {
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, true)) {
            Random random = new Random(9);
            byte[] a = new byte[8192];
            byte[] b = new byte[8192];
            random.nextBytes(a);
            random.nextBytes(b);
            byte[] first = writeCapsule(io, 10, 0, a);
            byte[] second = writeCapsule(io, 11, 16, b);
            byte[] both = concat(List.of(first, second));
            long copied = stats.payloadBytesCopied();
            // the header and part of the first capsule's data; then its rest, its digest, the second capsule's
            // header and part of its data; then the rest
            int hdr = CapsuleCommand.HLEN;
            sendInPieces(io, both, hdr + 100, hdr + 4096, first.length - 2, first.length + hdr + 3000);
            Map<Integer, Completion> done = io.collect(2);
            assertTrue(done.get(10).ok() && done.get(11).ok(), done.toString());
            assertEquals(2L * 8192, stats.payloadBytesCopied() - copied);
            assertArrayEquals(a, RawHost.ok(io.read(1, 0, 16, LBA)).data());
            assertArrayEquals(b, RawHost.ok(io.read(1, 16, 16, LBA)).data());
            // a corrupted data digest on a split capsule still fails just that command
            byte[] bad = writeCapsule(io, 12, 32, a);
            bad[bad.length - 1] ^= 1;
            sendInPieces(io, bad, hdr + 10);
            Completion c = io.await(12, null, 0);
            assertEquals(Status.DATA_XFER_ERROR, c.code());
        }
    }

    @Test
    void largeH2CDataGoesStraightIntoTheBuffer() throws Exception {
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, true, true)) {
            byte[] big = new byte[128 * 1024];
            new Random(10).nextBytes(big);
            MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
            SubmissionQueueEntry.cid(s, 20);
            SubmissionQueueEntry.nsid(s, 1);
            SubmissionQueueEntry.slba(s, 1024);
            SubmissionQueueEntry.nlb(s, big.length / LBA - 1);
            SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, big.length, SglDescriptor.ID_TCP_TRANSPORT);
            io.send(io.capsule(s, null));
            MemorySegment r2t = io.readPdu();
            assertEquals(PduHeader.TYPE_R2T, PduHeader.type(r2t));
            long copied = stats.payloadBytesCopied();
            long direct = stats.payloadBytesDirect();
            // the H2CData PDU: its header cut at every byte of the first 28, then the data in two pieces
            byte[] pdu = h2cPdu(io, 20, R2T.ttag(r2t), big);
            for (int cut = 1; cut < H2CData.HLEN + 4; cut++) {
                io.out.write(pdu, cut - 1, 1);
                io.out.flush();
                Thread.sleep(1);
            }
            sendInPieces(io, Arrays.copyOfRange(pdu, H2CData.HLEN + 3, pdu.length), 2000);
            RawHost.ok(io.await(20, null, 0));
            long staged = stats.payloadBytesCopied() - copied;
            long straight = stats.payloadBytesDirect() - direct;
            assertEquals(big.length, staged + straight);
            assertTrue(straight >= big.length - 64 * 1024, "at most a staging buffer is copied: " + staged);
            assertArrayEquals(big, RawHost.ok(io.read(1, 1024, big.length / LBA, LBA)).data());
        }
    }

    static byte[] h2cPdu(RawHost h, int cid, int ttag, byte[] data) {
        int plen = H2CData.HLEN + 4 + data.length + 4;
        MemorySegment p = MemorySegment.ofArray(new byte[plen]);
        PduHeader.set(p, PduHeader.TYPE_H2C_DATA, PduHeader.FLAG_HDGSTF | PduHeader.FLAG_DDGSTF | PduHeader.FLAG_LAST_PDU,
                H2CData.HLEN, H2CData.HLEN + 4, plen);
        H2CData.cccid(p, cid);
        H2CData.ttag(p, ttag);
        H2CData.datao(p, 0);
        H2CData.datal(p, data.length);
        h.crc.put(p, 0, H2CData.HLEN);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, p, H2CData.HLEN + 4, data.length);
        h.crc.put(p, H2CData.HLEN + 4, data.length);
        return p.toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * H2CData fills only a command that sent its R2T and is still waiting for data, from where its data stands;
     * anything else gets a C2HTermReq naming the field, and ends that connection.
     */
    @Test
    void h2cDataOnlyAnswersAnOutstandingR2T() throws Exception {
        byte[] data = new byte[2 * BLOCK];
        // no command behind this TTAG has asked for data
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, false)) {
            io.h2cData(5, 1, data, 0, BLOCK);
            assertTerminated(io, TermReq.FES_INVALID_HEADER_FIELD, H2CData.OFFSET_TTAG);
        }
        // the R2T came, but the data does not start where the command's data stands (0)
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, false)) {
            int ttag = r2tWrite(io, 7, data.length);
            io.h2cData(7, ttag, data, BLOCK, BLOCK);
            assertTerminated(io, TermReq.FES_PDU_SEQUENCE_ERROR, H2CData.OFFSET_DATAO);
        }
        // all of the data is in: the command waits for no more
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, false)) {
            int ttag = r2tWrite(io, 9, data.length);
            io.h2cData(9, ttag, data, 0, data.length);
            io.h2cData(9, ttag, data, 0, BLOCK);
            assertTerminated(io, TermReq.FES_INVALID_HEADER_FIELD, H2CData.OFFSET_TTAG);
        }
    }

    /**
     * Strict framing: a CapsuleCmd without data whose PDO points past its PLEN is refused with a C2HTermReq naming
     * PDO, and a PLEN of 2^32 - 1 with a C2HTermReq naming PLEN (no length or offset sum can wrap); the admin
     * queue of the same host carries on.
     */
    @Test
    void pdoPastPlenAndHugePlenAreRefused() throws Exception {
        try (RawHost admin = admin()) {
            try (RawHost io = ioQueue(admin, false, false)) {
                byte[] pdu = readCapsule(io, 5, 0, BLOCK); // 72 bytes, no data
                PduHeader.pdo(MemorySegment.ofArray(pdu), 200);
                io.send(pdu);
                assertTerminated(io, TermReq.FES_INVALID_HEADER_FIELD, PduHeader.OFFSET_PDO);
            }
            try (RawHost io = ioQueue(admin, true, true)) {
                byte[] pdu = writeCapsule(io, 6, 0, new byte[BLOCK]);
                PduHeader.plen(MemorySegment.ofArray(pdu), 0xFFFFFFFFL);
                io.send(pdu);
                assertTerminated(io, TermReq.FES_INVALID_HEADER_FIELD, PduHeader.OFFSET_PLEN);
            }
            RawHost.ok(admin.keepAlive());
            // the metrics count both C2HTermReqs and, once the queues are gone, both ends as protocol errors
            long deadline = System.nanoTime() + 5_000_000_000L;
            TargetStats.PortTotals p;
            do {
                Thread.sleep(10);
                p = target.stats().snapshot().ports().getFirst();
            } while (p.disconnects()[DisconnectReason.PROTOCOL_ERROR.ordinal()] < 2 && System.nanoTime() < deadline);
            assertEquals(2, p.termReqs()[TermReq.FES_INVALID_HEADER_FIELD]);
            assertEquals(2, p.disconnects()[DisconnectReason.PROTOCOL_ERROR.ordinal()]);
            assertEquals(0, p.disconnects()[DisconnectReason.HOST.ordinal()]);
            assertEquals(1, p.connections(), "the admin queue");
        }
    }

    /** Sends a write of {@code length} bytes by R2T and returns the TTAG of the R2T that answers it. */
    static int r2tWrite(RawHost io, int cid, int length) throws IOException {
        MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
        SubmissionQueueEntry.cid(s, cid);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.nlb(s, length / LBA - 1);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, length, SglDescriptor.ID_TCP_TRANSPORT);
        io.send(io.capsule(s, null));
        MemorySegment r2t = io.readPdu();
        assertEquals(PduHeader.TYPE_R2T, PduHeader.type(r2t));
        assertEquals(cid, R2T.cccid(r2t));
        assertEquals(length, R2T.r2tl(r2t));
        return R2T.ttag(r2t);
    }

    /** The next PDU other than a CapsuleResp is a C2HTermReq with {@code fes} at {@code fei}. */
    static void assertTerminated(RawHost io, int fes, long fei) throws IOException {
        MemorySegment term = io.readPdu();
        while (PduHeader.type(term) == PduHeader.TYPE_CAPSULE_RESP) {
            term = io.readPdu();
        }
        assertEquals(PduHeader.TYPE_C2H_TERM_REQ, PduHeader.type(term));
        assertEquals(fes, TermReq.fes(term));
        assertEquals(fei, TermReq.fei(term));
    }

    /**
     * 100k 4 KiB reads at queue depth 32 through one I/O queue: after warm-up the reactor thread (receive,
     * parse, READ_FIXED, writev, and the metrics' counters and latency histogram) allocates (almost) nothing per
     * I/O, like iop's HotPathAllocationTest; the namespace's and port's counters count each read once.
     */
    @Test
    void readsAllocateNothingOnTheReactorThread() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        long tid = target.reactors().getFirst().thread().threadId();
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, false)) {
            ReadLoop loop = new ReadLoop(io, 32);
            loop.run(20_000);
            TargetStats.Snapshot s0 = target.stats().snapshot();
            long before = threads.getThreadAllocatedBytes(tid);
            long capsules = stats.capsules();
            long recvs = stats.recvs();
            long sends = stats.sends();
            long t0 = System.nanoTime();
            int n = 100_000;
            loop.run(n);
            long nanos = System.nanoTime() - t0;
            long after = threads.getThreadAllocatedBytes(tid);
            double perIo = (double) (after - before) / n;
            long commands = stats.capsules() - capsules;
            System.out.printf("%d reads in %d ms (%.0f IOPS): reactor thread allocated %d bytes (%.4f per I/O); "
                            + "%.3f RECVs and %.3f writevs per command%n", n, nanos / 1_000_000, n * 1e9 / nanos,
                    after - before, perIo, (double) (stats.recvs() - recvs) / commands,
                    (double) (stats.sends() - sends) / commands);
            assertTrue(before > 0 && after >= before, "the allocation counter must work: " + before + ", " + after);
            assertTrue(perIo < 1.0, "the reactor thread allocated " + (after - before) + " bytes for " + n + " reads");
            TargetStats.Snapshot s1 = target.stats().snapshot();
            TargetStats.IoTotals ns0 = s0.namespaces().getFirst().io();
            TargetStats.IoTotals ns1 = s1.namespaces().getFirst().io();
            assertEquals(n, ns1.reads() - ns0.reads());
            assertEquals((long) n * BLOCK, ns1.bytesRead() - ns0.bytesRead());
            assertEquals(n, ns1.readLatency().count() - ns0.readLatency().count());
            assertEquals(n, s1.ports().getFirst().io().reads() - s0.ports().getFirst().io().reads());
            assertEquals(0, ns1.errors());
        }
    }

    /**
     * 40k writes at queue depth 32, half 4 KiB in-capsule, half 32 KiB by R2T + H2CData: after warm-up the
     * reactor thread (parse, R2T, data into pool buffers, WRITE_FIXED, writev) allocates (almost) nothing per I/O.
     */
    @Test
    void writesAllocateNothingOnTheReactorThread() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        long tid = target.reactors().getFirst().thread().threadId();
        try (RawHost admin = admin(); RawHost io = ioQueue(admin, false, false)) {
            WriteLoop loop = new WriteLoop(io, 32);
            loop.run(10_000);
            long writes0 = target.stats().snapshot().namespaces().getFirst().io().writes();
            long before = threads.getThreadAllocatedBytes(tid);
            int n = 40_000;
            loop.run(n);
            long after = threads.getThreadAllocatedBytes(tid);
            assertEquals(n, target.stats().snapshot().namespaces().getFirst().io().writes() - writes0);
            double perIo = (double) (after - before) / n;
            System.out.printf("%d writes: reactor thread allocated %d bytes (%.4f per I/O)%n", n, after - before, perIo);
            assertTrue(perIo < 1.0, "the reactor thread allocated " + (after - before) + " bytes for " + n + " writes");
        }
    }

    /** A closed loop of writes: even slots 4 KiB in-capsule, odd slots 32 KiB answered R2T by one H2CData each. */
    static final class WriteLoop {
        static final int LARGE = 8 * BLOCK;
        final int depth;
        final byte[][] capsules;
        final byte[][] h2c;
        final OutputStream out;
        final DataInputStream in;
        final byte[] pdu = new byte[64];

        WriteLoop(RawHost io, int depth) throws IOException {
            this.depth = depth;
            this.capsules = new byte[depth][];
            this.h2c = new byte[depth][];
            byte[] data = new byte[LARGE];
            new Random(11).nextBytes(data);
            for (int i = 0; i < depth; i++) {
                long slba = (long) i * (LARGE / LBA);
                if (i % 2 == 0) {
                    capsules[i] = writeCapsule(io, i, slba, Arrays.copyOf(data, BLOCK));
                    continue;
                }
                MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
                SubmissionQueueEntry.cid(s, i);
                SubmissionQueueEntry.nsid(s, 1);
                SubmissionQueueEntry.slba(s, slba);
                SubmissionQueueEntry.nlb(s, LARGE / LBA - 1);
                SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, LARGE, SglDescriptor.ID_TCP_TRANSPORT);
                capsules[i] = io.capsule(s, null);
                MemorySegment p = MemorySegment.ofArray(new byte[H2CData.HLEN + LARGE]);
                PduHeader.set(p, PduHeader.TYPE_H2C_DATA, PduHeader.FLAG_LAST_PDU, H2CData.HLEN, H2CData.HLEN,
                        H2CData.HLEN + LARGE);
                H2CData.cccid(p, i);
                H2CData.datao(p, 0);
                H2CData.datal(p, LARGE);
                MemorySegment.copy(MemorySegment.ofArray(data), 0, p, H2CData.HLEN, LARGE);
                h2c[i] = p.toArray(ValueLayout.JAVA_BYTE);
            }
            this.out = new BufferedOutputStream(io.out, 64 * 1024);
            this.in = new DataInputStream(new BufferedInputStream(io.in, 64 * 1024));
        }

        void run(int count) throws IOException {
            int issued = 0;
            for (int i = 0; i < depth; i++) {
                out.write(capsules[i]);
                issued++;
            }
            out.flush();
            int completed = 0;
            while (completed < count) {
                in.readFully(pdu, 0, 8);
                int type = pdu[0] & 0xFF;
                int plen = MemorySegment.ofArray(pdu).get(Wire.U32, PduHeader.OFFSET_PLEN);
                in.readFully(pdu, 8, plen - 8);
                MemorySegment p = MemorySegment.ofArray(pdu);
                if (type == PduHeader.TYPE_R2T) {
                    int cid = R2T.cccid(p);
                    assertEquals(LARGE, R2T.r2tl(p));
                    H2CData.ttag(MemorySegment.ofArray(h2c[cid]), R2T.ttag(p));
                    out.write(h2c[cid]);
                    out.flush();
                    continue;
                }
                assertEquals(PduHeader.TYPE_CAPSULE_RESP, type);
                MemorySegment cqe = p.asSlice(CapsuleResponse.OFFSET_CQE, 16);
                assertTrue(Status.isSuccess(CompletionQueueEntry.status(cqe)), "write failed");
                completed++;
                if (issued < count) {
                    out.write(capsules[CompletionQueueEntry.cid(cqe)]);
                    issued++;
                }
                if (in.available() == 0) {
                    out.flush();
                }
            }
            out.flush();
        }
    }

    /** A lean closed loop of 4 KiB reads: one capsule per slot, reused; responses parsed in place. */
    static final class ReadLoop {
        final RawHost io;
        final int depth;
        final byte[][] capsules;
        final OutputStream out;
        final DataInputStream in;
        final byte[] pdu = new byte[BLOCK + 64];
        long random = 0x9E3779B97F4A7C15L;

        ReadLoop(RawHost io, int depth) throws IOException {
            this.io = io;
            this.depth = depth;
            this.capsules = new byte[depth][];
            for (int i = 0; i < depth; i++) {
                capsules[i] = readCapsule(io, i, 0, BLOCK);
            }
            this.out = new BufferedOutputStream(io.out, 64 * 1024);
            this.in = new DataInputStream(new BufferedInputStream(io.in, 256 * 1024));
        }

        void issue(int slot) throws IOException {
            long x = random;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            random = x;
            MemorySegment s = MemorySegment.ofArray(capsules[slot]).asSlice(CapsuleCommand.OFFSET_SQE, 64);
            SubmissionQueueEntry.slba(s, (x & ((64L << 20) / BLOCK - 1)) * (BLOCK / LBA));
            out.write(capsules[slot]);
        }

        void run(int count) throws IOException {
            int issued = 0;
            for (int i = 0; i < depth; i++) {
                issue(i);
                issued++;
            }
            out.flush();
            int completed = 0;
            while (completed < count) {
                in.readFully(pdu, 0, 8);
                int type = pdu[0] & 0xFF;
                int plen = MemorySegment.ofArray(pdu).get(Wire.U32, PduHeader.OFFSET_PLEN);
                in.readFully(pdu, 8, plen - 8);
                if (type == PduHeader.TYPE_C2H_DATA) {
                    continue;
                }
                assertEquals(PduHeader.TYPE_CAPSULE_RESP, type);
                MemorySegment cqe = MemorySegment.ofArray(pdu).asSlice(CapsuleResponse.OFFSET_CQE, 16);
                assertTrue(Status.isSuccess(CompletionQueueEntry.status(cqe)), "read failed");
                completed++;
                if (issued < count) {
                    issue(CompletionQueueEntry.cid(cqe));
                    issued++;
                }
                if (in.available() == 0) {
                    out.flush();
                }
            }
            out.flush();
        }
    }
}
