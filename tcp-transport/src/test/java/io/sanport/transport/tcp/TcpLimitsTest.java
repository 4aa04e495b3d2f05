package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What hosts that misbehave on purpose cannot do to the others: hold the reactor's ring with idle sockets,
 * take every connection, pin buffers with R2Ts never answered, or kill a reactor with one bad completion.
 * Raw sockets and {@link RawHost}s on 127.0.0.1 against one reactor, so every connection shares its ring.
 */
class TcpLimitsTest {
    static final String NQN = "nqn.2024-01.io.sanport:limits";
    static final int LBA = 512;
    /** 64 SQ entries: 127 ring slots for I/O, fewer than the idle sockets below. */
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 32);

    IoProcessor iop;
    Target target;
    int port;
    final List<RawHost> idle = new ArrayList<>();

    void start(TargetOptions options) throws Exception {
        iop = IoProcessor.start(1, SMALL, List.of(BlockDevices.open("ram:16M")));
        target = Target.start(TargetConfig.forDevice("ram:16M", NQN, "tcp", "127.0.0.1", 0), options, iop);
        port = target.port(1).boundPort();
    }

    @AfterEach
    void stop() throws Exception {
        for (RawHost h : idle) {
            h.close();
        }
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    RawHost admin() throws IOException {
        RawHost admin = RawHost.connect(port);
        admin.adminQueue(NQN, 5000);
        admin.setNumberOfQueues(1);
        return admin;
    }

    RawHost ioQueue(RawHost admin) throws IOException {
        RawHost io = RawHost.connect(port);
        RawHost.ok(io.connect(1, 31, 0, admin.cntlid, NQN));
        return io;
    }

    /** A write and its read-back through a fresh admin and I/O queue. */
    void legitimateIo() throws IOException {
        try (RawHost admin = admin(); RawHost io = ioQueue(admin)) {
            byte[] block = new byte[4096];
            new Random(3).nextBytes(block);
            RawHost.ok(io.write(1, 8, block, LBA, false));
            assertArrayEquals(block, RawHost.ok(io.read(1, 8, 8, LBA)).data());
        }
    }

    /**
     * More idle sockets than the reactor has ring slots for I/O: each holds a receive, and a legitimate host on
     * the same reactor must still get its I/O done (the freeze: every slot held by a RECV).
     */
    @Test
    void idleSocketsDoNotFreezeTheReactor() throws Exception {
        start(new TargetOptions(0, 50, 5000));
        for (int i = 0; i < 200; i++) {
            idle.add(RawHost.open(port, false, false));
        }
        Thread.sleep(200); // let the target accept them all and post their receives
        legitimateIo();
        assertTrue(target.reactors().getFirst().capacity() < 200, "the test needs more sockets than I/O slots");
    }
}
