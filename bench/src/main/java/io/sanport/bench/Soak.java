package io.sanport.bench;

import io.sanport.bench.fuzz.RdmaFuzzer;
import io.sanport.bench.fuzz.TcpFuzzer;
import io.sanport.client.ConnectOptions;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The soak: one NVMe/TCP target under mixed verified I/O from the Java initiator on several queues, hosts
 * connecting and disconnecting beside it, and the seeded fuzzer on a subsystem of its own, with the target's
 * descriptors, RSS and threads sampled as it runs. It ends with a verdict per property and
 * "N passed, M failed" as the last line, so a CI stage can read it.
 */
public final class Soak {
    /**
     * @param goodNqn     the subsystem the good hosts use (its namespace 1 is overwritten)
     * @param fuzzNqn     the fuzzer's subsystem, null for no fuzz
     * @param churnHosts  threads that each connect a host, read, and disconnect, over and over
     * @param rdmaPort    0, or the target's NVMe/RDMA port at the same address: then a second good host over RDMA
     *                    on {@code rdmaNqn}, every other churning host over RDMA, and the RDMA fuzzer on
     *                    {@code fuzzNqn} beside the TCP one
     * @param katoMillis  the good and churning hosts' keep-alive timeout, 0 for the client's default (a host in a
     *                    slow emulated guest may need more)
     */
    public record Options(String address, int port, String goodNqn, String fuzzNqn, double seconds, int queues,
                          int streams, int churnHosts, long seed, double sampleSeconds, int rdmaPort, String rdmaNqn,
                          int katoMillis) {
        public Options(String address, int port, String goodNqn, String fuzzNqn, double seconds, int queues,
                       int streams, int churnHosts, long seed, double sampleSeconds) {
            this(address, port, goodNqn, fuzzNqn, seconds, queues, streams, churnHosts, seed, sampleSeconds, 0, null, 0);
        }

        public Options {
            if (rdmaPort != 0 && rdmaNqn == null) throw new IllegalArgumentException("an RDMA port needs the RDMA good host's subsystem");
        }

        boolean rdma() { return rdmaPort != 0; }
    }

    /** What the soak cannot see by itself: the target's process, and whether it is whole (null when it is). */
    public interface TargetProbe {
        /** The target process's descriptors, RSS and threads, or null when it cannot be sampled. */
        ProcessSample sample() throws IOException;

        /** Null when the target is whole, else what is wrong (a reactor gone...). */
        String problem();

        /** Threads the target may hold beyond its baseline once idle (pools that shrink late, a JIT thread). */
        default int threadSlack() { return 4; }
    }

    private final Options o;
    private final TargetProbe target;
    private final PrintStream out;
    private final AtomicLong churnCycles = new AtomicLong();
    private final AtomicLong churnErrors = new AtomicLong();
    private final AtomicReference<String> churnFirstError = new AtomicReference<>();
    private volatile boolean stop;
    private int passed;
    private int failed;

    private Soak(Options o, TargetProbe target, PrintStream out) {
        this.o = o;
        this.target = target;
        this.out = out;
    }

    /** Runs the soak and prints its verdict; returns the number of failed checks. */
    public static int run(Options o, TargetProbe target, PrintStream out) throws Exception {
        return new Soak(o, target, out).run();
    }

    private int run() throws Exception {
        ConnectOptions good = hostOptions().withIoQueues(o.queues());
        TcpFuzzer fuzzer = o.fuzzNqn() == null ? null : new TcpFuzzer(o.address(), o.port(), o.fuzzNqn());
        RdmaFuzzer rdmaFuzzer = o.fuzzNqn() == null || !o.rdma() ? null : new RdmaFuzzer(o.address(), o.rdmaPort(), o.fuzzNqn());
        try (RemoteController host = RemoteController.connect(o.address(), o.port(), o.goodNqn(), good);
             RemoteController rdmaHost = o.rdma() ? RemoteController.connect(o.address(), o.rdmaPort(), o.rdmaNqn(),
                     good.withTransport(ConnectOptions.Transport.RDMA)) : null) {
            RemoteNamespace ns = host.namespace(1);
            RemoteNamespace rdmaNs = rdmaHost == null ? null : rdmaHost.namespace(1);
            out.printf("soak: %s:%d, %s, %d queues x %d verified streams, %d churning hosts, fuzz %s, seed 0x%x, %.0f s%n",
                    o.address(), o.port(), o.goodNqn(), o.queues(), o.streams(), o.churnHosts(),
                    fuzzer == null ? "off" : "on " + o.fuzzNqn(), o.seed(), o.seconds());
            if (o.rdma()) {
                out.printf("      NVMe/RDMA on port %d: a good host on %s (%d queues x %d verified streams), every other "
                        + "churning host, RDMA fuzz %s%n", o.rdmaPort(), o.rdmaNqn(), o.queues(), o.streams(),
                        rdmaFuzzer == null ? "off" : "on " + o.fuzzNqn());
            }
            // one of each kind of connection before the baseline: the JDK and the target open things on first use
            churnOnce(0);
            if (o.rdma() && o.churnHosts() > 1) churnOnce(1);
            if (fuzzer != null) fuzzer.probe();
            if (rdmaFuzzer != null) rdmaFuzzer.probe();
            ProcessSample baseline = target.sample();
            out.println("baseline: " + (baseline == null ? "not sampled" : baseline));

            VerifiedIo io = new VerifiedIo(ns, o.streams(), o.seed()).start();
            VerifiedIo rdmaIo = rdmaNs == null ? null : new VerifiedIo(rdmaNs, o.streams(), o.seed() + 1000).start();
            List<Thread> load = new ArrayList<>();
            for (int i = 0; i < o.churnHosts(); i++) {
                int n = i;
                load.add(Thread.ofPlatform().daemon().name("soak-churn-" + i).start(() -> churn(n)));
            }
            if (fuzzer != null) {
                load.add(Thread.ofPlatform().daemon().name("soak-fuzz").start(
                        () -> fuzzer.run(o.seed(), Long.MAX_VALUE, () -> stop)));
            }
            if (rdmaFuzzer != null) {
                load.add(Thread.ofPlatform().daemon().name("soak-rdma-fuzz").start(
                        () -> rdmaFuzzer.run(o.seed(), Long.MAX_VALUE, () -> stop)));
            }
            List<ProcessSample> samples = new ArrayList<>();
            List<Double> times = new ArrayList<>();
            long start = System.nanoTime();
            long end = start + (long) (o.seconds() * 1e9);
            long next = start;
            while (System.nanoTime() < end) {
                next += (long) (o.sampleSeconds() * 1e9);
                Thread.sleep(Math.max(0, Math.min(next, end) - System.nanoTime()) / 1_000_000);
                ProcessSample s = target.sample();
                double t = (System.nanoTime() - start) / 1e9;
                long ioErrors = io.errors() + (rdmaIo == null ? 0 : rdmaIo.errors());
                out.printf("t=%5.0fs  %s  verified I/Os %d%s  churn cycles %d  fuzz cases %d%s%s%n", t,
                        s == null ? "(target not sampled)" : s, io.ios(), rdmaIo == null ? "" : " (rdma " + rdmaIo.ios() + ")",
                        churnCycles.get(), fuzzer == null ? 0 : fuzzer.cases(),
                        rdmaFuzzer == null ? "" : " (rdma " + rdmaFuzzer.cases() + ")",
                        ioErrors + churnErrors.get() > 0 ? "  ERRORS" : "");
                if (s != null) {
                    samples.add(s);
                    times.add(t);
                }
            }
            stop = true;
            for (Thread t : load) t.join(30_000);
            io.close();
            if (rdmaIo != null) rdmaIo.close();
            ProcessSample settled = settle(baseline);
            out.println("after the load: " + (settled == null ? "not sampled" : settled));

            out.println("verdict:");
            check(io.errors() == 0 && io.ios() > 0, "good host: " + io.ios() + " verified I/Os, " + io.errors() + " errors"
                    + (io.firstError() == null ? "" : " (first: " + io.firstError() + ")"));
            if (rdmaIo != null) {
                check(rdmaIo.errors() == 0 && rdmaIo.ios() > 0, "good host over NVMe/RDMA: " + rdmaIo.ios() + " verified I/Os, "
                        + rdmaIo.errors() + " errors" + (rdmaIo.firstError() == null ? "" : " (first: " + rdmaIo.firstError() + ")"));
            }
            check(churnErrors.get() == 0 && (o.churnHosts() == 0 || churnCycles.get() > 0), "churn: " + churnCycles.get()
                    + " connect/read/disconnect cycles, " + churnErrors.get() + " errors"
                    + (churnFirstError.get() == null ? "" : " (first: " + churnFirstError.get() + ")"));
            if (fuzzer != null) {
                List<TcpFuzzer.Finding> findings = fuzzer.findings();
                check(findings.isEmpty(), "fuzz: " + fuzzer.cases() + " cases, " + findings.size() + " findings; "
                        + fuzzer.tally());
                for (TcpFuzzer.Finding f : findings.subList(0, Math.min(20, findings.size()))) {
                    out.println("    " + f);
                }
            }
            if (rdmaFuzzer != null) {
                List<TcpFuzzer.Finding> findings = rdmaFuzzer.findings();
                check(findings.isEmpty() && rdmaFuzzer.cases() > 0, "NVMe/RDMA fuzz: " + rdmaFuzzer.cases() + " cases, "
                        + findings.size() + " findings; " + rdmaFuzzer.tally());
                for (TcpFuzzer.Finding f : findings.subList(0, Math.min(20, findings.size()))) {
                    out.println("    " + f);
                }
            }
            String problem = target.problem();
            check(problem == null, "target whole: " + (problem == null ? "every reactor alive, the port answers" : problem));
            try {
                ns.flush();
                if (fuzzer != null) fuzzer.probe();
                check(true, "the good host's controller and a new connection still work");
            } catch (IOException e) {
                check(false, "the good host's controller and a new connection still work: " + e);
            }
            if (o.rdma()) {
                try {
                    rdmaNs.flush();
                    if (rdmaFuzzer != null) rdmaFuzzer.probe();
                    try (RemoteController c = RemoteController.connect(o.address(), o.rdmaPort(), o.rdmaNqn(),
                            hostOptions().withIoQueues(1).withQueueSize(16).withTransport(ConnectOptions.Transport.RDMA));
                         Arena arena = Arena.ofShared()) { // the completion thread copies into it
                        c.namespace(1).read(0, arena.allocate(4096, 4096));
                    }
                    check(true, "over NVMe/RDMA too: the good host's controller and a new connection still work");
                } catch (IOException e) {
                    check(false, "over NVMe/RDMA too: the good host's controller and a new connection still work: " + e);
                }
            }
            if (baseline != null && settled != null) {
                check(settled.fds() <= baseline.fds(), "connections shed: descriptors " + baseline.fds() + " before, "
                        + settled.fds() + " after the load");
                check(settled.threads() <= baseline.threads() + target.threadSlack(), "threads " + baseline.threads()
                        + " before, " + settled.threads() + " after the load (" + target.threadSlack() + " may linger)");
                rssFlat(samples, times);
            }
        }
        out.println(passed + " passed, " + failed + " failed");
        return failed;
    }

    /**
     * RSS flat after warm-up: the first 40 % of the run may grow (heap sizing, pools touched), the rest may not
     * grow beyond the warm-up's peak by more than noise.
     */
    private void rssFlat(List<ProcessSample> samples, List<Double> times) {
        double warm = o.seconds() * 0.4;
        long warmPeak = 0;
        long laterPeak = 0;
        int later = 0;
        for (int i = 0; i < samples.size(); i++) {
            long rss = samples.get(i).rssKib();
            if (times.get(i) <= warm) warmPeak = Math.max(warmPeak, rss);
            else {
                laterPeak = Math.max(laterPeak, rss);
                later++;
            }
        }
        if (warmPeak == 0 || later == 0) {
            check(false, "RSS flat after warm-up: too few samples (run longer)");
            return;
        }
        long allowed = warmPeak + warmPeak / 10 + 32 * 1024;
        check(laterPeak <= allowed, "RSS flat after warm-up: peak " + warmPeak / 1024 + " MiB in the first "
                + Math.round(warm) + " s, " + laterPeak / 1024 + " MiB after (allowed " + allowed / 1024 + ")");
        long fdsWarm = samples.getFirst().fds();
        long fdsMax = samples.stream().mapToLong(ProcessSample::fds).max().orElse(0);
        out.println("    descriptors during the load: first sample " + fdsWarm + ", max " + fdsMax);
    }

    private void check(boolean ok, String what) {
        if (ok) passed++;
        else failed++;
        out.println("  " + (ok ? "PASS " : "FAIL ") + what);
    }

    private ProcessSample settle(ProcessSample baseline) throws Exception {
        ProcessSample s = target.sample();
        for (int i = 0; i < 100 && s != null && baseline != null && s.fds() > baseline.fds(); i++) {
            Thread.sleep(100);
            s = target.sample();
        }
        return s;
    }

    private void churn(int n) {
        while (!stop) {
            churnOnce(n);
        }
    }

    private ConnectOptions hostOptions() {
        return o.katoMillis() > 0 ? ConnectOptions.defaults().withKato(o.katoMillis()) : ConnectOptions.defaults();
    }

    /** Connect a host with one queue, read a few blocks, disconnect; with an RDMA port, odd {@code n} over RDMA. */
    private void churnOnce(int n) {
        boolean rdma = o.rdma() && n % 2 == 1;
        ConnectOptions opts = hostOptions().withIoQueues(1).withQueueSize(16);
        try (RemoteController c = rdma
                ? RemoteController.connect(o.address(), o.rdmaPort(), o.rdmaNqn(), opts.withTransport(ConnectOptions.Transport.RDMA))
                : RemoteController.connect(o.address(), o.port(), o.goodNqn(), opts);
             Arena arena = Arena.ofShared()) {
            RemoteNamespace ns = c.namespace(1);
            MemorySegment buf = arena.allocate(4096, 4096);
            ns.read((long) n * 8 % Math.max(1, ns.blocks() - 8), buf);
            churnCycles.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            if (stop) return; // a cycle cut short by the end of the soak
            churnErrors.incrementAndGet();
            churnFirstError.compareAndSet(null, e.toString());
        }
    }

    /** The default probe for a target in another process: /proc/PID, and whether the port still answers. */
    public static TargetProbe process(String pid, Supplier<String> problem) {
        return new TargetProbe() {
            @Override
            public ProcessSample sample() throws IOException {
                return pid == null ? null : ProcessSample.of(pid);
            }

            @Override
            public String problem() {
                return problem.get();
            }
        };
    }
}
