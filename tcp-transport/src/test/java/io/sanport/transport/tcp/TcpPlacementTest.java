package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which reactor a connection lands on: the I/O queues of several hosts spread over the reactors. */
class TcpPlacementTest {
    static final String NQN = "nqn.2024-01.io.sanport:placement";

    IoProcessor iop;
    Target target;

    @AfterEach
    void stop() throws Exception {
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    @Test
    void twoHostsWithOneIoQueueEachGetOneReactorEach() throws Exception {
        iop = IoProcessor.start(2, new ReactorConfig(64, 128 * 1024, 32), List.of(BlockDevices.open("ram:16M")));
        target = Target.start(TargetConfig.forDevice("ram:16M", NQN, "tcp", "127.0.0.1", 0),
                new TargetOptions(0, 50, 5000), iop);
        int port = target.port(1).boundPort();
        List<Reactor> reactors = target.reactors();
        TcpConnections connections = TcpTransport.connections(target);
        // admin, I/O, admin, I/O: round robin over two reactors alone puts both I/O queues on the second
        try (RawHost adminA = admin(port); RawHost ioA = ioQueue(port, adminA);
             RawHost adminB = admin(port); RawHost ioB = ioQueue(port, adminB)) {
            int reads = 50;
            for (int i = 0; i < reads; i++) {
                RawHost.ok(ioA.read(1, i, 8, 512));
                RawHost.ok(ioB.read(1, i, 8, 512));
            }
            TcpStats stats = TcpTransport.stats(target);
            for (Reactor r : reactors) {
                long capsules = stats.counters(r).capsules;
                assertTrue(capsules >= reads, r + " served " + capsules + " capsules: no I/O queue of its own");
                assertEquals(1, connections.ioQueues(r), r + "'s I/O queues");
            }
        }
        for (Reactor r : reactors) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (connections.ioQueues(r) != 0) {
                assertTrue(System.nanoTime() < deadline, r + " still counts " + connections.ioQueues(r) + " I/O queues");
                Thread.sleep(10);
            }
        }
    }

    static RawHost admin(int port) throws Exception {
        RawHost admin = RawHost.connect(port);
        admin.adminQueue(NQN, 5000);
        admin.setNumberOfQueues(1);
        return admin;
    }

    static RawHost ioQueue(int port, RawHost admin) throws Exception {
        RawHost io = RawHost.connect(port);
        RawHost.ok(io.connect(1, 31, 0, admin.cntlid, NQN));
        return io;
    }
}
