package io.sanport.client;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.tcp.PduHeader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Command-line entry of the initiator, for scripts and the kernel-target test:
 * <pre>
 * ClientMain discover --addr A [--port 8009] [--transport tcp|rdma]
 * ClientMain rw-test  --addr A [--port 4420] --nqn SUBNQN [--queues 2] [--hdgst] [--ddgst] [--transport tcp|rdma]
 *                     [--expect-size BYTES] [--discover-port 8009] [--kato MS]
 * </pre>
 * rw-test exits 0 when every check passed, 1 otherwise.
 */
public final class ClientMain {
    private ClientMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage();
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--hdgst") || a.equals("--ddgst")) {
                opts.put(a, "true");
            } else if (a.startsWith("--") && i + 1 < args.length) {
                opts.put(a, args[++i]);
            } else {
                usage();
            }
        }
        String addr = opts.getOrDefault("--addr", "127.0.0.1");
        ConnectOptions options = ConnectOptions.defaults()
                .withIoQueues(Integer.parseInt(opts.getOrDefault("--queues", "2")))
                .withDigests(opts.containsKey("--hdgst"), opts.containsKey("--ddgst"))
                .withKato(Integer.parseInt(opts.getOrDefault("--kato", "5000")))
                .withTransport(ConnectOptions.Transport.of(opts.getOrDefault("--transport", "tcp")));
        // NVMe/RDMA discovery shares the I/O port (nvmeof.md §6.6)
        String defaultDiscoveryPort = String.valueOf(options.transport() == ConnectOptions.Transport.RDMA
                ? PduHeader.PORT_IO : PduHeader.PORT_DISCOVERY);
        switch (args[0]) {
            case "discover" -> {
                int port = Integer.parseInt(opts.getOrDefault("--port", defaultDiscoveryPort));
                long t = System.nanoTime();
                List<DiscoveryRecord> records = Discovery.discover(addr, port, options);
                for (DiscoveryRecord r : records) {
                    System.out.println(r);
                }
                System.err.println(records.size() + " records from " + addr + ":" + port + " in " + ms(t) + " ms");
            }
            case "rw-test" -> {
                boolean ok = rwTest(addr, opts, options);
                System.out.println(ok ? "RW-TEST PASSED" : "RW-TEST FAILED");
                System.exit(ok ? 0 : 1);
            }
            case "rdma-reject" -> {
                // nvmet and sanport refuse an admin queue deeper than 32 (nvmeof.md §6.2) with STS 0x04
                int port = Integer.parseInt(opts.getOrDefault("--port", String.valueOf(PduHeader.PORT_IO)));
                boolean ok = expectRefused(addr, port, 0, 64, "invalid HSQSIZE")
                        & expectRefused(addr, Integer.parseInt(opts.getOrDefault("--closed-port", "4999")), 0, 32, "nothing listens");
                System.out.println(ok ? "RDMA-REJECT PASSED" : "RDMA-REJECT FAILED");
                System.exit(ok ? 0 : 1);
            }
            case "until-failure" -> {
                // I/O until the association breaks (the test kills the target): it must end in a transport error
                int port = Integer.parseInt(opts.getOrDefault("--port", String.valueOf(PduHeader.PORT_IO)));
                try (RemoteController c = RemoteController.connect(addr, port, opts.get("--nqn"), options);
                     Arena arena = Arena.ofShared()) {
                    RemoteNamespace ns = c.namespace(c.activeNamespaceIds().getFirst());
                    MemorySegment buf = arena.allocate(65536, 4096);
                    System.out.println("connected, reading");
                    System.out.flush();
                    long n = 0;
                    try {
                        while (true) {
                            ns.read((n++ * 128) % (ns.blocks() - 128), buf);
                        }
                    } catch (NvmeTransportException e) {
                        System.out.println("transport failure after " + n + " reads: " + e.getMessage());
                        System.exit(0);
                    } catch (IOException e) {
                        System.out.println("unexpected failure after " + n + " reads: " + e);
                        System.exit(1);
                    }
                }
            }
            default -> usage();
        }
    }

    /** Opens one NVMe/RDMA queue that the target must refuse; {@code expect} is in the message. */
    private static boolean expectRefused(String addr, int port, int qid, int size, String expect) {
        try (NvmeRdmaQueue q = NvmeRdmaQueue.open(new java.net.InetSocketAddress(addr, port), qid, size, 10_000)) {
            System.out.println("FAIL " + q + " was accepted");
            return false;
        } catch (IOException e) {
            boolean ok = e.getMessage().contains(expect);
            System.out.println((ok ? "ok   " : "FAIL ") + "qid " + qid + " size " + size + " at port " + port + " refused: "
                    + e.getMessage());
            return ok;
        }
    }

    private static void usage() {
        System.err.println("usage: ClientMain discover --addr A [--port 8009] [--transport tcp|rdma]\n"
                + "       ClientMain rw-test --addr A [--port 4420] --nqn SUBNQN [--queues N] [--hdgst] [--ddgst]"
                + " [--expect-size BYTES] [--discover-port 8009] [--transport tcp|rdma]");
        System.exit(2);
    }

    private static int failures;

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (!ok) {
            failures++;
        }
    }

    private static long ms(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    static boolean rwTest(String addr, Map<String, String> opts, ConnectOptions options) throws Exception {
        failures = 0;
        String nqn = opts.get("--nqn");
        if (nqn == null) {
            usage();
        }
        int port = Integer.parseInt(opts.getOrDefault("--port", String.valueOf(PduHeader.PORT_IO)));
        boolean rdma = options.transport() == ConnectOptions.Transport.RDMA;
        String tag = rdma ? "[rdma] " : "[hdgst=" + options.headerDigest() + " ddgst=" + options.dataDigest() + "] ";

        if (opts.containsKey("--discover-port")) {
            long t = System.nanoTime();
            List<DiscoveryRecord> records = Discovery.discover(addr, Integer.parseInt(opts.get("--discover-port")), options);
            records.forEach(r -> System.out.println("     " + r));
            // nvmet lists the subsystems linked to the port that was asked, with that port's address
            check(records.stream().anyMatch(r -> r.isSubsystem() && (rdma ? r.isRdma() : r.isTcp()) && r.subnqn().equals(nqn)
                            && r.traddr().equals(addr)),
                    tag + "discovery log lists " + nqn + " at " + (rdma ? "rdma " : "tcp ") + addr + " (" + ms(t) + " ms)");
        }

        long t0 = System.nanoTime();
        try (RemoteController c = RemoteController.connect(addr, port, nqn, options);
             Arena arena = Arena.ofShared()) {
            System.out.println("     connected in " + ms(t0) + " ms: cntlid " + c.cntlid() + ", VS 0x"
                    + Integer.toHexString(c.version()) + ", CAP.MQES " + Property.capMqes(c.cap()) + ", "
                    + c.ioQueueCount() + " I/O queues x " + c.ioQueueSize() + ", MDTS "
                    + IdentifyController.mdts(c.identifyData()) + ", in-capsule " + c.inCapsuleDataSize()
                    + " B, model '" + c.model() + "' serial '" + c.serial() + "' fw '" + c.firmware() + "'");
            check(c.reportedSubnqn().equals(nqn), tag + "Identify Controller SUBNQN = " + c.reportedSubnqn());
            check(c.ioQueueCount() == options.ioQueues(), tag + c.ioQueueCount() + " I/O queues connected");

            List<Integer> ids = c.activeNamespaceIds();
            check(!ids.isEmpty(), tag + "active namespaces " + ids);
            RemoteNamespace ns = c.namespace(ids.getFirst());
            System.out.println("     " + ns + ", nguid " + ns.nguid());
            if (opts.containsKey("--expect-size")) {
                long want = Long.parseLong(opts.get("--expect-size"));
                check(ns.sizeBytes() == want, tag + "namespace size " + ns.sizeBytes() + " = " + want);
            }

            int bs = ns.blockSize();
            long max = Math.min(ns.maxTransferBytes(), 8L << 20);
            long inCapsule = c.inCapsuleDataSize() / bs * bs;
            List<Long> sizes = new ArrayList<>(List.of(4096L, 65536L, 1L << 20, max));
            if (inCapsule > 0) {
                sizes.add(1, inCapsule);
                sizes.add(2, inCapsule + bs);
            }
            sizes.removeIf(s -> s > max);
            long lba = 8;
            long bytesMoved = 0;
            long t = System.nanoTime();
            MemorySegment out = arena.allocate(max, 4096);
            MemorySegment in = arena.allocate(max, 4096);
            for (long size : sizes) {
                MemorySegment o = out.asSlice(0, size);
                MemorySegment i = in.asSlice(0, size);
                pattern(o, lba * bs, 0x5A17);
                i.fill((byte) 0);
                ns.write(lba, o);
                ns.read(lba, i);
                check(o.mismatch(i) == -1, tag + "write+read " + size + " B at LBA " + lba);
                bytesMoved += 2 * size;
                lba += size / bs + 3;
            }
            System.out.println("     sequential sizes: " + bytesMoved + " B in " + ms(t) + " ms");

            // many commands in flight over all I/O queues: callbacks for writes, futures for reads
            int count = 64;
            int ioSize = 8192;
            long base = lba;
            MemorySegment big = arena.allocate((long) count * ioSize, 4096);
            MemorySegment back = arena.allocate((long) count * ioSize, 4096);
            pattern(big, base * bs, 0x77);
            t = System.nanoTime();
            CountDownLatch done = new CountDownLatch(count);
            AtomicReference<String> error = new AtomicReference<>();
            for (int k = 0; k < count; k++) {
                ns.write(base + (long) k * ioSize / bs, big.asSlice((long) k * ioSize, ioSize), (status, result, failure) -> {
                    if (failure != null || !Status.isSuccess(status)) {
                        error.compareAndSet(null, failure != null ? failure.toString() : Status.describe(status));
                    }
                    done.countDown();
                });
            }
            check(done.await(120, TimeUnit.SECONDS) && error.get() == null, tag + count + " concurrent " + ioSize
                    + " B writes (callbacks) " + (error.get() == null ? "" : error.get()));
            List<CompletableFuture<Void>> reads = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                reads.add(ns.readAsync(base + (long) k * ioSize / bs, back.asSlice((long) k * ioSize, ioSize)));
            }
            CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            check(big.mismatch(back) == -1, tag + count + " concurrent reads (futures) match, " + ms(t) + " ms");
            lba = base + (long) count * ioSize / bs;

            t = System.nanoTime();
            ns.flush();
            check(true, tag + "flush (" + ms(t) + " ms)");

            // write zeroes over the middle of a written range, read back: zeroes inside, pattern around
            long zlba = 8;
            int span = 64;
            MemorySegment o = out.asSlice(0, (long) (span + 2) * bs);
            MemorySegment i = in.asSlice(0, (long) (span + 2) * bs);
            pattern(o, zlba * bs, 0x2E);
            ns.write(zlba, o);
            ns.writeZeroes(zlba + 1, span);
            ns.read(zlba, i);
            MemorySegment zeroes = arena.allocate((long) span * bs);
            check(i.asSlice(bs, (long) span * bs).mismatch(zeroes) == -1
                            && i.asSlice(0, bs).mismatch(o.asSlice(0, bs)) == -1
                            && i.asSlice((long) (span + 1) * bs, bs).mismatch(o.asSlice((long) (span + 1) * bs, bs)) == -1,
                    tag + "write zeroes " + span + " blocks, read back zeroes, neighbours intact");

            if ((c.oncs() & IdentifyController.ONCS_DSM) != 0) {
                ns.deallocate(lba, 128);
                check(true, tag + "deallocate 128 blocks (DSM)");
            }

            // idle for more than twice KATO: only our Keep Alives keep nvmet from tearing the association down
            int kato = options.katoMillis();
            if (kato > 0 && kato <= 2000) {
                Thread.sleep(3L * kato);
                MemorySegment one = in.asSlice(0, bs);
                ns.read(8, one);
                check(one.mismatch(out.asSlice(0, bs)) == -1, tag + "idle " + 3 * kato + " ms with KATO " + kato
                        + " ms: keep-alive held the association, read OK");
            }

            // error path: an unsupported CNS comes back as an NVMe status in words the namespace comes back as an NVMe status in words
            try {
                c.adminExecute("Identify CNS 0x7e", sqe -> {
                    SubmissionQueueEntry.opcode(sqe, AdminOpcode.IDENTIFY);
                    SubmissionQueueEntry.cdw10(sqe, 0x7E);
                }, arena.allocate(4096, 4096), false);
                check(false, tag + "bogus Identify CNS rejected");
            } catch (NvmeException e) {
                check(e.getMessage().contains("Invalid Field"), tag + "bogus Identify CNS rejected: " + e.getMessage());
            }
            t = System.nanoTime();
            c.close();
            check(true, tag + "orderly disconnect (CC.SHN=normal, CSTS.SHST=complete, sockets closed) in " + ms(t) + " ms");
        }
        System.out.println("     total " + ms(t0) + " ms");
        return failures == 0;
    }

    /** A pattern that depends on the byte's address on the namespace, so misplaced data shows. */
    static void pattern(MemorySegment s, long deviceOffset, long seed) {
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG_UNALIGNED;
        for (long off = 0; off + 8 <= s.byteSize(); off += 8) {
            long x = (deviceOffset + off) * 0x9E3779B97F4A7C15L ^ seed;
            s.set(l, off, x ^ x >>> 29);
        }
    }
}
