package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.libc.Libc;
import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import io.sanport.nvme.tcp.TermReq;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What hosts that misbehave on purpose cannot do to the others: hold the reactor's ring with idle sockets,
 * take every connection, pin buffers with R2Ts never answered, or kill a reactor with one bad completion.
 * Raw sockets and {@link RawHost}s on 127.0.0.1 against one reactor, so every connection shares its ring.
 */
class TcpLimitsTest {
    static final String NQN = "nqn.2024-01.io.sanport:limits";
    static final int LBA = 512;
    /** 64 SQ entries: 127 ring slots for I/O, fewer than the idle sockets below. */
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 32);

    IoProcessor iop;
    Target target;
    int port;
    final List<RawHost> idle = new ArrayList<>();

    void start(TargetOptions options) throws Exception {
        iop = IoProcessor.start(1, SMALL, List.of(BlockDevices.open("ram:16M")));
        target = Target.start(TargetConfig.forDevice("ram:16M", NQN, "tcp", "127.0.0.1", 0), options, iop);
        port = target.port(1).boundPort();
    }

    @AfterEach
    void stop() throws Exception {
        TcpConnection.faultHook = null;
        for (RawHost h : idle) {
            h.close();
        }
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    static TargetOptions with(ConnectionLimits limits) {
        return new TargetOptions(0, 50, 5000).withLimits(limits);
    }

    /** A socket from {@code local} (any 127.x address is this host) that sends nothing. */
    Socket idleFrom(String local) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(local, 0));
        s.setSoTimeout(3000);
        s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
        return s;
    }

    /** Whether the target closed {@code s} at once: EOF within the socket's timeout, no bytes. */
    static boolean closedByTarget(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            return true; // reset
        }
    }

    static void await(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(10);
        }
    }

    /**
     * The target's socket from the host's {@code clientPort} in TCP state ESTABLISHED, read from
     * /proc/net/tcp: its "tr" (timer) field, or null when the target has no such socket open any more.
     */
    String targetSocketTimer(int clientPort) throws IOException {
        String local = String.format(":%04X", port);
        String remote = String.format(":%04X", clientPort);
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 5 && f[1].endsWith(local) && f[2].endsWith(remote) && f[3].equals("01")) {
                return f[5].substring(0, 2);
            }
        }
        return null;
    }

    RawHost admin() throws IOException {
        RawHost admin = RawHost.connect(port);
        admin.adminQueue(NQN, 5000);
        admin.setNumberOfQueues(1);
        return admin;
    }

    RawHost ioQueue(RawHost admin) throws IOException {
        RawHost io = RawHost.connect(port);
        RawHost.ok(io.connect(1, 31, 0, admin.cntlid, NQN));
        return io;
    }

    /** A write and its read-back through a fresh admin and I/O queue. */
    void legitimateIo() throws IOException {
        try (RawHost admin = admin(); RawHost io = ioQueue(admin)) {
            byte[] block = new byte[4096];
            new Random(3).nextBytes(block);
            RawHost.ok(io.write(1, 8, block, LBA, false));
            assertArrayEquals(block, RawHost.ok(io.read(1, 8, 8, LBA)).data());
        }
    }

    /** An idle socket costs a small staging buffer; a queue gets the full 64 KiB once its Connect sized it. */
    @Test
    void idleSocketsCostASmallStagingBuffer() throws Exception {
        start(new TargetOptions(0, 50, 5000));
        for (int i = 0; i < 10; i++) {
            idle.add(RawHost.open(port, false, false));
        }
        try (RawHost admin = admin(); RawHost io = ioQueue(admin)) {
            io.sanport.iop.Reactor r = target.reactors().getFirst();
            TcpConnections.Sweep sweep = TcpTransport.connections(target).sweep(r);
            await(() -> {
                try {
                    return r.call(x -> sweep.live().size()).get() == 12;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, 3000, "12 connections");
            List<Integer> sizes = r.call(x -> sweep.live().stream().map(c -> c.receiver().stageSize()).sorted().toList())
                    .get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(java.util.Collections.nCopies(10, PduReceiver.SMALL_STAGE_SIZE), sizes.subList(0, 10));
            assertEquals(List.of(PduReceiver.STAGE_SIZE, PduReceiver.STAGE_SIZE), sizes.subList(10, 12));
            byte[] block = new byte[64 * 1024];
            new Random(5).nextBytes(block);
            RawHost.ok(io.write(1, 0, block, LBA, false));
            assertArrayEquals(block, RawHost.ok(io.read(1, 0, 128, LBA)).data());
        }
    }

    /**
     * More idle sockets than the reactor has ring slots for I/O: each holds a receive, and a legitimate host on
     * the same reactor must still get its I/O done (the freeze: every slot held by a RECV).
     */
    @Test
    void idleSocketsDoNotFreezeTheReactor() throws Exception {
        start(new TargetOptions(0, 50, 5000));
        for (int i = 0; i < 200; i++) {
            idle.add(RawHost.open(port, false, false));
        }
        Thread.sleep(200); // let the target accept them all and post their receives
        legitimateIo();
        assertTrue(target.reactors().getFirst().capacity() < 200, "the test needs more sockets than I/O slots");
    }

    /** Over the total cap, over the per-address cap, or over a reactor's connection slots: closed at once. */
    @Test
    void connectionsOverACapAreClosedAtOnce() throws Exception {
        start(with(ConnectionLimits.DEFAULT.withMaxConnections(8, 3)));
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                open.add(idleFrom("127.0.0.1"));
            }
            Socket fourth = idleFrom("127.0.0.1");
            open.add(fourth);
            assertTrue(closedByTarget(fourth), "a 4th connection from one address is over its cap of 3");
            for (int i = 0; i < 3; i++) {
                open.add(idleFrom("127.0.0." + (2 + i)));
            }
            for (int i = 0; i < 2; i++) {
                open.add(idleFrom("127.0.0.5"));
            }
            Socket ninth = idleFrom("127.0.0.6");
            open.add(ninth);
            assertTrue(closedByTarget(ninth), "a 9th connection is over the target's cap of 8");
            TcpConnections all = TcpTransport.connections(target);
            assertEquals(8, all.count());
            open.getFirst().close();
            await(() -> all.count() == 7, 5000, "a closed connection leaves the count");
            try (RawHost h = RawHost.connect(port)) {
                h.adminQueue(NQN, 5000); // room again for one
            }
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    @Test
    void aReactorAdmitsNoMoreConnectionsThanItHasSlotsFor() throws Exception {
        iop = IoProcessor.start(1, SMALL.withConnections(2), List.of(BlockDevices.open("ram:16M")));
        target = Target.start(TargetConfig.forDevice("ram:16M", NQN, "tcp", "127.0.0.1", 0),
                new TargetOptions(0, 50, 5000), iop);
        port = target.port(1).boundPort();
        assertEquals(2, target.reactors().getFirst().connectionRoom());
        try (Socket a = idleFrom("127.0.0.1"); Socket b = idleFrom("127.0.0.1"); Socket c = idleFrom("127.0.0.1")) {
            assertTrue(closedByTarget(c), "the reactor keeps slots for 2 connections only");
            assertFalse(closedByTarget(a));
        }
    }

    /** A socket that sends no ICReq, or part of one, is closed after the ICReq timeout. */
    @Test
    void noICReqIsClosedAfterTheTimeout() throws Exception {
        start(with(ConnectionLimits.DEFAULT.withTimeouts(300, 60_000, 60_000, 60_000)));
        try (Socket silent = idleFrom("127.0.0.1"); Socket partial = idleFrom("127.0.0.1")) {
            partial.getOutputStream().write(new byte[64]);
            long t0 = System.nanoTime();
            assertTrue(closedByTarget(silent), "no ICReq in 3 s");
            assertTrue(closedByTarget(partial), "half an ICReq in 3 s");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 200, "closed after " + ms + " ms: before the timeout");
            await(() -> TcpTransport.connections(target).count() == 0, 3000, "both are gone");
        }
    }

    /** After the ICResp, a connection with no Connect is closed after the connect timeout. */
    @Test
    void noConnectIsClosedAfterTheTimeout() throws Exception {
        start(with(ConnectionLimits.DEFAULT.withTimeouts(60_000, 300, 60_000, 60_000)));
        try (RawHost h = RawHost.connect(port)) {
            h.socket.setSoTimeout(3000);
            assertEquals(-1, h.in.read(), "closed after the ICResp with no Connect");
        }
    }

    /**
     * An R2T never answered: the connection ends with a C2HTermReq after the data timeout and the command's pool
     * buffer goes back; the host's admin queue on the same reactor carries on.
     */
    @Test
    void anUnansweredR2TEndsTheConnectionAndFreesItsBuffer() throws Exception {
        start(with(ConnectionLimits.DEFAULT.withTimeouts(60_000, 60_000, 300, 60_000)));
        io.sanport.iop.BufferPool pool = target.reactors().getFirst().buffers();
        int free = pool.capacity();
        try (RawHost admin = admin(); RawHost io = ioQueue(admin)) {
            io.socket.setSoTimeout(5000);
            int ttag = TcpConnectionTest.r2tWrite(io, 7, 64 * 1024);
            assertTrue(ttag >= 0);
            assertTrue(pool.available() < free, "the write holds a buffer");
            TcpConnectionTest.assertTerminated(io, TermReq.FES_PDU_SEQUENCE_ERROR, 0);
            assertEquals(-1, io.in.read());
            await(() -> pool.available() == free, 3000, "the buffer went back: " + pool.available() + " of " + free);
            RawHost.ok(admin.keepAlive());
        }
    }

    /** In-capsule data announced by PLEN but never sent holds a buffer too: the same data timeout ends it. */
    @Test
    void inCapsuleDataThatNeverComesEndsTheConnection() throws Exception {
        start(with(ConnectionLimits.DEFAULT.withTimeouts(60_000, 60_000, 300, 60_000)));
        io.sanport.iop.BufferPool pool = target.reactors().getFirst().buffers();
        int free = pool.capacity();
        try (RawHost admin = admin(); RawHost io = ioQueue(admin)) {
            io.socket.setSoTimeout(5000);
            byte[] pdu = TcpConnectionTest.writeCapsule(io, 9, 0, new byte[8192]);
            io.send(java.util.Arrays.copyOf(pdu, 72 + 100)); // the header and 100 of 8192 bytes
            await(() -> pool.available() < free, 3000, "the write took a buffer");
            TcpConnectionTest.assertTerminated(io, TermReq.FES_PDU_SEQUENCE_ERROR, 0);
            await(() -> pool.available() == free, 3000, "the buffer went back: " + pool.available() + " of " + free);
            RawHost.ok(admin.keepAlive());
        }
    }

    /** Accepted sockets get TCP keepalive (its timer runs on an idle connection). */
    @Test
    void acceptedSocketsKeepAlive() throws Exception {
        start(new TargetOptions(0, 50, 5000));
        try (RawHost h = RawHost.connect(port)) {
            int clientPort = h.socket.getLocalPort();
            await(() -> {
                try {
                    return "02".equals(targetSocketTimer(clientPort));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, 3000, "the keepalive timer of the target's socket runs");
        }
    }

    /**
     * A C2HTermReq queued behind a send the host never reads (its window closed) does not keep the connection
     * forever: after the term timeout it is closed without it.
     */
    @Test
    void aTermReqBehindABlockedSendStillCloses() throws Exception {
        iop = IoProcessor.start(1, new ReactorConfig(64, 128 * 1024, 160), List.of(BlockDevices.open("ram:16M")));
        target = Target.start(TargetConfig.forDevice("ram:16M", NQN, "tcp", "127.0.0.1", 0),
                with(ConnectionLimits.DEFAULT.withTimeouts(60_000, 60_000, 60_000, 300)), iop);
        port = target.port(1).boundPort();
        try (RawHost admin = admin(); Socket s = new Socket()) {
            s.setReceiveBufferSize(4096); // a closed window soon: the target's sends block
            s.connect(new InetSocketAddress("127.0.0.1", port));
            RawHost io = RawHost.wrap(s);
            io.initialize();
            RawHost.ok(io.connect(1, 127, 0, admin.cntlid, NQN));
            OutputStream out = new BufferedOutputStream(io.out, 1 << 16);
            for (int i = 0; i < 127; i++) { // 127 x 128 KiB read, never read back: far more than the socket buffers
                MemorySegment sqe = RawHost.sqe(IoOpcode.READ);
                SubmissionQueueEntry.cid(sqe, 100 + i);
                SubmissionQueueEntry.nsid(sqe, 1);
                SubmissionQueueEntry.nlb(sqe, 256 - 1);
                SglDescriptor.set(sqe, SubmissionQueueEntry.OFFSET_DPTR, 0, 128 * 1024, SglDescriptor.ID_TCP_TRANSPORT);
                out.write(io.capsule(sqe, null));
            }
            out.flush();
            Thread.sleep(500);
            byte[] bad = new byte[8];
            bad[0] = (byte) 0x7F; // no such PDU type: a C2HTermReq is queued behind the blocked send
            bad[2] = 8;
            bad[4] = 8;
            io.send(bad);
            int clientPort = s.getLocalPort();
            await(() -> {
                try {
                    return targetSocketTimer(clientPort) == null;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, 5000, "the target closed the connection whose C2HTermReq could not be sent");
            RawHost.ok(admin.keepAlive());
        }
    }

    /**
     * A receive, send or accept handler that throws ends only its own connection (a C2HTermReq or a close): the
     * other connections on the same reactor go on, and so does accepting.
     */
    @Test
    void aThrowingHandlerEndsOnlyItsConnection() throws Exception {
        start(new TargetOptions(0, 50, 5000));
        try (RawHost admin = admin(); RawHost good = ioQueue(admin)) {
            byte[] block = new byte[4096];
            for (String handler : List.of("receive", "send", "accept")) {
                Socket s = new Socket();
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                int victim = s.getLocalPort();
                java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean(
                        !handler.equals("receive"));
                TcpConnection.faultHook = (h, peerPort) -> {
                    if (h.equals(handler) && peerPort == victim && armed.get()) {
                        throw new IllegalStateException("injected into the " + h + " handler");
                    }
                };
                s.connect(new InetSocketAddress("127.0.0.1", port));
                try (RawHost v = RawHost.wrap(s)) {
                    v.socket.setSoTimeout(5000);
                    if (handler.equals("receive")) {
                        v.initialize();
                        armed.set(true);
                        v.send(v.capsule(RawHost.sqe(0x18), null)); // its receive completion throws
                        TcpConnectionTest.assertTerminated(v, TermReq.FES_PDU_SEQUENCE_ERROR, 0);
                    } else if (handler.equals("send")) {
                        v.initialize(); // the ICResp went out; its send completion throws: closed
                    }
                    assertEquals(-1, v.in.read(), handler + ": the victim's connection is closed");
                }
                TcpConnection.faultHook = null;
                RawHost.ok(good.write(1, 0, block, LBA, true));
                RawHost.ok(good.read(1, 0, 8, LBA));
            }
            legitimateIo(); // new connections are still accepted
            assertFalse(target.reactors().getFirst().terminated().isDone(), "the reactor runs");
        }
    }

    /**
     * Out of file descriptors (RLIMIT_NOFILE lowered to the lowest free one), accepts fail with EMFILE: the
     * listener backs off (10 ms doubling) instead of spinning, and accepts what waited in the backlog once
     * descriptors are back.
     */
    @Test
    void acceptBacksOffWhenOutOfDescriptors() throws Exception {
        start(new TargetOptions(0, 50, 5000));
        TcpStats stats = TcpTransport.stats(target);
        List<Socket> waiting = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = new Socket();
            s.bind(new InetSocketAddress("127.0.0.1", 0)); // the descriptor exists before the limit drops
            waiting.add(s);
        }
        long[] limit = Libc.getrlimit(Libc.RLIMIT_NOFILE);
        long failures;
        try {
            Libc.setrlimit(Libc.RLIMIT_NOFILE, lowestFreeDescriptor(), limit[1]);
            for (Socket s : waiting) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 3000); // completes in the listen backlog
            }
            Thread.sleep(600);
            failures = stats.acceptFailures();
        } finally {
            Libc.setrlimit(Libc.RLIMIT_NOFILE, limit[0], limit[1]);
        }
        assertTrue(failures >= 1, "no accept failed: the test did not run out of descriptors");
        assertTrue(failures <= 12, failures + " failed accepts in 600 ms: no back-off");
        for (Socket s : waiting) {
            try (RawHost h = RawHost.wrap(s)) {
                h.initialize(); // accepted once descriptors were back
            }
        }
        legitimateIo();
    }

    /** The lowest descriptor number not open in this process: the next one open(2) would return. */
    static long lowestFreeDescriptor() throws IOException {
        java.util.Set<Integer> open = new java.util.HashSet<>();
        try (var list = Files.list(Path.of("/proc/self/fd"))) {
            list.forEach(p -> open.add(Integer.parseInt(p.getFileName().toString())));
        }
        int fd = 0;
        while (open.contains(fd)) {
            fd++;
        }
        return fd;
    }
}
