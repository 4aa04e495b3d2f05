package io.sanport.iop;

import io.sanport.nvme.Status;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The guest half of tests/vm/iop-nvme.sh: sanport's I/O processor against a real (emulated) NVMe namespace,
 * once as the block kind (/dev/nvme0n1, O_DIRECT) and once as the nvme-passthru kind (/dev/ng0n1, NVMe
 * commands through IORING_OP_URING_CMD), then both in one ring. A plain main, not JUnit: one JVM start in a
 * guest where a start costs a second. Prints PASS/FAIL lines, "BENCH kind iops N" lines and
 * "N passed, M failed"; exits 1 on a failure.
 *
 * <p>{@code java -cp ... io.sanport.iop.NvmeDeviceCheck BLOCKDEV CHARDEV BENCH_SECONDS [MAX_TRANSFER]}: with
 * MAX_TRANSFER (bytes), the controller's limit the passthrough device must find (QEMU's nvme mdts=N: 4 KiB << N).
 */
public final class NvmeDeviceCheck {
    static final ReactorConfig CONFIG = new ReactorConfig(128, 128 * 1024, 256);
    static final int SLOT = 128 * 1024;
    static final int[] SIZES = {512, 1024, 4096, 8192, 3 * 4096, 7 * 512, 65536, 131072};
    static final int QUEUE_DEPTH = 32;

    private int passed;
    private int failed;

    interface Check {
        String run() throws Exception;
    }

    private void check(String name, Check c) {
        long start = System.nanoTime();
        try {
            String detail = c.run();
            passed++;
            System.out.printf("PASS %s%s (%d ms)%n", name, detail == null ? "" : ": " + detail,
                    (System.nanoTime() - start) / 1_000_000);
        } catch (Throwable t) {
            failed++;
            System.out.printf("FAIL %s: %s%n", name, t);
            t.printStackTrace(System.out);
        }
        System.out.flush();
    }

    static void require(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        String blockPath = args.length > 0 ? args[0] : "/dev/nvme0n1";
        String charPath = args.length > 1 ? args[1] : "/dev/ng0n1";
        int benchSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        long maxTransfer = args.length > 3 ? Long.parseLong(args[3]) : 0;
        NvmeDeviceCheck c = new NvmeDeviceCheck();
        c.runAll(blockPath, charPath, benchSeconds, maxTransfer);
        System.out.printf("%d passed, %d failed%n", c.passed, c.failed);
        System.exit(c.failed == 0 && c.passed > 0 ? 0 : 1);
    }

    private void runAll(String blockPath, String charPath, int benchSeconds, long maxTransfer) throws Exception {
        BlockDevice[] opened = new BlockDevice[2];
        check("open " + blockPath + " as the block kind", () -> {
            opened[0] = BlockDevices.open(blockPath);
            require("block".equals(opened[0].kind()), "kind " + opened[0].kind());
            require(opened[0].directIo(), "O_DIRECT");
            return opened[0].toString();
        });
        check("open " + charPath + " as the nvme-passthru kind (Identify Namespace + Controller)", () -> {
            opened[1] = BlockDevices.open(charPath);
            require("nvme-passthru".equals(opened[1].kind()), "kind " + opened[1].kind());
            return opened[1].toString();
        });
        BlockDevice block = opened[0];
        BlockDevice nvme = opened[1];
        if (block == null || nvme == null) {
            return;
        }
        NvmePassthruDevice passthru = (NvmePassthruDevice) nvme;
        try {
            check("both kinds see the same geometry", () -> {
                require(block.size() == nvme.size(), "size " + block.size() + " vs " + nvme.size());
                require(block.logicalBlockSize() == nvme.logicalBlockSize(), "LBA size");
                require(block.supportsDiscard() == nvme.supportsDiscard(), "discard");
                require(block.supportsWriteZeroes() == nvme.supportsWriteZeroes(), "write zeroes");
                require(block.volatileWriteCache() == nvme.volatileWriteCache(), "volatile write cache");
                return nvme.size() + " bytes, " + nvme.logicalBlockSize() + "-byte LBAs, nsid " + passthru.nsid()
                        + ", max transfer " + passthru.maxTransfer() / 1024 + " KiB";
            });
            if (maxTransfer > 0) {
                check("nvme-passthru found the controller's max transfer (MDTS, sysfs max_hw_sectors_kb)", () -> {
                    require(passthru.maxTransfer() == maxTransfer, passthru.maxTransfer() + " bytes, expected " + maxTransfer);
                    return maxTransfer / 1024 + " KiB";
                });
            }
            check("nvme-passthru probed IORING_URING_CMD_FIXED", () ->
                    passthru.fixedBuffers() ? "fixed buffers" : "plain buffers: " + passthru.fixedBuffersCause());
            long half = block.size() / 2 / SLOT * SLOT;
            try (Reactor rb = new Reactor("block", CONFIG, block); Reactor rn = new Reactor("passthru", CONFIG, nvme)) {
                check("nvme-passthru ring is SQE128 | CQE32, the block ring is not", () -> {
                    int big = io.sanport.bindings.uring.Liburing.IORING_SETUP_SQE128
                            | io.sanport.bindings.uring.Liburing.IORING_SETUP_CQE32;
                    require((rn.ringSetupFlags() & big) == big && (rb.ringSetupFlags() & big) == 0,
                            "flags " + rn.ringSetupFlags() + " / " + rb.ringSetupFlags());
                    return null;
                });
                deviceSuite(rb, block, 0, half, 11);
                deviceSuite(rn, nvme, half, half, 22);
                check("nvme-passthru: 128 KiB writes and reads beyond the max transfer are split, read back by both kinds", () -> {
                    long at = half + 700L * SLOT;
                    int chunks = (int) ((SLOT + passthru.maxTransfer() - 1) / passthru.maxTransfer());
                    Io.writePattern(rn, 0, at, SLOT, 55);
                    require(Io.verifyPattern(rn, 0, at, SLOT, 55) == -1, "passthru read back");
                    require(Io.verifyPattern(rb, 0, at, SLOT, 55) == -1, "block read back");
                    return chunks + " command(s) each";
                });
                check("nvme-passthru: a read past the end is refused before the device (OUT_OF_RANGE)", () ->
                        outOfRange(rn, nvme));
                check("block: a read past the end is refused before the device (OUT_OF_RANGE)", () ->
                        outOfRange(rb, block));
                check("bench block randread 4k QD32", () -> bench(rb, block, benchSeconds));
                check("bench nvme-passthru randread 4k QD32", () -> bench(rn, nvme, benchSeconds));
            }
            check("nvme-passthru: an LBA past the namespace reaches the controller: NVMe LBA Out of Range", () -> {
                try (Reactor r = new Reactor("oversized", CONFIG, new OversizedView(passthru))) {
                    IoRequest q = Io.run(r, new IoRequest().read(0, nvme.size(), 4096, Io.bufferAddress(r)));
                    String d = q.describe(r.device(0));
                    require(!q.succeeded() && (q.nvmeStatus() & 0x7ff) == Status.LBA_RANGE, d);
                    require(d.contains("NVMe status 0x0080 (LBA Out of Range"), d);
                    IoRequest w = Io.run(r, new IoRequest().writeZeroes(0, nvme.size() - 512, 4096));
                    require((w.nvmeStatus() & 0x7ff) == Status.LBA_RANGE, w.describe(r.device(0)));
                    return d;
                }
            });
            check("one SQE128 ring, both kinds: written as block, read as nvme-passthru, and back", () -> {
                try (Reactor r = new Reactor("mixed", CONFIG, block, nvme)) {
                    verifyBurst(r, 0, 1, 0, half, 33, 64); // block writes, passthru reads
                    verifyBurst(r, 1, 0, half, half, 44, 64); // passthru writes, block reads
                    return null;
                }
            });
        } finally {
            nvme.close();
            block.close();
        }
    }

    /** Patterns, write zeroes, discard, flush and FUA on {@code [base, base + length)} of one device. */
    private void deviceSuite(Reactor r, BlockDevice dev, long base, long length, long seed) {
        String k = dev.kind();
        check(k + ": 256 patterns at random offsets in mixed sizes, all in flight, read back", () ->
                verifyBurst(r, 0, 0, base, length, seed, 256));
        check(k + ": write zeroes on 512-byte boundaries leaves its neighbours", () -> {
            long at = base + 64L * SLOT;
            Io.writePattern(r, 0, at, SLOT, seed);
            long zStart = at + 512;
            long zLength = SLOT / 2 - 1024;
            IoRequest z = Io.run(r, new IoRequest().writeZeroes(0, zStart, zLength));
            require(z.succeeded() && z.result() == 0, z.describe(dev));
            require(Io.firstNonZero(r, 0, zStart, (int) zLength) == -1, "data left in the zeroed range");
            require(Io.verifyPattern(r, 0, at, 512, seed) == -1, "the block before was touched");
            require(Io.verifyPattern(r, 0, zStart + zLength, SLOT / 2 + 512, seed) == -1, "the blocks after were touched");
            return null;
        });
        check(k + ": write zeroes over 64Ki blocks (40 MiB, more than one NVMe command)", () -> {
            long at = base + 128L * SLOT;
            Io.writePattern(r, 0, at + (20 << 20), 65536, seed);
            IoRequest z = Io.run(r, new IoRequest().writeZeroes(0, at, 40L << 20));
            require(z.succeeded(), z.describe(dev));
            require(Io.firstNonZero(r, 0, at + (20 << 20), 65536) == -1, "data left in the zeroed range");
            return null;
        });
        check(k + ": discard (DSM deallocate), then the range takes writes again", () -> {
            long at = base + 512L * SLOT;
            Io.writePattern(r, 0, at, SLOT, seed);
            IoRequest d = Io.run(r, new IoRequest().discard(0, at, SLOT));
            require(d.succeeded() && d.result() == 0, d.describe(dev));
            // QEMU's drive runs with discard=ignore: deallocated blocks may keep their data, so only report it
            String after = Io.firstNonZero(r, 0, at, SLOT) == -1 ? "reads zeroes" : "data kept (drive discard=ignore)";
            Io.writePattern(r, 0, at, SLOT, seed + 1);
            require(Io.verifyPattern(r, 0, at, SLOT, seed + 1) == -1, "rewrite after discard");
            return after;
        });
        check(k + ": flush", () -> {
            IoRequest f = Io.run(r, new IoRequest().flush(0));
            require(f.succeeded() && f.result() == 0, f.describe(dev));
            return null;
        });
        check(k + ": FUA write reads back", () -> {
            long at = base + 600L * SLOT;
            Io.withBuffer(r, SLOT, seg -> DataPattern.fill(seg, at, seed + 2),
                    a -> new IoRequest().write(0, at, SLOT, a, true), seg -> 0);
            require(Io.verifyPattern(r, 0, at, SLOT, seed + 2) == -1, "mismatch");
            return null;
        });
    }

    private static String outOfRange(Reactor r, BlockDevice dev) throws Exception {
        IoRequest q = Io.run(r, new IoRequest().read(0, dev.size(), 4096, Io.bufferAddress(r)));
        String d = q.describe(dev);
        require(q.refusal() == IoRequest.Refusal.OUT_OF_RANGE && !q.succeeded(), d);
        require(d.contains("beyond the end of the device"), d);
        return d;
    }

    /**
     * {@code count} writes of patterns (mixed sizes, each in its own random 128 KiB slot of the range) through
     * device {@code writer}, all submitted at once from the reactor thread, then the same ranges read back
     * through device {@code reader}, all at once, and compared.
     */
    private static String verifyBurst(Reactor r, int writer, int reader, long base, long length, long seed, int count)
            throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        long slots = length / SLOT;
        List<long[]> ios = new ArrayList<>(); // offset, size, pattern seed
        java.util.Set<Long> used = new java.util.HashSet<>();
        while (ios.size() < count) {
            long slot = random.nextLong(slots);
            if (!used.add(slot)) continue;
            int size = SIZES[random.nextInt(SIZES.length)];
            long within = random.nextInt((SLOT - size) / 512 + 1) * 512L;
            ios.add(new long[] {base + slot * SLOT + within, size, random.nextLong()});
        }
        burst(r, writer, ios, true);
        long bad = burst(r, reader, ios, false);
        require(bad == 0, bad + " of " + count + " ranges read back wrong");
        return count + " I/Os, " + ios.stream().mapToLong(io -> io[1]).sum() / 1024 + " KiB each way";
    }

    /** Runs every I/O at once (the reactor parks what does not fit); returns how many failed or mismatched. */
    private static long burst(Reactor r, int device, List<long[]> ios, boolean write) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        r.execute(() -> {
            BufferPool pool = r.buffers();
            long[] left = {ios.size()};
            long[] bad = {0};
            StringBuilder first = new StringBuilder();
            for (long[] io : ios) {
                int b = pool.acquire();
                MemorySegment seg = pool.buffer(b).asSlice(0, io[1]);
                if (write) DataPattern.fill(seg, io[0], io[2]);
                IoRequest q = new IoRequest(x -> {
                    boolean ok = x.succeeded() && (write || DataPattern.firstMismatch(seg, io[0], io[2]) == -1);
                    if (!ok) {
                        bad[0]++;
                        if (first.isEmpty()) first.append(x.describe(r.device(device)));
                    }
                    pool.release(b);
                    if (--left[0] == 0) {
                        if (!first.isEmpty()) System.out.println("  first bad: " + first);
                        done.complete(bad[0]);
                    }
                });
                if (write) q.write(device, io[0], (int) io[1], pool.address(b), false);
                else q.read(device, io[0], (int) io[1], pool.address(b));
                r.submit(q);
            }
        });
        return done.get(60, TimeUnit.SECONDS);
    }

    /** 4 KiB random reads at queue depth 32 for {@code seconds} after a one-second warm-up, on the reactor thread. */
    private static String bench(Reactor r, BlockDevice dev, int seconds) throws Exception {
        long blocks = dev.size() / 4096;
        CompletableFuture<long[]> done = new CompletableFuture<>();
        r.execute(() -> {
            BufferPool pool = r.buffers();
            long start = System.nanoTime();
            long measureFrom = start + TimeUnit.SECONDS.toNanos(1);
            long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
            long[] state = {0, 0, QUEUE_DEPTH, 0x9E3779B97F4A7C15L, 0}; // completed, failed, running, rng, measured
            long[] measuredStart = {0};
            IoCallback[] loop = new IoCallback[1];
            loop[0] = q -> {
                long now = System.nanoTime();
                if (!q.succeeded()) state[1]++;
                if (now >= measureFrom) {
                    if (measuredStart[0] == 0) measuredStart[0] = now;
                    state[0]++;
                }
                if (now >= end) {
                    if (--state[2] == 0) done.complete(new long[] {state[0], state[1], now - measuredStart[0]});
                    return;
                }
                long x = state[3];
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                state[3] = x;
                r.submit(q.read(0, Long.remainderUnsigned(x, blocks) * 4096, 4096, q.address()));
            };
            for (int i = 0; i < QUEUE_DEPTH; i++) {
                IoRequest q = new IoRequest(loop[0]);
                r.submit(q.read(0, (long) i * 4096, 4096, pool.address(pool.acquire())));
            }
        });
        long[] res = done.get(seconds + 60L, TimeUnit.SECONDS);
        require(res[1] == 0, res[1] + " reads failed");
        double iops = res[0] * 1e9 / res[2];
        System.out.printf(Locale.ROOT, "BENCH %s iops %.0f%n", dev.kind(), iops);
        return String.format(Locale.ROOT, "%.0f IOPS", iops);
    }

    /** The passthrough namespace claiming twice its size, so the reactor lets an out-of-range LBA through. */
    static final class OversizedView extends ForwardingDevice {
        OversizedView(NvmePassthruDevice dev) {
            super(dev);
        }

        @Override public String name() { return inner.name() + " (oversized view)"; }
        @Override public long size() { return 2 * inner.size(); }
        @Override public void close() { } // the view does not own the fd
    }
}
