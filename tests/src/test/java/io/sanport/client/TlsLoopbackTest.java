package io.sanport.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.nvme.tls.TlsKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NVMe/TCP over TLS 1.3 between sanport's Java host and sanport's target on 127.0.0.1: both cipher suites with
 * verified I/O (the I/O queues' connections are TLS too), discovery saying TLS is required; wrong and missing
 * keys and a plain host refused on a TLS-required port; a TLS host on a plain port fails cleanly; a port where TLS
 * is not required serves both; a host deriving the TLS PSK otherwise than the target (compat vs RFC 8446) is
 * refused; and, through a TCP relay in between, no written block crosses the wire in clear.
 */
class TlsLoopbackTest {
    static final String NQN = "nqn.2026-12.io.sanport:tls";
    static final UUID HOST_ID = UUID.nameUUIDFromBytes("tls-host".getBytes());
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:" + HOST_ID;
    static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    static String newKey(int length, int hh) {
        byte[] k = new byte[length];
        RANDOM.nextBytes(k);
        return TlsKey.format(hh, k);
    }

    Target start(String key, TargetConfig.PortTls tls) throws Exception {
        return start(key, tls, List.of(HOST));
    }

    Target start(String key, TargetConfig.PortTls tls, List<String> hosts) throws Exception {
        return start(key == null ? null : TlsKey.parse(key), tls, hosts);
    }

    Target start(TlsKey key, TargetConfig.PortTls tls, List<String> hosts) throws Exception {
        Path image = dir.resolve("ns.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        TargetConfig cfg = TargetConfig.forDevice(image.toString(), NQN, "tcp", "127.0.0.1", 0, hosts, null, key);
        TargetConfig.PortConfig p = cfg.ports().getFirst();
        cfg = new TargetConfig(cfg.hosts(), List.of(new TargetConfig.PortConfig(p.portId(), p.trtype(), p.adrfam(),
                p.traddr(), p.trsvcid(), p.subsystems(), tls)), cfg.subsystems(), cfg.limits());
        return Target.open(cfg, 1, new ReactorConfig(64, 128 * 1024, 64), TargetOptions.DEFAULT.withDiscoveryPort(0));
    }

    static int port(Target t) {
        return t.ports().getFirst().boundPort();
    }

    static ConnectOptions options(String key) {
        return ConnectOptions.defaults().withIoQueues(2).withHost(HOST, HOST_ID).withTimeout(10_000).withTls(key);
    }

    /** Writes {@code data} at LBA 8 and reads it back. */
    static void readBack(RemoteController c, byte[] data) throws IOException {
        RemoteNamespace ns = c.namespace(1);
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(data.length, 4096);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            ns.write(8, buf);
            buf.fill((byte) 0);
            ns.read(8, buf);
            assertArrayEquals(data, buf.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    @Test
    void bothCipherSuitesCarryVerifiedIo() throws Exception {
        for (String key : List.of(newKey(32, 1), newKey(48, 2), newKey(48, 0))) {
            try (Target t = start(key, TargetConfig.PortTls.REQUIRED);
                 RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(key))) {
                readBack(c, random(4096));
                readBack(c, random(128 * 1024));
                List<DiscoveryRecord> log = Discovery.discover("127.0.0.1", port(t), options(key));
                DiscoveryRecord r = log.stream().filter(x -> x.subnqn().equals(NQN)).findFirst().orElseThrow();
                assertEquals(DiscoveryLogEntry.TREQ_REQUIRED, r.treq() & DiscoveryLogEntry.TREQ_SECURE_CHANNEL_MASK);
            }
        }
    }

    /**
     * {@code -Dsanport.tls.records}: {@code java} always works (the relay); {@code kernel} works where the kernel
     * has kTLS (verified I/O) and otherwise fails the connection saying so (this container has no tls module).
     */
    @Test
    void theRecordLayerFollowsTheProperty() throws Exception {
        String key = newKey(32, 1);
        String before = System.getProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY);
        try (Target t = start(key, TargetConfig.PortTls.REQUIRED)) {
            System.setProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY, "java");
            try (RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(key))) {
                readBack(c, random(128 * 1024));
            }
            System.setProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY, "kernel");
            try (RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(key))) {
                readBack(c, random(128 * 1024)); // a kernel with kTLS: the records are its
            } catch (IOException e) {
                assertTrue(e.getMessage().contains("kTLS not available (-Dsanport.tls.records=kernel demands it)")
                        && e.getMessage().contains("TCP_ULP") && e.getMessage().contains("tcp_available_ulp"),
                        e.getMessage());
            }
            System.setProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY, "sideways");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(key)).close());
            assertTrue(String.valueOf(bad.getMessage()).contains("expected auto, kernel or java"), bad.getMessage());
            // and the target still serves
            System.setProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY, "auto");
            try (RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(key))) {
                readBack(c, random(4096));
            }
        } finally {
            if (before == null) {
                System.clearProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY);
            } else {
                System.setProperty(io.sanport.nvme.tls.TlsRecords.PROPERTY, before);
            }
        }
    }

    @Test
    void dhchapInsideTls() throws Exception {
        String key = newKey(32, 1);
        String secret = DhchapLoopbackTest.newSecret(32, 1);
        Path image = dir.resolve("auth.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        TargetConfig cfg = TargetConfig.forDevice(image.toString(), NQN, "tcp", "127.0.0.1", 0, List.of(HOST),
                new TargetConfig.DhchapConfig(io.sanport.nvme.auth.DhchapKey.parse(secret), null, null, null),
                TlsKey.parse(key));
        try (Target t = Target.open(cfg, 1, new ReactorConfig(64, 128 * 1024, 64),
                TargetOptions.DEFAULT.withDiscoveryPort(0));
             RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN,
                     options(key).withDhchap(secret, null))) {
            readBack(c, random(4096));
            assertEquals("hmac(sha256)/null", c.reauthenticate());
            // the secret alone is not enough on this port
            assertThrows(IOException.class, () -> RemoteController.connect("127.0.0.1", port(t), NQN,
                    options(null).withDhchap(secret, null)));
        }
    }

    @Test
    void wrongMissingAndPlainAreRefused() throws Exception {
        String key = newKey(32, 1);
        try (Target t = start(key, TargetConfig.PortTls.REQUIRED)) {
            IOException wrong = assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(newKey(32, 1))));
            assertTrue(wrong.getMessage().contains("TLS handshake"), wrong.getMessage());
            assertFalse(wrong.getMessage().contains(key.substring(16, 40)));
            // a key of the other hash: another identity the target has no key for
            assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(newKey(48, 2))));
            // no TLS at all: the target waits for a ClientHello, gets an ICReq, and ends the connection
            assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(null)));
            // the port still serves the right key
            try (RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(key))) {
                readBack(c, random(4096));
            }
        }
        // another host's name inside this host's TLS session: the Connect is refused
        String other = "nqn.2014-08.org.nvmexpress:uuid:" + UUID.nameUUIDFromBytes("other".getBytes());
        try (Target t = start(key, TargetConfig.PortTls.REQUIRED, List.of(HOST, other))) {
            TlsKey k = TlsKey.parse(key);
            try (NvmeTcpQueue q = rawTls(port(t), k)) {
                NvmeException e = assertThrows(NvmeException.class, () -> connect(q, other));
                assertEquals(io.sanport.nvme.Status.CONNECT_INVALID_HOST, e.statusCode());
            }
            try (NvmeTcpQueue q = rawTls(port(t), k)) {
                connect(q, HOST); // the identity's own name passes
            }
        }
        // a host entry without a TLS key: its handshake is refused
        try (Target t = start(null, TargetConfig.PortTls.REQUIRED)) {
            assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(newKey(32, 1))));
        }
    }

    /**
     * The same configured key under the two derivations (nvme-cli before 2.16 / --compat, and 2.16's RFC 8446
     * default) gives different TLS PSKs: each target serves the host deriving as it does and refuses the other.
     */
    @Test
    void theDerivationMustMatchEndToEnd() throws Exception {
        for (String key : List.of(newKey(32, 1), newKey(48, 2))) {
            for (TlsKey.Derivation served : TlsKey.Derivation.values()) {
                TlsKey.Derivation other = served == TlsKey.Derivation.COMPAT
                        ? TlsKey.Derivation.RFC8446 : TlsKey.Derivation.COMPAT;
                try (Target t = start(TlsKey.parse(key).withDerivation(served), TargetConfig.PortTls.REQUIRED,
                        List.of(HOST))) {
                    try (RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN,
                            options(key).withTls(key, served))) {
                        readBack(c, random(4096));
                    }
                    IOException refused = assertThrows(IOException.class, () -> RemoteController.connect(
                            "127.0.0.1", port(t), NQN, options(key).withTls(key, other)));
                    assertTrue(refused.getMessage().contains("TLS handshake"), refused.getMessage());
                    assertFalse(refused.getMessage().contains(key.substring(16, 40)));
                }
            }
        }
    }

    /** Reloading a host's tls_key_derivation (the same key) applies from the next handshake and says so. */
    @Test
    void reloadingTheDerivationAppliesToTheNextHandshake() throws Exception {
        String key = newKey(32, 1);
        try (Target t = start(TlsKey.parse(key), TargetConfig.PortTls.REQUIRED, List.of(HOST));
             RemoteController before = RemoteController.connect("127.0.0.1", port(t), NQN, options(key))) {
            TargetConfig cfg = t.config();
            TargetConfig next = new TargetConfig(List.of(new TargetConfig.HostConfig(HOST, null,
                    TlsKey.parse(key).withDerivation(TlsKey.Derivation.RFC8446))), cfg.ports(), cfg.subsystems(),
                    cfg.limits());
            List<String> changes = t.apply(next);
            assertEquals(1, changes.size(), changes.toString());
            assertTrue(changes.getFirst().contains("TLS PSK of host " + HOST), changes.getFirst());
            assertFalse(changes.getFirst().contains(key.substring(16, 40)));
            readBack(before, random(4096)); // the session up stays
            assertThrows(IOException.class, () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(key)));
            try (RemoteController after = RemoteController.connect("127.0.0.1", port(t), NQN,
                    options(key).withTls(key, TlsKey.Derivation.RFC8446))) {
                readBack(after, random(4096));
            }
        }
    }

    @Test
    void tlsToAPlainPortFailsCleanly() throws Exception {
        try (Target t = start(null, TargetConfig.PortTls.NONE)) {
            IOException e = assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(newKey(32, 1))));
            assertTrue(e.getMessage().contains("TLS handshake"), e.getMessage());
            try (RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(null))) {
                readBack(c, random(4096));
            }
        }
    }

    @Test
    void aPortWhereTlsIsNotRequiredServesBoth() throws Exception {
        String key = newKey(32, 1);
        try (Target t = start(key, TargetConfig.PortTls.NOT_REQUIRED);
             RemoteController tls = RemoteController.connect("127.0.0.1", port(t), NQN, options(key));
             RemoteController plain = RemoteController.connect("127.0.0.1", port(t), NQN, options(null))) {
            readBack(tls, random(8192));
            readBack(plain, random(8192));
            DiscoveryRecord r = Discovery.discover("127.0.0.1", port(t), options(null)).stream()
                    .filter(x -> x.subnqn().equals(NQN)).findFirst().orElseThrow();
            assertEquals(DiscoveryLogEntry.TREQ_NOT_REQUIRED, r.treq() & DiscoveryLogEntry.TREQ_SECURE_CHANNEL_MASK);
        }
    }

    @Test
    void aForgedRecordEndsThatConnectionOnly() throws Exception {
        String key = newKey(32, 1);
        try (Target t = start(key, TargetConfig.PortTls.REQUIRED);
             RemoteController bystander = RemoteController.connect("127.0.0.1", port(t), NQN, options(key));
             Relay relay = new Relay(port(t));
             RemoteController victim = RemoteController.connect("127.0.0.1", relay.port(), NQN,
                     options(key).withIoQueues(1).withTimeout(5_000))) {
            readBack(victim, random(4096));
            relay.corruptNext.set(true);
            // the target fails the record's authentication, sends bad_record_mac and ends this connection
            assertThrows(IOException.class, () -> readBack(victim, random(4096)));
            readBack(bystander, random(8192)); // another TLS connection goes on
        }
    }

    @Test
    void noPlaintextBlockCrossesTheWire() throws Exception {
        String key = newKey(32, 1);
        byte[] block = random(4096);
        try (Target t = start(key, TargetConfig.PortTls.NOT_REQUIRED)) {
            // control: without TLS the relay does see the block (so the search below can find it)
            try (Relay relay = new Relay(port(t))) {
                try (RemoteController c = RemoteController.connect("127.0.0.1", relay.port(), NQN, options(null))) {
                    readBack(c, block);
                }
                assertTrue(relay.saw(block), "the plain connection carried the block in clear");
            }
            try (Relay relay = new Relay(port(t))) {
                try (RemoteController c = RemoteController.connect("127.0.0.1", relay.port(), NQN, options(key))) {
                    readBack(c, block);
                }
                assertTrue(relay.bytes() > 2 * block.length, "the TLS connection carried the block too");
                assertFalse(relay.saw(block), "a 32-byte piece of the block crossed the wire in clear");
            }
        }
    }

    /**
     * A host still in its TLS handshake when its port is removed, and a new port taking the removed one's stats
     * slot meanwhile: the late connection's queue must not count into the new port's totals.
     */
    @Test
    void aHandshakeThatOutlivesItsPortCountsNowhere() throws Exception {
        String key = newKey(32, 1);
        try (Target t = start(key, TargetConfig.PortTls.REQUIRED); Relay relay = new Relay(port(t))) {
            int portId = t.ports().getFirst().portId();
            relay.hostGate = new java.util.concurrent.CountDownLatch(1);
            var late = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (RemoteController c = RemoteController.connect("127.0.0.1", relay.port(), NQN, options(key))) {
                    return "connected";
                } catch (IOException e) {
                    return String.valueOf(e.getMessage());
                }
            });
            // the target has accepted the relayed connection: its handshake waits for the ClientHello
            long until = System.nanoTime() + 10_000_000_000L;
            while (t.stats().snapshot().ports().stream().noneMatch(p -> p.portId() == portId)
                    || relay.sockets.size() < 2) {
                assertTrue(System.nanoTime() < until, "the relay never connected");
                Thread.sleep(10);
            }
            Thread.sleep(300);
            t.removePort(portId);
            t.addPort(new TargetConfig.PortConfig(portId + 1, "tcp", "ipv4", "127.0.0.1", "0", List.of(NQN)));
            relay.hostGate.countDown();
            String end = late.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertFalse(end.contains("handshake"), "the handshake itself must succeed (the case under test): " + end);
            Thread.sleep(200); // the late queue's close is counted on its reactor
            var added = t.stats().snapshot().ports().stream().filter(p -> p.portId() == portId + 1).findFirst()
                    .orElseThrow();
            assertEquals(0, added.queuesOpened(), "the new port counted a queue of the removed one: " + added);
            assertEquals(0, added.queuesClosed(), "the new port counted a queue of the removed one: " + added);
        }
    }

    static NvmeTcpQueue rawTls(int port, TlsKey key) throws IOException {
        return NvmeTcpQueue.open(new java.net.InetSocketAddress("127.0.0.1", port), 0, 32, false, false, 10_000,
                new TcpSocket.Tls(key, HOST, NQN));
    }

    /** An admin queue Connect naming {@code hostNqn}. */
    static void connect(NvmeTcpQueue q, String hostNqn) throws IOException {
        MemorySegment data = Arena.ofAuto().allocate(io.sanport.nvme.fabrics.ConnectData.SIZE, 8);
        io.sanport.nvme.fabrics.ConnectData.hostUuid(data, HOST_ID);
        io.sanport.nvme.fabrics.ConnectData.cntlid(data, io.sanport.nvme.fabrics.ConnectData.CNTLID_DYNAMIC);
        io.sanport.nvme.fabrics.ConnectData.subnqn(data, NQN);
        io.sanport.nvme.fabrics.ConnectData.hostnqn(data, hostNqn);
        q.execute("Connect", sqe -> {
            io.sanport.nvme.fabrics.FabricsCommand.opcode(sqe, io.sanport.nvme.fabrics.FabricsCommand.OPCODE);
            io.sanport.nvme.fabrics.FabricsCommand.fctype(sqe, io.sanport.nvme.fabrics.FabricsCommand.FCTYPE_CONNECT);
            io.sanport.nvme.fabrics.ConnectCommand.qid(sqe, 0);
            io.sanport.nvme.fabrics.ConnectCommand.sqsize(sqe, 31);
            io.sanport.nvme.fabrics.ConnectCommand.kato(sqe, 30_000);
        }, data, true, 10_000);
    }

    /** A TCP relay that keeps every byte it forwards, both ways, of all its connections. */
    static final class Relay implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        /** Set: the next chunk a host sends has its last byte flipped (a forged record), then it clears. */
        final java.util.concurrent.atomic.AtomicBoolean corruptNext = new java.util.concurrent.atomic.AtomicBoolean();
        /** What a host sends waits for this (open unless a test replaces it). */
        volatile java.util.concurrent.CountDownLatch hostGate = new java.util.concurrent.CountDownLatch(0);

        Relay(int target) throws IOException {
            Thread accept = new Thread(() -> {
                try {
                    while (true) {
                        Socket in = server.accept();
                        Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
                        sockets.add(in);
                        sockets.add(out);
                        pump(in, out, true);
                        pump(out, in, false);
                    }
                } catch (IOException ended) {
                    // closed
                }
            });
            accept.setDaemon(true);
            accept.start();
        }

        private void pump(Socket from, Socket to, boolean fromHost) {
            Thread th = new Thread(() -> {
                byte[] buf = new byte[65536];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        if (fromHost) {
                            hostGate.await();
                        }
                        synchronized (seen) {
                            seen.write(buf, 0, n);
                        }
                        if (fromHost && corruptNext.compareAndSet(true, false)) {
                            buf[n - 1] ^= 1;
                        }
                        out.write(buf, 0, n);
                    }
                } catch (IOException | InterruptedException ended) {
                    // either side closed
                } finally {
                    try {
                        to.shutdownOutput();
                    } catch (IOException ignored) {
                        // closed already
                    }
                }
            });
            th.setDaemon(true);
            th.start();
        }

        int port() { return server.getLocalPort(); }

        int bytes() {
            synchronized (seen) {
                return seen.size();
            }
        }

        /** Whether any 32-byte piece of {@code block} (at 32-byte steps) is in what was forwarded. */
        boolean saw(byte[] block) throws InterruptedException {
            Thread.sleep(200); // the last bytes in flight
            byte[] all;
            synchronized (seen) {
                all = seen.toByteArray();
            }
            for (int off = 0; off + 32 <= block.length; off += 32) {
                if (indexOf(all, block, off, 32) >= 0) {
                    return true;
                }
            }
            return false;
        }

        private static int indexOf(byte[] hay, byte[] needle, int off, int len) {
            outer:
            for (int i = 0; i + len <= hay.length; i++) {
                for (int j = 0; j < len; j++) {
                    if (hay[i + j] != needle[off + j]) continue outer;
                }
                return i;
            }
            return -1;
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) s.close();
        }
    }
}
