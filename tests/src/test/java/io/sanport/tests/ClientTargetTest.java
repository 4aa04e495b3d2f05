package io.sanport.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.client.ConnectOptions;
import io.sanport.client.Discovery;
import io.sanport.client.DiscoveryRecord;
import io.sanport.client.NvmeException;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import io.sanport.iop.DataPattern;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.Status;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sanport's Java initiator against sanport's target over NVMe/TCP on 127.0.0.1: the two halves meet. */
class ClientTargetTest {
    static final String NQN = "nqn.2026-11.io.sanport:test";

    @TempDir
    Path dir;

    Target start(String device, List<String> allowedHosts) throws Exception {
        TargetConfig cfg = TargetConfig.forDevice(device, NQN, "tcp", "127.0.0.1", 0, allowedHosts);
        return Target.open(cfg, 2, new ReactorConfig(64, 128 * 1024, 64), TargetOptions.DEFAULT.withDiscoveryPort(0));
    }

    static int port(Target t) {
        return t.ports().getFirst().boundPort();
    }

    static ConnectOptions options(int queues) {
        return ConnectOptions.defaults().withIoQueues(queues);
    }

    @Test
    void connectIdentifyAndVerifyEverySizeUpToMdtsOnSeveralQueuesAndConnections() throws Exception {
        Path image = dir.resolve("ns.img");
        java.io.IOException missing = assertThrows(java.io.IOException.class, () -> start(image.toString(), List.of()));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64 << 20);
        }
        try (Target target = start(image.toString(), List.of());
             RemoteController a = RemoteController.connect("127.0.0.1", port(target), NQN, options(2));
             RemoteController b = RemoteController.connect("127.0.0.1", port(target), NQN, options(1));
             Arena arena = Arena.ofShared()) {
            assertEquals(NQN, a.reportedSubnqn());
            assertEquals("sanport", a.model().strip());
            assertEquals(2, a.ioQueueCount());
            assertTrue(a.cntlid() != b.cntlid(), "two connections are two controllers");
            assertEquals(List.of(1), a.activeNamespaceIds());
            RemoteNamespace na = a.namespace(1);
            RemoteNamespace nb = b.namespace(1);
            assertEquals(64 << 20, na.sizeBytes());
            long mdts = na.maxTransferBytes();
            assertTrue(mdts >= 128 * 1024, "mdts " + mdts);
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            List<long[]> done = new ArrayList<>();
            long offset = 0;
            long seed = 77;
            for (long size = 512; size <= mdts; size *= 2) {
                for (int repeat = 0; repeat < 4; repeat++) {
                    MemorySegment buf = arena.allocate(size, 4096);
                    DataPattern.fill(buf, offset, seed);
                    // alternate controllers: both see one namespace
                    writes.add((repeat % 2 == 0 ? na : nb).writeAsync(offset / 512, buf));
                    done.add(new long[] {offset, size});
                    offset += size;
                }
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (long[] w : done) {
                MemorySegment buf = arena.allocate(w[1], 4096);
                (w[0] % 1024 == 0 ? nb : na).read(w[0] / 512, buf);
                assertEquals(-1, DataPattern.firstMismatch(buf, w[0], seed), "mismatch in " + w[1] + " bytes at " + w[0]);
            }
            na.flush();
            na.writeZeroes(0, 8);
            MemorySegment zero = arena.allocate(4096, 4096);
            na.read(0, zero);
            assertEquals(-1, DataPattern.firstNonZero(zero));
        }
        // the data is in the file, where the target left it
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(bb, 4096);
            assertTrue(bb.getLong(0) != 0, "the namespace's data is in the image file");
        }
    }

    @Test
    void aCallbackThatResubmitsStaysOnItsQueue() throws Exception {
        Path image = dir.resolve("affinity.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        int chains = 4;
        int rounds = 50;
        try (Target target = start(image.toString(), List.of());
             RemoteController c = RemoteController.connect("127.0.0.1", port(target), NQN, options(2));
             Arena arena = Arena.ofShared()) {
            assertEquals(2, c.ioQueueCount());
            RemoteNamespace ns = c.namespace(1);
            java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.concurrent.atomic.AtomicInteger moved = new java.util.concurrent.atomic.AtomicInteger();
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int i = 0; i < chains; i++) {
                MemorySegment buf = arena.allocate(4096, 4096);
                CompletableFuture<Void> chain = new CompletableFuture<>();
                done.add(chain);
                io.sanport.client.IoCallback resubmit = new io.sanport.client.IoCallback() {
                    Thread last;
                    int left = rounds;

                    @Override
                    public void complete(int status, long result, Throwable failure) {
                        if (failure != null || !Status.isSuccess(status)) {
                            chain.completeExceptionally(failure != null ? failure : new NvmeException("Read", status, 0));
                            return;
                        }
                        Thread now = Thread.currentThread();
                        threads.add(now);
                        if (last != null && last != now) {
                            moved.incrementAndGet();
                        }
                        last = now;
                        if (--left == 0) {
                            chain.complete(null);
                            return;
                        }
                        try {
                            ns.read(left * 8L, buf, this);
                        } catch (java.io.IOException e) {
                            chain.completeExceptionally(e);
                        }
                    }
                };
                ns.read(0, buf, resubmit);
            }
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            // the first submissions (from this thread) are spread over both queues; each chain then keeps its queue,
            // so its resubmissions leave in its reader's batch
            assertEquals(2, threads.size(), "completion threads: " + threads);
            assertEquals(0, moved.get(), "resubmissions that went to the other queue");
        }
    }

    @Test
    void headerAndDataDigests() throws Exception {
        try (Target target = start("ram:16M", List.of());
             RemoteController c = RemoteController.connect("127.0.0.1", port(target), NQN,
                     new ConnectOptions(1, 32, 5000, true, true, Nqn.of(UUID.randomUUID()), UUID.randomUUID(), 10_000));
             Arena arena = Arena.ofShared()) {
            RemoteNamespace ns = c.namespace(1);
            for (int size : new int[] {4096, 8192, 65536, 131072}) {
                MemorySegment w = arena.allocate(size, 4096);
                DataPattern.fill(w, size, 5);
                ns.write(size / 512, w);
                MemorySegment r = arena.allocate(size, 4096);
                ns.read(size / 512, r);
                assertEquals(-1, DataPattern.firstMismatch(r, size, 5), "digest run, " + size + " bytes");
            }
        }
    }

    @Test
    void discoveryListsTheSubsystem() throws Exception {
        try (Target target = start("ram:8M", List.of())) {
            List<DiscoveryRecord> records = Discovery.discover("127.0.0.1", port(target), options(0));
            assertTrue(records.stream().anyMatch(r -> r.isSubsystem() && r.subnqn().equals(NQN)
                    && r.trsvcid().equals(Integer.toString(port(target))) && r.traddr().equals("127.0.0.1")),
                    records.toString());
        }
    }

    @Test
    void aHostNotAllowedIsRefusedWithInvalidHost() throws Exception {
        String allowed = Nqn.of(UUID.randomUUID());
        try (Target target = start("ram:8M", List.of(allowed))) {
            NvmeException e = assertThrows(NvmeException.class,
                    () -> RemoteController.connect("127.0.0.1", port(target), NQN, options(1)).close());
            assertEquals(Status.CONNECT_INVALID_HOST, e.statusCode(), e.getMessage());
            assertTrue(e.getMessage().contains("Invalid Host"), e.getMessage());
            UUID id = UUID.randomUUID();
            try (RemoteController ok = RemoteController.connect("127.0.0.1", port(target), NQN,
                    new ConnectOptions(1, 32, 5000, false, false, allowed, id, 10_000))) {
                assertEquals(NQN, ok.reportedSubnqn());
            }
        }
    }

    /** The target shuts down under a stream of writes: every write the client saw acknowledged is on disk. */
    @Test
    void shutdownWithWritesInFlightLosesNoAcknowledgedWrite() throws Exception {
        Path image = dir.resolve("shutdown.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(32 << 20);
        }
        ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
        Target target = start(image.toString(), List.of());
        try (RemoteController c = RemoteController.connect("127.0.0.1", port(target), NQN, options(2));
             Arena arena = Arena.ofShared()) {
            RemoteNamespace ns = c.namespace(1);
            int blocks = 4096;
            MemorySegment[] bufs = new MemorySegment[blocks];
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < blocks; i++) {
                long offset = (long) i * 4096;
                bufs[i] = arena.allocate(4096, 4096);
                DataPattern.fill(bufs[i], offset, 9);
                CompletableFuture<Void> f;
                try {
                    f = ns.writeAsync(offset / 512, bufs[i]);
                } catch (java.io.IOException connectionGone) {
                    break;
                }
                all.add(f.thenRun(() -> acknowledged.add(offset)));
                if (i == blocks / 4) {
                    Thread.ofPlatform().start(() -> {
                        try {
                            target.close();
                        } catch (java.io.IOException e) {
                            throw new RuntimeException(e);
                        }
                    });
                }
            }
            for (CompletableFuture<Void> f : all) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (Exception failedByShutdown) {
                    // not acknowledged: may or may not be on disk
                }
            }
        } catch (java.io.IOException closedUnderUs) {
            // the disconnect may race the shutdown
        }
        target.close();
        assertTrue(acknowledged.size() > 0, "some writes were acknowledged before the shutdown");
        byte[] block = new byte[4096];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r"); Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4096);
            for (long offset : acknowledged) {
                f.seek(offset);
                f.readFully(block);
                MemorySegment.copy(MemorySegment.ofArray(block), 0, seg, 0, 4096);
                assertEquals(-1, DataPattern.firstMismatch(seg, offset, 9), "acknowledged write at " + offset + " lost");
            }
        }
    }
}
