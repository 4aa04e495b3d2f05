package io.sanport.cli;

import io.sanport.bench.BenchResult;
import io.sanport.bench.LocalBench;
import io.sanport.bench.RemoteBench;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import io.sanport.bench.Workload;
import io.sanport.iop.BlockDevice;
import io.sanport.iop.Reactor;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sanport bench}: measure, the way fio does, so the two can stand side by side. */
@Command(name = "bench", description = "Measure I/O throughput and latency: the local I/O processor, or a remote namespace.",
        mixinStandardHelpOptions = true, subcommands = {BenchCommand.Local.class, BenchCommand.Remote.class, SoakCommand.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class WorkloadOptions {
        @Option(names = "--rw", defaultValue = "randread", description = "randread, randwrite, read or write (default: ${DEFAULT-VALUE}).")
        String rw;
        @Option(names = "--bs", defaultValue = "4k", description = "Block size (default: ${DEFAULT-VALUE}).")
        String bs;
        @Option(names = "--qd", defaultValue = "32", description = "Queue depth (default: ${DEFAULT-VALUE}).")
        int qd;
        @Option(names = "--seconds", defaultValue = "10", description = "Measured duration (default: ${DEFAULT-VALUE}).")
        double seconds;
        @Option(names = "--ramp", defaultValue = "1", description = "Warm-up seconds not measured, like fio's ramp_time (default: ${DEFAULT-VALUE}).")
        double ramp;

        Workload workload() {
            return new Workload(Workload.Pattern.parse(rw), Workload.parseBlockSize(bs), qd, seconds, ramp);
        }
    }

    @Command(name = "local", mixinStandardHelpOptions = true,
            description = {"Benchmark the local I/O processor (io_uring, O_DIRECT, fixed buffers and files) on a "
                    + "device, as fio --ioengine=io_uring --fixedbufs --registerfiles would.",
                    "Writes destroy the device's data."})
    static final class Local implements Callable<Integer> {
        @Mixin
        DeviceOption device;
        @ArgGroup(exclusive = false)
        WorkloadOptions options = new WorkloadOptions();
        @Option(names = "--json", description = "Print only the result, as one JSON object.")
        boolean json;
        @Option(names = "--jobs", defaultValue = "1",
                description = "Reactors (threads), each with --qd requests in flight on the device, as fio's numjobs "
                        + "with group reporting (default: ${DEFAULT-VALUE}).")
        int jobs;

        @Override
        public Integer call() throws Exception {
            if (jobs < 1 || jobs > 256) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--jobs must be 1..256");
            }
            Workload w = options.workload();
            PrintStream out = System.out;
            try (BlockDevice dev = device.open(json ? System.err : out)) {
                if (!json) {
                    out.println("device: " + dev + (jobs > 1 ? ", " + jobs + " jobs" : ""));
                }
                BenchResult result = jobs == 1 ? runOne(dev, w, 0, json ? null : System.err) : runJobs(dev, w);
                out.println(json ? result.json() : result.summary());
            }
            return 0;
        }

        private static BenchResult runOne(BlockDevice dev, Workload w, int job, PrintStream progress) throws Exception {
            // the device is opened once (exclusively) and shared: each reactor registers it in its own ring
            try (Reactor reactor = new Reactor("sanport-bench" + (job == 0 ? "" : "-" + job), LocalBench.reactorConfig(w), dev)) {
                return LocalBench.run(reactor, w, progress);
            }
        }

        /** One reactor per job on its own thread, all on the one device; progress from the first. */
        private BenchResult runJobs(BlockDevice dev, Workload w) throws Exception {
            java.util.List<java.util.concurrent.Future<BenchResult>> running = new java.util.ArrayList<>();
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(jobs)) {
                for (int j = 0; j < jobs; j++) {
                    int job = j;
                    running.add(pool.submit(() -> runOne(dev, w, job, job == 0 && !json ? System.err : null)));
                }
                java.util.List<BenchResult> results = new java.util.ArrayList<>();
                for (var f : running) {
                    try {
                        results.add(f.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw e.getCause() instanceof Exception x ? x : e;
                    }
                }
                return BenchResult.combine(results);
            }
        }
    }

    @Command(name = "remote", mixinStandardHelpOptions = true,
            description = {"Benchmark a namespace of a remote NVMe-oF subsystem through sanport's Java initiator, as "
                    + "fio would against a local /dev/nvmeXnY.", "Writes destroy the namespace's data."})
    static final class Remote implements Callable<Integer> {
        @Mixin
        RemoteOptions remote;
        @Option(names = {"-s", "--port"}, defaultValue = "4420", description = "trsvcid (default: ${DEFAULT-VALUE}).")
        int port;
        @Option(names = {"-n", "--nqn"}, required = true, description = "The subsystem NQN.")
        String nqn;
        @Option(names = "--nsid", defaultValue = "1", description = "Namespace ID (default: ${DEFAULT-VALUE}).")
        int nsid;
        @ArgGroup(exclusive = false)
        WorkloadOptions options = new WorkloadOptions();
        @Option(names = "--json", description = "Print only the result, as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Workload w = options.workload();
            try (RemoteController controller = RemoteController.connect(remote.address, port, nqn, remote.connectOptions())) {
                RemoteNamespace ns = controller.namespace(nsid);
                if (!json) {
                    System.out.println("connected: " + controller + "; namespace " + ns);
                }
                BenchResult result = RemoteBench.run(ns, w, json ? null : System.err);
                System.out.println(json ? result.json() : result.summary());
            }
            return 0;
        }
    }
}
