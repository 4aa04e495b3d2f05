package io.sanport.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bench.ProcessSample;
import io.sanport.bench.VerifiedIo;
import io.sanport.bench.fuzz.TcpFuzzer;
import io.sanport.client.ConnectOptions;
import io.sanport.client.RemoteController;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetConfig.NamespaceConfig;
import io.sanport.hostdriver.TargetConfig.PortConfig;
import io.sanport.hostdriver.TargetConfig.SubsystemConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Malformed NVMe/TCP from raw sockets against a target on 127.0.0.1 while the Java initiator does verified
 * I/O on another subsystem of the same port: the target must end every bad connection, lose no reactor, give
 * the good host no error, and give back every descriptor and thread the bad connections took.
 */
class TcpFuzzTest {
    static final String GOOD = "nqn.2026-11.io.sanport:fuzz-test:good";
    static final String FUZZ = "nqn.2026-11.io.sanport:fuzz-test:fuzzed";
    /** A longer run by hand: -Dsanport.fuzz.cases=20000 -Dsanport.fuzz.seed=0x1234. */
    static final long SEED = Long.decode(System.getProperty("sanport.fuzz.seed", "0x5A17F022"));
    static final int CASES = Integer.getInteger("sanport.fuzz.cases", 400);

    /** One port, two subsystems: the fuzzer's mutated writes can only land on its own namespace. */
    static Target start() throws Exception {
        SubsystemConfig good = new SubsystemConfig(GOOD, true, List.of(), "good0001", "sanport",
                List.of(new NamespaceConfig(1, true, "ram:32M", null, null)));
        SubsystemConfig fuzz = new SubsystemConfig(FUZZ, true, List.of(), "fuzz0001", "sanport",
                List.of(new NamespaceConfig(1, true, "ram:4M", null, null)));
        PortConfig port = new PortConfig(1, "tcp", "ipv4", "127.0.0.1", "0", List.of(GOOD, FUZZ));
        return Target.open(new TargetConfig(List.of(), List.of(port), List.of(good, fuzz)), 2,
                new ReactorConfig(128, 128 * 1024, 64), TargetOptions.DEFAULT.withDiscoveryPort(0));
    }

    @Test
    void malformedPdusEndOnlyTheirOwnConnections() throws Exception {
        try (Target target = start();
             RemoteController good = RemoteController.connect("127.0.0.1", target.ports().getFirst().boundPort(), GOOD,
                     ConnectOptions.defaults().withIoQueues(2))) {
            int port = target.ports().getFirst().boundPort();
            VerifiedIo io = new VerifiedIo(good.namespace(1), 4, SEED).start();
            TcpFuzzer fuzzer = new TcpFuzzer("127.0.0.1", port, FUZZ);
            fuzzer.probe();
            Thread.sleep(200);
            ProcessSample before = ProcessSample.self();
            Set<String> fdsBefore = new TreeSet<>(ProcessSample.selfFdTargets());
            Set<String> threadsBefore = threadNames();

            List<TcpFuzzer.Finding> findings = fuzzer.run(SEED, CASES, () -> false);
            io.close();

            assertEquals(List.of(), findings.subList(0, Math.min(10, findings.size())), findings.size()
                    + " cases the target got wrong (replay one with TcpFuzzer.runCase(seed)); how the rest ended: "
                    + fuzzer.tally());
            assertEquals(0, io.errors(), "the good host's first error: " + io.firstError());
            assertTrue(io.ios() > 0, "the good host did I/O during the fuzz");
            for (Reactor r : target.reactors()) {
                assertTrue(r.thread().isAlive() && !r.terminated().isDone(), r + " died");
                assertEquals(1, r.call(x -> 1).get(5, TimeUnit.SECONDS), r + " runs its tasks");
            }
            // the good host still gets through on a new connection, and the old one still works
            try (RemoteController again = RemoteController.connect("127.0.0.1", port, GOOD, ConnectOptions.defaults().withIoQueues(1))) {
                again.namespace(1).flush();
            }
            good.namespace(1).flush();
            fuzzer.probe();

            ProcessSample after = settle(before);
            Set<String> fdsLeft = new TreeSet<>(ProcessSample.selfFdTargets());
            fdsLeft.removeAll(fdsBefore);
            assertTrue(after.fds() <= before.fds(), "file descriptors back to " + before.fds() + " after the fuzz: " + after
                    + "; new ones: " + fdsLeft);
            Set<String> leaked = new TreeSet<>(threadNames());
            leaked.removeAll(threadsBefore);
            leaked.removeIf(n -> n.startsWith("ForkJoinPool") || n.startsWith("sanport-offload") || n.startsWith("nvme-"));
            assertEquals(Set.of(), leaked, "threads the fuzz connections left behind");
            System.out.println("tcp fuzz: " + fuzzer.cases() + " cases, " + fuzzer.tally() + "; good host " + io.ios()
                    + " verified I/Os; " + before + " -> " + after);
        }
    }

    /** Descriptors are given back once the target has processed the closes: wait a little for them. */
    static ProcessSample settle(ProcessSample baseline) throws Exception {
        ProcessSample s = ProcessSample.self();
        for (int i = 0; i < 50 && s.fds() > baseline.fds(); i++) {
            Thread.sleep(100);
            s = ProcessSample.self();
        }
        return s;
    }

    static Set<String> threadNames() {
        Set<String> names = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) names.add(t.getName());
        return names;
    }
}
