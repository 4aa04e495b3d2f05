package io.sanport.cli;

import io.sanport.bench.ProcessSample;
import io.sanport.bench.Soak;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetConfig.NamespaceConfig;
import io.sanport.hostdriver.TargetConfig.PortConfig;
import io.sanport.hostdriver.TargetConfig.SubsystemConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sanport bench soak}: a target under verified I/O, connection churn and the NVMe/TCP fuzzer, with
 * its descriptors and RSS sampled; by default the target runs in this process on RAM namespaces, so one
 * command is a whole CI stage. Exit status 0 only when every check passed.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Soak a target: verified I/O from the Java initiator on several queues, hosts connecting "
                + "and disconnecting, and seeded malformed NVMe/TCP PDUs on the side, sampling the target's file "
                + "descriptors and RSS. Ends with a verdict and 'N passed, M failed'.",
                "Without --address, starts its own target in this process on two RAM namespaces (one for the "
                        + "good hosts, one for the fuzzer)."})
final class SoakCommand implements Callable<Integer> {
    static final String GOOD = "nqn.2026-11.io.sanport:soak:good";
    static final String FUZZ = "nqn.2026-11.io.sanport:soak:fuzzed";

    @Option(names = "--seconds", defaultValue = "150", description = "How long to run the load (default: ${DEFAULT-VALUE}).")
    double seconds;
    @Option(names = "--queues", defaultValue = "4", description = "I/O queues of the good host (default: ${DEFAULT-VALUE}).")
    int queues;
    @Option(names = "--streams", defaultValue = "8", description = "Verified write/read streams of the good host (default: ${DEFAULT-VALUE}).")
    int streams;
    @Option(names = "--churn", defaultValue = "2", description = "Threads connecting and disconnecting hosts (default: ${DEFAULT-VALUE}).")
    int churn;
    @Option(names = "--no-fuzz", description = "Leave the fuzzer out.")
    boolean noFuzz;
    @Option(names = "--seed", defaultValue = "0x50a4", description = "Seed of the fuzzer and the I/O (default: ${DEFAULT-VALUE}).")
    String seed;
    @Option(names = "--sample", defaultValue = "5", description = "Seconds between samples (default: ${DEFAULT-VALUE}).")
    double sample;
    @Option(names = "--reactors", defaultValue = "2", description = "Reactors of the in-process target (default: ${DEFAULT-VALUE}).")
    int reactors;
    @Option(names = {"-a", "--address"}, description = "Soak a running target at this address instead of starting one.")
    String address;
    @Option(names = {"-s", "--port"}, defaultValue = "4420", description = "Its port (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = {"-n", "--nqn"}, description = "Its subsystem for the good hosts (namespace 1 is overwritten).")
    String nqn;
    @Option(names = "--fuzz-nqn", description = "Its subsystem for the fuzzer (its namespaces get garbage); none: no fuzz.")
    String fuzzNqn;
    @Option(names = "--pid", description = "Its process id, to sample descriptors and RSS.")
    String pid;
    @Option(names = "--rdma-port", defaultValue = "0", description = "Its NVMe/RDMA port at the same address: a second "
            + "good host over RDMA on --rdma-nqn, every other churning host over RDMA, and the RDMA fuzzer on --fuzz-nqn.")
    int rdmaPort;
    @Option(names = "--rdma-nqn", description = "Its subsystem for the good host over RDMA (namespace 1 is overwritten).")
    String rdmaNqn;
    @Option(names = "--kato-ms", defaultValue = "0", description = "Keep-alive timeout of the good and churning hosts, "
            + "0 for the client's default (a slow emulated guest may need 30000).")
    int katoMillis;

    @Override
    public Integer call() throws Exception {
        long s = Long.decode(seed);
        if (address != null) {
            if (nqn == null) throw new IllegalArgumentException("--address needs --nqn");
            if (rdmaPort != 0 && rdmaNqn == null) throw new IllegalArgumentException("--rdma-port needs --rdma-nqn");
            Soak.Options o = new Soak.Options(address, port, nqn, noFuzz ? null : fuzzNqn, seconds, queues, streams,
                    churn, s, sample, rdmaPort, rdmaNqn, katoMillis);
            return Soak.run(o, Soak.process(pid, () -> null), System.out) == 0 ? 0 : 1;
        }
        if (rdmaPort != 0) throw new IllegalArgumentException("--rdma-port is for a running target (--address)");
        muteFuzzNoise();
        long heapMiB = Runtime.getRuntime().maxMemory() >> 20;
        if (heapMiB > 512) {
            System.out.println("note: this JVM's heap may grow to " + heapMiB + " MiB and RSS counts it; for an RSS check "
                    + "that sees the target rather than the heap sizing, cap it: SANPORT_JAVA_OPTS=-Xmx256m");
        }
        try (Target target = start(reactors)) {
            int bound = target.ports().getFirst().boundPort();
            Soak.Options o = new Soak.Options("127.0.0.1", bound, GOOD, noFuzz ? null : FUZZ, seconds, queues, streams,
                    churn, s, sample);
            int failed = Soak.run(o, new InProcess(target), System.out);
            if (muted.get() > 0) {
                System.err.println("(" + muted.get() + " target warnings about the fuzzer's malformed PDUs and digests were "
                        + "not shown; SANPORT_DEBUG=1 shows them)");
            }
            return failed == 0 ? 0 : 1;
        }
    }

    private final java.util.concurrent.atomic.AtomicLong muted = new java.util.concurrent.atomic.AtomicLong();

    /**
     * The target warns once per connection it ends for a malformed PDU or a digest error: thousands of lines
     * under the fuzzer. Counted instead of shown, so the soak's own lines and any other warning stand out.
     */
    private void muteFuzzNoise() {
        if (System.getenv("SANPORT_DEBUG") != null) return;
        for (java.util.logging.Handler h : java.util.logging.Logger.getLogger("").getHandlers()) {
            h.setFilter(r -> {
                String m = r.getMessage();
                boolean noise = "sanport.tcp".equals(r.getLoggerName()) && m != null
                        && (m.contains("malformed PDU") || m.contains("digest error"));
                if (noise) muted.incrementAndGet();
                return !noise;
            });
        }
    }

    /** One port on 127.0.0.1, two subsystems: the fuzzer's writes cannot reach the good hosts' data. */
    static Target start(int reactors) throws IOException {
        SubsystemConfig good = new SubsystemConfig(GOOD, true, List.of(), "soak0001", "sanport",
                List.of(new NamespaceConfig(1, true, "ram:256M", null, null)));
        SubsystemConfig fuzz = new SubsystemConfig(FUZZ, true, List.of(), "soak0002", "sanport",
                List.of(new NamespaceConfig(1, true, "ram:16M", null, null)));
        PortConfig p = new PortConfig(1, "tcp", "ipv4", "127.0.0.1", "0", List.of(GOOD, FUZZ));
        return Target.open(new TargetConfig(List.of(), List.of(p), List.of(good, fuzz)), reactors,
                ReactorConfig.DEFAULT, TargetOptions.DEFAULT.withDiscoveryPort(0));
    }

    /**
     * The target is this JVM: /proc/self for descriptors and RSS, its own threads by name (the JVM's compiler
     * threads and the hosts' threads come and go), and its reactors can be asked directly.
     */
    record InProcess(Target target) implements Soak.TargetProbe {
        @Override
        public ProcessSample sample() throws IOException {
            ProcessSample self = ProcessSample.self();
            long threads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("sanport-") && !t.getName().startsWith("sanport-offload"))
                    .count();
            return new ProcessSample(self.fds(), self.rssKib(), threads);
        }

        @Override
        public int threadSlack() {
            return 0;
        }

        @Override
        public String problem() {
            for (Reactor r : target.reactors()) {
                if (!r.thread().isAlive() || r.terminated().isDone()) return r + " is gone";
                try {
                    r.call(x -> 1).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    return r + " does not run its tasks: " + e;
                }
            }
            return null;
        }
    }
}
