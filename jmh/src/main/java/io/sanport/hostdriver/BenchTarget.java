package io.sanport.hostdriver;

import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.util.List;

/**
 * A real target for the benchmarks' setup: one reactor (io_uring), no port, subsystem {@link #NQN} with RAM-disk
 * namespaces of the NSIDs given. Nothing of it runs while a benchmark measures; it only owns the objects measured.
 */
final class BenchTarget implements AutoCloseable {
    static final String NQN = "nqn.2025-01.io.sanport:jmh";

    final IoProcessor iop;
    final Target target;

    BenchTarget(int... nsids) throws IOException {
        StringBuilder ns = new StringBuilder();
        for (int nsid : nsids) {
            ns.append(ns.isEmpty() ? "" : ", ").append("""
                { "nsid": %d, "enable": 1, "device": { "path": "ram:1M" } }""".formatted(Integer.toUnsignedLong(nsid)));
        }
        String json = """
            { "ports": [],
              "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "SANPORTJMH1" },
                                "namespaces": [ %s ] } ] }
            """.formatted(NQN, ns);
        iop = IoProcessor.start(1, new ReactorConfig(64, 128 * 1024, 32), List.of(BlockDevices.open("ram:1M")));
        try {
            target = Target.start(TargetConfig.parse(json, "jmh.json"), new TargetOptions(0, 50, 5000), iop);
        } catch (IOException | RuntimeException e) {
            iop.close();
            throw e;
        }
    }

    Subsystem subsystem() {
        return target.subsystem(NQN);
    }

    @Override
    public void close() throws IOException {
        try {
            target.close();
        } finally {
            iop.close();
        }
    }
}
