package io.sanport.cli;

import io.sanport.bench.BenchResult;
import io.sanport.bench.RemoteBench;
import io.sanport.bench.Workload;
import io.sanport.client.ConnectOptions;
import io.sanport.client.Discovery;
import io.sanport.client.DiscoveryRecord;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import io.sanport.iop.DataPattern;
import io.sanport.iop.ReactorConfig;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sanport demo}: the whole path on any machine. Exports the default image over NVMe/TCP on 127.0.0.1,
 * finds it through the discovery service, connects sanport's Java initiator, writes and verifies data, runs a
 * short benchmark, and prints the line a Linux peer would use to connect.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Export the built-in default image over NVMe/TCP on 127.0.0.1, discover it, connect the Java "
                + "client, write and verify data, run a short benchmark, print the 'nvme connect' line a Linux peer "
                + "would use. Needs no disk or NIC.")
final class DemoCommand implements Callable<Integer> {
    static final String NQN = "nqn.2026-11.io.sanport:demo";

    @Option(names = {"-d", "--device"}, paramLabel = "PATH", description = "Export this instead of the default image (its data is overwritten).")
    String device;
    @Option(names = "--seconds", defaultValue = "3", description = "Length of each benchmark (default: ${DEFAULT-VALUE}).")
    double seconds;
    @Option(names = "--blocks", defaultValue = "256", description = "How many blocks to write and verify (default: ${DEFAULT-VALUE}).")
    int blocks;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        String path = device;
        if (path == null) {
            DeviceOption.createDefaultIfMissing(out);
            path = DefaultImage.path().toString();
        }
        // ephemeral ports, so a demo never collides with a real target on 4420/8009
        TargetConfig cfg = TargetConfig.forDevice(path, NQN, "tcp", "127.0.0.1", 0);
        try (Target target = Target.open(cfg, 1, ReactorConfig.DEFAULT, TargetOptions.DEFAULT.withDiscoveryPort(0))) {
            Port port = target.ports().getFirst();
            int svc = port.boundPort();
            out.println("1. target: exporting " + path + " as namespace 1 of " + NQN + " on tcp 127.0.0.1:" + svc);

            ConnectOptions options = ConnectOptions.defaults().withIoQueues(1);
            List<DiscoveryRecord> records = Discovery.discover("127.0.0.1", svc, options.withIoQueues(0));
            out.println("2. discovery: " + records.size() + " record(s)");
            for (DiscoveryRecord r : records) {
                out.println("     " + r);
            }

            try (RemoteController controller = RemoteController.connect("127.0.0.1", svc, NQN, options)) {
                RemoteNamespace ns = controller.namespace(1);
                out.printf("3. client: connected (controller %d, model '%s', serial '%s'); namespace 1: %d blocks of %d "
                                + "bytes (%d MiB), max transfer %d KiB%n", controller.cntlid(), controller.model().strip(),
                        controller.serial().strip(), ns.blocks(), ns.blockSize(), ns.sizeBytes() >> 20,
                        ns.maxTransferBytes() >> 10);
                long started = System.nanoTime();
                long bytes = writeAndVerify(ns);
                out.printf("4. data: wrote %d blocks (%.1f MiB) at random offsets over NVMe/TCP, read them back: all "
                        + "verified (%.2f s)%n", blocks, bytes / 1048576.0, (System.nanoTime() - started) / 1e9);
                out.println("5. benchmark (client and target share this machine's cores):");
                for (Workload w : new Workload[] {
                        new Workload(Workload.Pattern.RANDREAD, 4096, 32, seconds, 0.5),
                        new Workload(Workload.Pattern.RANDWRITE, 4096, 32, seconds, 0.5),
                        new Workload(Workload.Pattern.READ, 128 * 1024, 8, seconds, 0.5)}) {
                    BenchResult r = RemoteBench.run(ns, w, out);
                    out.println("     " + r.summary());
                }
            }
            out.println("6. a Linux peer would attach this export with (while a target runs; see 'sanport export'):");
            out.println("     nvme connect -t tcp -a 127.0.0.1 -s " + svc + " -n " + NQN);
        }
        out.println("demo finished: exported, discovered, connected, verified and benchmarked " + path);
        return 0;
    }

    /** Writes patterned blocks of mixed sizes at distinct random offsets, 16 in flight, then reads each back. */
    private long writeAndVerify(RemoteNamespace ns) throws Exception {
        SplittableRandom random = new SplittableRandom(System.nanoTime());
        long seed = random.nextLong();
        int slot = (int) Math.min(128 * 1024, ns.maxTransferBytes());
        int[] sizes = {4096, 8192, 16384, 65536, slot};
        long slots = ns.sizeBytes() / slot;
        long[] taken = random.longs(blocks * 4L, 0, slots).distinct().limit(blocks).toArray();
        if (taken.length < blocks) {
            throw new IllegalStateException("the namespace is too small for " + blocks + " blocks");
        }
        long total = 0;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] buffers = new MemorySegment[blocks];
            long[] offsets = new long[blocks];
            for (int i = 0; i < blocks; i++) {
                int size = Math.min(sizes[random.nextInt(sizes.length)], slot);
                offsets[i] = taken[i] * slot;
                buffers[i] = arena.allocate(size, 4096);
                total += size;
            }
            for (boolean write : new boolean[] {true, false}) {
                for (int start = 0; start < blocks; start += 16) {
                    List<CompletableFuture<Void>> inflight = new ArrayList<>();
                    for (int i = start; i < Math.min(blocks, start + 16); i++) {
                        long lba = offsets[i] / ns.blockSize();
                        if (write) {
                            DataPattern.fill(buffers[i], offsets[i], seed);
                            inflight.add(ns.writeAsync(lba, buffers[i]));
                        } else {
                            buffers[i].fill((byte) 0);
                            inflight.add(ns.readAsync(lba, buffers[i]));
                        }
                    }
                    CompletableFuture.allOf(inflight.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                }
            }
            for (int i = 0; i < blocks; i++) {
                long bad = DataPattern.firstMismatch(buffers[i], offsets[i], seed);
                if (bad >= 0) {
                    throw new IllegalStateException("data mismatch at byte " + (offsets[i] + bad) + " of the namespace");
                }
            }
        }
        return total;
    }
}
