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

        @Override
        public Integer call() throws Exception {
            Workload w = options.workload();
            PrintStream out = System.out;
            try (BlockDevice dev = device.open(json ? System.err : out);
                 Reactor reactor = new Reactor("sanport-bench", LocalBench.reactorConfig(w), dev)) {
                if (!json) {
                    out.println("device: " + dev);
                }
                BenchResult result = LocalBench.run(reactor, w, json ? null : System.err);
                out.println(json ? result.json() : result.summary());
            }
            return 0;
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
