package io.sanport.testcontainers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sanport.client.ConnectOptions;
import io.sanport.client.Discovery;
import io.sanport.client.DiscoveryRecord;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.lifecycle.Startables;

/**
 * Two sanport targets in containers on one Docker network, as two cluster peers; the Java client on the host
 * finds both through their discovery services and writes to both at once. Peer B (a file-backed namespace on a
 * named volume) is stopped in the middle of the I/O: the client gets an error for B's path only while A keeps
 * working; a new container on B's volume serves the same subsystem, the client reconnects through discovery and
 * finds every write B acknowledged intact.
 */
@DockerTest
@Timeout(240)
class ClusterPeersTest {
    private static final Logger log = LoggerFactory.getLogger("cluster");
    private static final int CHUNK = 4096;
    private static final int QD = 8;

    private final String volume = "sanport-tc-" + UUID.randomUUID().toString().substring(0, 8);
    private final String nqnB = "nqn.2026-11.io.sanport:peer-b:data";
    private Network network;
    private SanportContainer peerA;
    private SanportContainer peerB;

    @AfterEach
    void cleanUp() {
        for (SanportContainer c : new SanportContainer[] {peerA, peerB}) {
            if (c != null) {
                c.stop();
            }
        }
        if (network != null) {
            network.close();
        }
        try {
            DockerClientFactory.instance().client().removeVolumeCmd(volume).exec();
        } catch (RuntimeException e) {
            log.warn("volume {} not removed: {}", volume, e.getMessage());
        }
    }

    private SanportContainer peerB() {
        return new SanportContainer().withNetwork(network).withNetworkAliases("peer-b").withDataVolume(volume)
                .withSubsystemNqn(nqnB).withReactors(1)
                .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("peer-b")));
    }

    @Test
    void onePeerStopsMidIoTheOtherKeepsWorkingAndTheRestartedPeerStillHasTheData() throws Exception {
        network = Network.newNetwork();
        peerA = new SanportContainer().withNetwork(network).withNetworkAliases("peer-a").withNamespaceSize("256M")
                .withReactors(1).withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("peer-a")));
        peerB = peerB();
        long t0 = System.nanoTime();
        Startables.deepStart(peerA, peerB).join();
        log.info("both peers serving after {} ms", ms(t0));

        ConnectOptions options = ConnectOptions.defaults().withIoQueues(1).withTimeout(10_000);
        RemoteController a = connectThroughDiscovery(peerA, options);
        RemoteController b = connectThroughDiscovery(peerB, options);
        RemoteNamespace nsA = a.namespace(1);
        RemoteNamespace nsB = b.namespace(1);
        assertEquals(256L << 20, nsA.sizeBytes());
        assertEquals(1L << 30, nsB.sizeBytes(), "B exports the built-in 1 GiB image on its volume");

        Writer wa = new Writer("A", nsA, 1);
        Writer wb = new Writer("B", nsB, 2);
        var pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> fa = pool.submit(wa);
            Future<?> fb = pool.submit(wb);
            waitFor(() -> wa.acked.get() > 500 && wb.acked.get() > 500, Duration.ofSeconds(60), "writes to both peers");
            log.info("writing to both: A {} and B {} writes acknowledged; stopping peer B's container", wa.acked, wb.acked);

            int portB = peerB.getNvmeTcpPort();
            long stopStart = System.nanoTime();
            peerB.stopGracefully(Duration.ofSeconds(10));
            log.info("docker stop of B took {} ms", ms(stopStart));
            try {
                fb.get(30, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fail("the writer of stopped peer B did not fail within 30 s (it hangs)");
            }
            Throwable errorB = wb.error.get();
            assertNotNull(errorB, "B's writes must fail once B is stopped");
            assertInstanceOf(IOException.class, errorB, "a clean I/O error, not " + errorB);
            assertTrue(String.valueOf(errorB.getMessage()).contains(":" + portB),
                    "the error names B's connection: " + errorB.getMessage());
            log.info("path B failed cleanly after {} acknowledged writes: {}", wb.acked, errorB.toString());
            assertTrue(peerB.getLogs().contains("stopped"), "B shut down gracefully:\n" + peerB.getLogs());

            long atFailure = wa.acked.get();
            waitFor(() -> wa.acked.get() > atFailure + 500, Duration.ofSeconds(60), "A to go on after B's failure");
            assertNull(wa.error.get(), "peer A must be unaffected");
            assertTrue(!fa.isDone(), "A's writer still running");
            wa.stop.set(true);
            fa.get(30, TimeUnit.SECONDS);
            assertNull(wa.error.get(), "peer A must be unaffected");
            log.info("A kept working: {} writes acknowledged, {} after B failed", wa.acked, wa.acked.get() - atFailure);
            wa.verify(nsA);
            log.info("A's data verified");

            // closing B's broken controller must not hang either
            CompletableFuture.runAsync(() -> {
                try {
                    b.close();
                } catch (IOException e) {
                    log.info("closing B's broken controller: {}", e.toString());
                }
            }).get(20, TimeUnit.SECONDS);
        } finally {
            wa.stop.set(true);
            wb.stop.set(true);
            pool.shutdownNow();
        }

        // B comes back: a new container on the same volume, same subsystem NQN, new host ports
        peerB.stop();
        peerB = peerB();
        long restart = System.nanoTime();
        peerB.start();
        log.info("B restarted in {} ms", ms(restart));
        try (RemoteController b2 = connectThroughDiscovery(peerB, options)) {
            wb.verify(b2.namespace(1));
        }
        log.info("B's {} acknowledged writes read back intact after the restart", wb.acked);
        // and A is still there
        wa.verify(nsA);
        a.close();
    }

    /** Discovery through the mapped port 8009, then the subsystem it names, at its mapped trsvcid. */
    private static RemoteController connectThroughDiscovery(SanportContainer peer, ConnectOptions options) throws IOException {
        List<DiscoveryRecord> records = Discovery.discover(peer.getHost(), peer.getDiscoveryPort(), options);
        DiscoveryRecord rec = records.stream().filter(DiscoveryRecord::isSubsystem).findFirst()
                .orElseThrow(() -> new AssertionError("no subsystem in " + records));
        assertEquals(peer.getSubsystemNqn(), rec.subnqn());
        assertEquals(peer.getContainerIpAddress(), rec.traddr().trim());
        var at = peer.hostEndpoint(rec.trsvcid());
        log.info("discovered {} at {}:{} (container {}:{}), host port {}", rec.subnqn(), rec.traddr(), rec.trsvcid(),
                peer.getNetworkAliases(), peer.getContainerIpAddress(), at.getPort());
        return RemoteController.connect(at.getHostString(), at.getPort(), rec.subnqn(), options);
    }

    /**
     * Writes 4 KiB chunks 0, 1, 2... with {@value #QD} in flight; chunk k holds (tag, k) in every 8-byte word.
     * Remembers which chunks were acknowledged; stops at the first error or when told.
     */
    static final class Writer implements Runnable {
        final String name;
        final RemoteNamespace ns;
        final long tag;
        final AtomicLong acked = new AtomicLong();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final java.util.BitSet done = new java.util.BitSet();
        private final long chunks;

        Writer(String name, RemoteNamespace ns, long tag) {
            this.name = name;
            this.ns = ns;
            this.tag = tag;
            this.chunks = ns.sizeBytes() / CHUNK;
        }

        long word(long k) {
            return tag << 56 | k;
        }

        @Override
        public void run() {
            Arena arena = Arena.ofAuto();
            MemorySegment[] buf = new MemorySegment[QD];
            @SuppressWarnings("unchecked")
            CompletableFuture<Void>[] inflight = new CompletableFuture[QD];
            long[] chunkOf = new long[QD];
            for (int i = 0; i < QD; i++) {
                buf[i] = ns.allocate(arena, CHUNK);
            }
            int blocksPerChunk = CHUNK / ns.blockSize();
            try {
                for (long k = 0; k < chunks && !stop.get(); k++) {
                    int slot = (int) (k % QD);
                    if (inflight[slot] != null) {
                        complete(inflight[slot], chunkOf[slot]);
                    }
                    for (int w = 0; w < CHUNK / 8; w++) {
                        buf[slot].setAtIndex(ValueLayout.JAVA_LONG, w, word(k));
                    }
                    chunkOf[slot] = k;
                    inflight[slot] = ns.writeAsync(k * blocksPerChunk, buf[slot]);
                }
                for (int slot = 0; slot < QD; slot++) {
                    if (inflight[slot] != null) {
                        complete(inflight[slot], chunkOf[slot]);
                    }
                }
            } catch (Throwable t) {
                error.set(t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t);
            }
        }

        private void complete(CompletableFuture<Void> f, long k) throws Exception {
            f.get(60, TimeUnit.SECONDS);
            synchronized (done) {
                done.set((int) k);
            }
            acked.incrementAndGet();
        }

        /** Every acknowledged chunk reads back as written. */
        void verify(RemoteNamespace on) throws IOException {
            try (Arena arena = Arena.ofShared()) {
                int batch = (int) Math.min(64, on.maxTransferBytes() / CHUNK);
                MemorySegment in = on.allocate(arena, (long) CHUNK * batch);
                int blocksPerChunk = CHUNK / on.blockSize();
                java.util.BitSet acknowledged;
                synchronized (done) {
                    acknowledged = (java.util.BitSet) done.clone();
                }
                int checked = 0;
                for (int first = 0; first < acknowledged.length(); first += batch) {
                    on.read((long) first * blocksPerChunk, in);
                    for (int j = 0; j < batch; j++) {
                        int k = first + j;
                        if (!acknowledged.get(k)) {
                            continue;
                        }
                        MemorySegment chunk = in.asSlice((long) j * CHUNK, CHUNK);
                        for (int w = 0; w < CHUNK / 8; w++) {
                            long got = chunk.getAtIndex(ValueLayout.JAVA_LONG, w);
                            if (got != word(k)) {
                                fail(name + ": chunk " + k + " word " + w + " reads 0x" + Long.toHexString(got)
                                        + ", wrote 0x" + Long.toHexString(word(k)));
                            }
                        }
                        checked++;
                    }
                }
                assertEquals(acknowledged.cardinality(), checked);
                assertTrue(checked > 0, name + ": nothing was acknowledged");
            }
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, Duration max, String what) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + max.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}
