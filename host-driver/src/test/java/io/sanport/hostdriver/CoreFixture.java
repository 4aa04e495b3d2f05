package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * {@link QueuePairTest}'s fake host and in-memory device on a target of its own config and options: one
 * subsystem ({@link QueuePairTest#NQN}, any host) with namespaces 1 and {@link #HIGH_NSID} on one RAM disk.
 */
final class CoreFixture implements AutoCloseable {
    /** An NSID above 0x7FFFFFFF: negative as a Java int. */
    static final int HIGH_NSID = 0x80000001;

    final QueuePairTest core = new QueuePairTest();

    CoreFixture() throws Exception {
        this(new TargetOptions(0, 50, 5000));
    }

    CoreFixture(TargetOptions options) throws Exception {
        this(1, options);
    }

    CoreFixture(int reactors, TargetOptions options) throws Exception {
        this(reactors, options, "");
    }

    /** {@code topLevel}: more members of the config's top-level object, each followed by a comma. */
    CoreFixture(int reactors, TargetOptions options, String topLevel) throws Exception {
        String json = """
            { "ports": [], %s
              "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "SANPORTCORE1" },
                                "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "ram:16M" } },
                                                { "nsid": %d, "enable": 1, "device": { "path": "ram:16M" } } ] } ] }
            """.formatted(topLevel, QueuePairTest.NQN, Integer.toUnsignedLong(HIGH_NSID));
        core.iop = IoProcessor.start(reactors, new ReactorConfig(64, 128 * 1024, 32), List.of(BlockDevices.open("ram:16M")));
        core.target = Target.start(TargetConfig.parse(json, "core.json"), options, core.iop);
        core.reactor = core.target.reactors().getFirst();
        core.port = new Port(1, new LoopTransport(), "ipv4", "127.0.0.1", "4420",
                List.of(core.target.subsystem(QueuePairTest.NQN)));
    }

    Target target() { return core.target; }

    QueuePairTest.Host host() {
        return core.new Host(false);
    }

    <T> T onReactor(Callable<T> body) throws Exception {
        return core.onReactor(body);
    }

    /** A Connect with every field the test chooses; {@code hostnqn} is the raw 256-byte field. */
    static QueuePairTest.ScriptedQueue.Completion connect(QueuePairTest.Host h, QueuePairTest.ScriptedQueue t, int qid,
                                                      int cntlid, String subnqn, long kato, byte[] hostnqn, UUID hostid) {
        byte[] d = new byte[(int) ConnectData.SIZE];
        MemorySegment cd = MemorySegment.ofArray(d);
        ConnectData.hostUuid(cd, hostid);
        ConnectData.cntlid(cd, cntlid);
        ConnectData.subnqn(cd, subnqn);
        MemorySegment.copy(MemorySegment.ofArray(hostnqn), 0, cd, ConnectData.OFFSET_HOSTNQN,
                Math.min(hostnqn.length, ConnectData.LENGTH_HOSTNQN));
        return h.run(t, s -> {
            ConnectCommand.opcode(s, FabricsCommand.OPCODE);
            ConnectCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
            ConnectCommand.qid(s, qid);
            ConnectCommand.sqsize(s, 31);
            ConnectCommand.kato(s, kato);
            QueuePairTest.inCapsule(s, d.length);
        }, d, true);
    }

    static byte[] nqnField(String nqn) {
        byte[] field = new byte[ConnectData.LENGTH_HOSTNQN];
        byte[] b = nqn.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, field, 0, b.length);
        return field;
    }

    static final UUID HOSTID = UUID.nameUUIDFromBytes(QueuePairTest.HOST.getBytes());

    /** An admin queue of a new controller of {@code subnqn} with {@code kato}, enabled. */
    static QueuePairTest.ScriptedQueue admin(QueuePairTest.Host h, String subnqn, long kato) {
        QueuePairTest.ScriptedQueue admin = h.newQueue();
        QueuePairTest.ScriptedQueue.Completion c = connect(h, admin, 0, ConnectData.CNTLID_DYNAMIC, subnqn, kato,
                nqnField(QueuePairTest.HOST), HOSTID);
        assertEquals(Status.SUCCESS, c.status(), "admin Connect");
        h.enable(admin);
        return admin;
    }

    static QueuePairTest.ScriptedQueue.Completion getFeature(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin, int fid) {
        return h.run(admin, s -> {
            SubmissionQueueEntry.opcode(s, AdminOpcode.GET_FEATURES);
            SubmissionQueueEntry.cdw10(s, fid);
        }, null, false);
    }

    static QueuePairTest.ScriptedQueue.Completion setFeature(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin, int fid, int cdw11) {
        return h.run(admin, s -> {
            SubmissionQueueEntry.opcode(s, AdminOpcode.SET_FEATURES);
            SubmissionQueueEntry.cdw10(s, fid);
            SubmissionQueueEntry.cdw11(s, cdw11);
        }, null, false);
    }

    static int kato(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin) {
        QueuePairTest.ScriptedQueue.Completion c = getFeature(h, admin, FeatureId.KATO);
        assertEquals(Status.SUCCESS, c.status());
        return c.dw0();
    }

    @Override
    public void close() throws Exception {
        core.stop();
    }
}
