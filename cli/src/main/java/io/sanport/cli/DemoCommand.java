package io.sanport.cli;

import io.sanport.bench.BenchResult;
import io.sanport.bench.LocalBench;
import io.sanport.bench.Workload;
import io.sanport.iop.BlockDevice;
import io.sanport.iop.BufferPool;
import io.sanport.iop.DataPattern;
import io.sanport.iop.IoRequest;
import io.sanport.iop.Reactor;
import java.io.PrintStream;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sanport demo}: the main job on a built-in default, on any machine. Today: the local I/O processor on
 * the default image (write a pattern, read it back and verify, then a short benchmark).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run sanport end to end on the built-in default image: write, read back and verify data "
                + "through the io_uring I/O processor, then a short benchmark. Needs no disk or NIC.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    DeviceOption device;

    @Option(names = "--seconds", defaultValue = "3", description = "Length of each benchmark (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--blocks", defaultValue = "512", description = "How many blocks to write and verify (default: ${DEFAULT-VALUE}).")
    int blocks;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Workload randread = new Workload(Workload.Pattern.RANDREAD, 4096, 32, seconds, 0.5);
        try (BlockDevice dev = device.open(out);
             Reactor reactor = new Reactor("sanport-demo", LocalBench.reactorConfig(
                     new Workload(Workload.Pattern.RANDWRITE, 128 * 1024, 32, 1, 0)), dev)) {
            out.println("device: " + dev);
            long started = System.nanoTime();
            long bytes = writeAndVerify(reactor, dev, out);
            out.printf("verified %d blocks (%.1f MiB) written at random offsets, in %.2f s%n", blocks,
                    bytes / 1048576.0, (System.nanoTime() - started) / 1e9);
        }
        for (Workload w : new Workload[] {randread,
                new Workload(Workload.Pattern.RANDWRITE, 4096, 32, seconds, 0.5),
                new Workload(Workload.Pattern.READ, 128 * 1024, 8, seconds, 0.5)}) {
            try (BlockDevice dev = device.open(out);
                 Reactor reactor = new Reactor("sanport-bench", LocalBench.reactorConfig(w), dev)) {
                BenchResult r = LocalBench.run(reactor, w, out);
                out.println(r.summary());
            }
        }
        out.println("demo finished: the I/O processor wrote, verified and benchmarked " + device.describe());
        return 0;
    }

    /** Writes {@code blocks} patterned blocks of mixed sizes at random aligned offsets, then reads each back. */
    private long writeAndVerify(Reactor reactor, BlockDevice dev, PrintStream out) throws Exception {
        SplittableRandom random = new SplittableRandom(System.nanoTime());
        long seed = random.nextLong();
        int[] sizes = {4096, 8192, 16384, 65536, 131072};
        long[] offsets = new long[blocks];
        int[] lengths = new int[blocks];
        long slots = dev.size() / 131072; // one block per 128 KiB slot: no overlaps
        long[] taken = random.longs(Math.min(slots, blocks * 4L), 0, slots).distinct().limit(blocks).toArray();
        if (taken.length < blocks) {
            throw new IllegalStateException("the device is too small for " + blocks + " blocks");
        }
        long total = 0;
        for (int i = 0; i < blocks; i++) {
            lengths[i] = sizes[random.nextInt(sizes.length)];
            offsets[i] = taken[i] * 131072;
            total += lengths[i];
        }
        runAll(reactor, dev, offsets, lengths, seed, true);
        runAll(reactor, dev, offsets, lengths, seed, false);
        return total;
    }

    /** Runs every block's write (or read + verify) with the reactor's buffers, at most one per buffer at a time. */
    private static void runAll(Reactor reactor, BlockDevice dev, long[] offsets, int[] lengths, long seed, boolean write)
            throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        reactor.execute(() -> new Object() {
            final BufferPool pool = reactor.buffers();
            int next;
            int outstanding;

            void pump() {
                while (next < offsets.length && pool.available() > 0 && !done.isDone()) {
                    int i = next++;
                    int b = pool.acquire();
                    var seg = pool.buffer(b).asSlice(0, lengths[i]);
                    IoRequest r = new IoRequest(q -> {
                        outstanding--;
                        if (!q.succeeded()) {
                            done.completeExceptionally(new java.io.IOException(q.describe(dev)));
                        } else if (!write && DataPattern.firstMismatch(seg, offsets[i], seed) >= 0) {
                            done.completeExceptionally(new IllegalStateException("data mismatch in the "
                                    + lengths[i] + " bytes at offset " + offsets[i] + " of " + dev.name()));
                        }
                        pool.release(b);
                        pump();
                    });
                    if (write) {
                        DataPattern.fill(seg, offsets[i], seed);
                        r.write(0, offsets[i], lengths[i], pool.address(b), false);
                    } else {
                        r.read(0, offsets[i], lengths[i], pool.address(b));
                    }
                    outstanding++;
                    reactor.submit(r);
                }
                if (next == offsets.length && outstanding == 0) {
                    done.complete(null);
                }
            }
        }.pump());
        done.get(60, TimeUnit.SECONDS);
    }
}
