package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.BufferPool;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.LogPageId;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One host address cannot take more than its share of a reactor's buffers, however many controllers and
 * connections it opens: not with writes whose data it never sends, not with reads whose data it never reads. Raw
 * hosts from two loopback addresses (127.0.0.2 the greedy one, 127.0.0.3 the other) against one reactor.
 */
class TcpBufferQuotaTest {
    static final String NQN = "nqn.2024-01.io.sanport:quota";
    static final String GREEDY = "127.0.0.2";
    static final String OTHER = "127.0.0.3";
    static final int LBA = 512;
    static final int MDTS = 128 * 1024;
    /** 192 buffers: 96 may be host-paced, 32 per controller, 64 per host address (the defaults). */
    static final int BUFFERS = 192;
    static final int SHARE = TargetOptions.DEFAULT_HOST_PACED_PER_HOST;
    /** Another host's commands complete within this while the greedy one holds its share. */
    static final long PROMPT_MS = 5_000;

    IoProcessor iop;
    Target target;
    int port;
    BufferPool pool;
    final List<RawHost> hosts = new ArrayList<>();

    void start(long dataTimeoutMs) throws Exception {
        iop = IoProcessor.start(1, new ReactorConfig(64, MDTS, BUFFERS), List.of(BlockDevices.open("ram:32M")));
        target = Target.start(TargetConfig.forDevice("ram:32M", NQN, "tcp", "127.0.0.1", 0),
                new TargetOptions(0, 50, 5000).withLimits(
                        ConnectionLimits.DEFAULT.withTimeouts(60_000, 60_000, dataTimeoutMs, 60_000)), iop);
        port = target.port(1).boundPort();
        pool = target.reactors().getFirst().buffers();
        assertEquals(BUFFERS, pool.capacity());
    }

    @AfterEach
    void stop() throws Exception {
        for (RawHost h : hosts) {
            h.close();
        }
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    int held() {
        return pool.capacity() - pool.available();
    }

    RawHost host(String from, int receiveBuffer) throws IOException {
        RawHost h = RawHost.connectFrom(from, port, receiveBuffer);
        hosts.add(h);
        return h;
    }

    /** An enabled controller of {@code subnqn} whose keep-alive outlasts the test ({@code katoMs}). */
    RawHost admin(String from, String subnqn, long katoMs, int receiveBuffer) throws IOException {
        RawHost admin = host(from, receiveBuffer);
        admin.adminQueue(subnqn, katoMs);
        return admin;
    }

    RawHost ioQueue(String from, RawHost admin, int sqsize, int receiveBuffer) throws IOException {
        admin.setNumberOfQueues(1);
        RawHost io = host(from, receiveBuffer);
        RawHost.ok(io.connect(1, sqsize, 0, admin.cntlid, NQN));
        return io;
    }

    static MemorySegment transfer(int opcode, int cid, long slba, int bytes) {
        MemorySegment s = RawHost.sqe(opcode);
        SubmissionQueueEntry.cid(s, cid);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, bytes / LBA - 1);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, bytes, SglDescriptor.ID_TCP_TRANSPORT);
        return s;
    }

    /** Writes (their data through R2T + H2CData) and reads back, each with a bound: the other host is served. */
    void otherHostDoesIo(RawHost io, int rounds) throws IOException {
        long deadline = System.nanoTime() + PROMPT_MS * 1_000_000L;
        Random random = new Random(11);
        for (int i = 0; i < rounds; i++) {
            byte[] data = new byte[MDTS];
            random.nextBytes(data);
            long slba = (long) (200 + i) * MDTS / LBA;
            RawHost.ok(io.write(1, slba, data, LBA, false));
            assertArrayEquals(data, RawHost.ok(io.read(1, slba, MDTS / LBA, LBA)).data());
            assertTrue(System.nanoTime() < deadline, "the other host's round " + i + " within " + PROMPT_MS + " ms");
        }
    }

    /** The greedy host's share is full and stays so: no more than {@link #SHARE} buffers. */
    void greedyHoldsExactlyItsShare() throws InterruptedException {
        TcpLimitsTest.await(() -> held() >= SHARE, 5000, "the greedy host takes its share: " + held());
        Thread.sleep(300);
        assertEquals(SHARE, held(), "buffers held by one host address, over all its controllers and queues");
    }

    /**
     * Four controllers from one address, each with 32 writes of 128 KiB whose R2Ts it never answers: within the
     * per-controller quota each, 128 together, more than the reactor's host-paced half (96). The address holds
     * 64; another host's writes (R2T too) and reads go on at once, past the greedy waiters parked before them.
     */
    @Test
    void oneHostsControllersTogetherHoldAtMostItsShareOfStalledWrites() throws Exception {
        start(60_000);
        for (int c = 0; c < 4; c++) {
            RawHost admin = admin(GREEDY, NQN, 120_000, 0);
            RawHost io = ioQueue(GREEDY, admin, 31, 0);
            OutputStream out = new BufferedOutputStream(io.out, 1 << 16);
            for (int i = 0; i < 32; i++) {
                out.write(io.capsule(transfer(IoOpcode.WRITE, 100 + i, (long) (c * 32 + i) * 8, 4096 * 32), null));
            }
            out.flush();
        }
        greedyHoldsExactlyItsShare();
        RawHost admin = admin(OTHER, NQN, 120_000, 0);
        otherHostDoesIo(ioQueue(OTHER, admin, 31, 0), 8);
        // the other host's last buffer goes back once the target has seen its send complete: just after
        TcpLimitsTest.await(() -> held() == SHARE, 2000, "the greedy host still holds its share, no more: " + held());
    }

    /**
     * A host that never reads its socket: 127 reads of 128 KiB on an I/O queue and, on a discovery controller
     * with the longest KATO it can ask for, 36 Get Log Pages of 128 KiB. Its address holds 64 buffers, no more;
     * another host's I/O goes on at once; and once its sends have made no progress for the data timeout, its
     * connections are closed and every buffer comes back.
     */
    @Test
    void aHostThatNeverReadsHoldsAtMostItsShareAndIsShed() throws Exception {
        long stallMs = 2_000;
        start(stallMs);
        RawHost admin = admin(GREEDY, NQN, 120_000, 0);
        RawHost io = ioQueue(GREEDY, admin, 127, 4096);
        RawHost discovery = admin(GREEDY, Nqn.DISCOVERY, 0xFFFFFFFFL, 4096);
        OutputStream out = new BufferedOutputStream(io.out, 1 << 16);
        for (int i = 0; i < 127; i++) {
            out.write(io.capsule(transfer(IoOpcode.READ, 100 + i, (long) i * 8, MDTS), null));
        }
        out.flush();
        out = new BufferedOutputStream(discovery.out, 1 << 16);
        for (int i = 0; i < 36; i++) {
            MemorySegment s = RawHost.sqe(AdminOpcode.GET_LOG_PAGE);
            SubmissionQueueEntry.cid(s, 100 + i);
            SubmissionQueueEntry.cdw10(s, LogPageId.DISCOVERY);
            SubmissionQueueEntry.logPageLength(s, MDTS);
            SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, MDTS, SglDescriptor.ID_TCP_TRANSPORT);
            out.write(discovery.capsule(s, null));
        }
        out.flush();
        greedyHoldsExactlyItsShare();
        long t0 = System.nanoTime();
        RawHost otherIo = ioQueue(OTHER, admin(OTHER, NQN, 120_000, 0), 31, 0);
        otherHostDoesIo(otherIo, 8);
        TcpLimitsTest.await(() -> held() == 0, stallMs + 8_000,
                "the connections that never read were closed after the data timeout: " + held() + " buffers held");
        assertTrue(!"01".equals(targetSocket(io.socket.getLocalPort())), "the target closed the I/O queue that never read");
        RawHost.ok(admin.keepAlive()); // its admin queue, which had nothing to send, lives on
        otherHostDoesIo(otherIo, 2);
        assertTrue(System.nanoTime() - t0 > stallMs * 1_000_000L, "shed by the data timeout, not at once");
    }

    /** The state of the target's socket to the host's {@code clientPort} in /proc/net/tcp, or null when it has none. */
    String targetSocket(int clientPort) throws IOException {
        String local = String.format(":%04X", port);
        String remote = String.format(":%04X", clientPort);
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 5 && f[1].endsWith(local) && f[2].endsWith(remote)) {
                return f[3];
            }
        }
        return null;
    }
}
