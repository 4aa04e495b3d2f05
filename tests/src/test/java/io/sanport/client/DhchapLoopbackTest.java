package io.sanport.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.DataPattern;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.auth.DhGroup;
import io.sanport.nvme.auth.DhchapHash;
import io.sanport.nvme.auth.DhchapKey;
import io.sanport.nvme.fabrics.AuthMessage;
import io.sanport.nvme.fabrics.AuthNegotiateData;
import io.sanport.nvme.fabrics.AuthSendCommand;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.DhchapFailureData;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.Dhchap;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DH-HMAC-CHAP between sanport's Java host and sanport's target over NVMe/TCP on 127.0.0.1: every hash with the
 * NULL group and ffdhe2048, bidirectional, re-authentication; wrong, missing and wrong controller secrets refused
 * and the association ended; a queue that has not authenticated gets Authentication Required. (In package
 * io.sanport.client to drive a raw queue without the host's own authentication.)
 */
class DhchapLoopbackTest {
    static final String NQN = "nqn.2026-12.io.sanport:auth";
    static final UUID HOST_ID = UUID.nameUUIDFromBytes("auth-host".getBytes());
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:" + HOST_ID;
    static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    static String newSecret(int length, int hh) {
        byte[] k = new byte[length];
        RANDOM.nextBytes(k);
        return DhchapKey.format(k, hh);
    }

    Target start(TargetConfig.DhchapConfig dhchap) throws Exception {
        Path image = dir.resolve("ns.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        TargetConfig cfg = TargetConfig.forDevice(image.toString(), NQN, "tcp", "127.0.0.1", 0, List.of(HOST), dhchap);
        return Target.open(cfg, 1, new ReactorConfig(64, 128 * 1024, 64), TargetOptions.DEFAULT.withDiscoveryPort(0));
    }

    static int port(Target t) {
        return t.ports().getFirst().boundPort();
    }

    static ConnectOptions options(String secret, String ctrlSecret) {
        return ConnectOptions.defaults().withIoQueues(1).withHost(HOST, HOST_ID).withTimeout(10_000)
                .withDhchap(secret, ctrlSecret);
    }

    static void readBack(RemoteController c) throws IOException {
        RemoteNamespace ns = c.namespace(1);
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(8192, 4096);
            DataPattern.fill(buf, 4096, 5);
            ns.write(8, buf);
            buf.fill((byte) 0);
            ns.read(8, buf);
            assertEquals(-1, DataPattern.firstMismatch(buf, 4096, 5));
        }
    }

    @Test
    void everyHashWithNullAndFfdhe2048() throws Exception {
        for (DhchapHash hash : DhchapHash.values()) {
            for (DhGroup group : new DhGroup[] {DhGroup.NULL, DhGroup.FFDHE2048}) {
                String secret = newSecret(hash.length(), hash.id());
                try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(secret), null, hash, group));
                     RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(secret, null))) {
                    readBack(c); // the I/O queue authenticated too
                    // re-authentication on the established admin queue, then the controller still works
                    assertEquals(hash.configName() + "/" + group.configName(), c.reauthenticate());
                    readBack(c);
                }
            }
        }
    }

    @Test
    void bidirectionalWithAnUntransformedKey() throws Exception {
        String secret = newSecret(64, 0);
        String ctrl = newSecret(48, 2);
        try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(secret), DhchapKey.parse(ctrl),
                DhchapHash.SHA512, DhGroup.FFDHE3072));
             RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(secret, ctrl))) {
            readBack(c);
            assertEquals("hmac(sha512)/ffdhe3072", c.reauthenticate());
        }
    }

    @Test
    void reauthenticationUsesTheRotatedSecret() throws Exception {
        String before = newSecret(32, 1);
        String after = newSecret(32, 1);
        try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(before), null, null, null));
             RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(before, null))) {
            TargetConfig cfg = t.config();
            TargetConfig rotated = new TargetConfig(List.of(new TargetConfig.HostConfig(HOST,
                    new TargetConfig.DhchapConfig(DhchapKey.parse(after), null, null, null))), cfg.ports(), cfg.subsystems(),
                    cfg.limits());
            List<String> changes = t.apply(rotated);
            assertEquals(1, changes.size(), changes.toString());
            assertTrue(changes.getFirst().contains("DH-HMAC-CHAP settings of host " + HOST), changes.getFirst());
            assertFalse(changes.getFirst().contains(after.substring(10, 30)));
            readBack(c); // the connected controller stays
            IOException e = assertThrows(IOException.class, c::reauthenticate); // the old secret no longer passes
            assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
            try (RemoteController fresh = RemoteController.connect("127.0.0.1", port(t), NQN, options(after, null))) {
                readBack(fresh);
            }
        }
    }

    @Test
    void wrongMissingAndWrongControllerSecretsAreRefused() throws Exception {
        String secret = newSecret(32, 1);
        String ctrl = newSecret(32, 1);
        try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(secret), DhchapKey.parse(ctrl),
                DhchapHash.SHA256, DhGroup.FFDHE2048))) {
            IOException wrong = assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(newSecret(32, 1), null)));
            assertTrue(wrong.getMessage().contains("refused the authentication: authentication failed"), wrong.getMessage());
            IOException missing = assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(null, null)));
            assertTrue(missing.getMessage().contains("--dhchap-secret"), missing.getMessage());
            IOException wrongCtrl = assertThrows(IOException.class,
                    () -> RemoteController.connect("127.0.0.1", port(t), NQN, options(secret, newSecret(32, 1))));
            assertTrue(wrongCtrl.getMessage().contains("does not match the controller secret"), wrongCtrl.getMessage());
            for (IOException e : List.of(wrong, missing, wrongCtrl)) {
                assertFalse(e.getMessage().contains(secret.substring(10, 30)), "no secret in " + e.getMessage());
            }

            // on a raw queue: the target ends the association after Failure1 (wrong secret)
            try (NvmeTcpQueue q = rawAdmin(port(t))) {
                DhchapHost.DhchapException e = assertThrows(DhchapHost.DhchapException.class,
                        () -> DhchapHost.authenticate(q, 1, HOST, NQN, DhchapKey.parse(newSecret(32, 1)), null, 10_000));
                assertEquals(Dhchap.FAILED, e.explanation());
                assertThrows(IOException.class, () -> propertyGet(q, Property.CSTS), "the queue is gone");
            }
            // ... and after the host's Failure2 (wrong controller secret)
            try (NvmeTcpQueue q = rawAdmin(port(t))) {
                assertThrows(DhchapHost.DhchapException.class, () -> DhchapHost.authenticate(q, 2, HOST, NQN,
                        DhchapKey.parse(secret), DhchapKey.parse(newSecret(32, 1)), 10_000));
                assertThrows(IOException.class, () -> propertyGet(q, Property.CSTS), "the queue is gone");
            }
        }
    }

    @Test
    void anUnauthenticatedQueueGetsAuthenticationRequired() throws Exception {
        String secret = newSecret(32, 1);
        try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(secret), null, null, null));
             NvmeTcpQueue q = rawAdmin(port(t));
             Arena a = Arena.ofShared()) {
            propertyGet(q, Property.CAP); // Property Get is allowed before authentication
            MemorySegment identify = a.allocate(4096, 4096);
            NvmeException e = assertThrows(NvmeException.class, () -> q.execute("Identify", sqe -> {
                SubmissionQueueEntry.opcode(sqe, AdminOpcode.IDENTIFY);
                SubmissionQueueEntry.cdw10(sqe, IdentifyCns.CTRL);
            }, identify, false, 10_000));
            assertEquals(Status.AUTH_REQUIRED, e.statusCode());
            NvmeException kato = assertThrows(NvmeException.class, () -> q.execute("Keep Alive",
                    sqe -> SubmissionQueueEntry.opcode(sqe, AdminOpcode.KEEP_ALIVE), null, false, 10_000));
            assertEquals(Status.AUTH_REQUIRED, kato.statusCode());
            // once authenticated, the same queue passes the check: the next one (CC.EN not set yet) answers
            DhchapHost.authenticate(q, 7, HOST, NQN, DhchapKey.parse(secret), null, 10_000);
            NvmeException after = assertThrows(NvmeException.class, () -> q.execute("Identify", sqe -> {
                SubmissionQueueEntry.opcode(sqe, AdminOpcode.IDENTIFY);
                SubmissionQueueEntry.cdw10(sqe, IdentifyCns.CTRL);
            }, identify, false, 10_000));
            assertEquals(Status.CMD_SEQ_ERROR, after.statusCode());
        }
    }

    @Test
    void anUnauthenticatedIoQueueGetsAuthenticationRequiredForItsIo() throws Exception {
        String secret = newSecret(32, 1);
        try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(secret), null, null, DhGroup.FFDHE2048));
             RemoteController c = RemoteController.connect("127.0.0.1", port(t), NQN, options(secret, null));
             NvmeTcpQueue q = NvmeTcpQueue.open(new InetSocketAddress("127.0.0.1", port(t)), 2, 32, false, false, 10_000);
             Arena a = Arena.ofShared()) {
            MemorySegment data = a.allocate(ConnectData.SIZE, 8);
            ConnectData.hostUuid(data, HOST_ID);
            ConnectData.cntlid(data, c.cntlid());
            ConnectData.subnqn(data, NQN);
            ConnectData.hostnqn(data, HOST);
            long dw0 = q.execute("Connect", sqe -> {
                FabricsCommand.opcode(sqe, FabricsCommand.OPCODE);
                FabricsCommand.fctype(sqe, FabricsCommand.FCTYPE_CONNECT);
                ConnectCommand.qid(sqe, 2);
                ConnectCommand.sqsize(sqe, 31);
            }, data, true, 10_000);
            assertTrue((dw0 & ConnectCommand.AUTHREQ_ATR) != 0, "I/O queue Connect DW0 " + Long.toHexString(dw0));
            assertEquals(c.cntlid(), (int) dw0 & 0xFFFF);
            MemorySegment buf = a.allocate(512, 512);
            java.util.function.Consumer<MemorySegment> read = sqe -> {
                SubmissionQueueEntry.opcode(sqe, io.sanport.nvme.IoOpcode.READ);
                SubmissionQueueEntry.nsid(sqe, 1);
                SubmissionQueueEntry.cdw12(sqe, 0); // one block
            };
            NvmeException e = assertThrows(NvmeException.class, () -> q.execute("Read", read, buf, false, 10_000));
            assertEquals(Status.AUTH_REQUIRED, e.statusCode());
            DhchapHost.authenticate(q, 9, HOST, NQN, DhchapKey.parse(secret), null, 10_000);
            q.execute("Read", read, buf, false, 10_000); // now it reads
            readBack(c); // the controller's own queues went on
        }
    }

    @Test
    void aSubsystemThatRequiresAuthenticationRefusesAHostWithoutASecret() throws Exception {
        String other = "nqn.2014-08.org.nvmexpress:uuid:" + UUID.randomUUID();
        Path image = dir.resolve("req.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        TargetConfig base = TargetConfig.forDevice(image.toString(), NQN, "tcp", "127.0.0.1", 0, List.of(HOST, other),
                new TargetConfig.DhchapConfig(DhchapKey.parse(newSecret(32, 1)), null, null, null));
        TargetConfig cfg = new TargetConfig(List.of(base.hosts().get(0), new TargetConfig.HostConfig(other)),
                base.ports(), base.subsystems());
        try (Target t = Target.open(cfg, 1, new ReactorConfig(64, 128 * 1024, 64), TargetOptions.DEFAULT.withDiscoveryPort(0))) {
            NvmeException e = assertThrows(NvmeException.class, () -> RemoteController.connect("127.0.0.1", port(t), NQN,
                    ConnectOptions.defaults().withIoQueues(1).withHost(other, UUID.randomUUID())));
            assertEquals(Status.CONNECT_INVALID_HOST, e.statusCode());
        }
    }

    @Test
    void hostileMessagesEndOnlyTheirOwnController() throws Exception {
        String secret = newSecret(32, 1);
        try (Target t = start(new TargetConfig.DhchapConfig(DhchapKey.parse(secret), null, DhchapHash.SHA256, DhGroup.FFDHE2048));
             RemoteController good = RemoteController.connect("127.0.0.1", port(t), NQN, options(secret, null))) {
            // a wrong SECP is an Invalid Field, and the queue stays
            try (NvmeTcpQueue q = rawAdmin(port(t))) {
                MemorySegment m = Arena.ofAuto().allocate(AuthNegotiateData.SIZE);
                NvmeException e = assertThrows(NvmeException.class, () -> q.execute("Authentication Send", sqe -> {
                    AuthSendCommand.dhchap(sqe, FabricsCommand.FCTYPE_AUTH_SEND, (int) m.byteSize());
                    AuthSendCommand.secp(sqe, 0xEA);
                }, m, true, 10_000));
                assertEquals(Status.INVALID_FIELD, e.statusCode());
                propertyGet(q, Property.CSTS);
                // a 4-byte message: the controller ends
                MemorySegment tiny = Arena.ofAuto().allocate(4);
                q.execute("Authentication Send", sqe -> AuthSendCommand.dhchap(sqe, FabricsCommand.FCTYPE_AUTH_SEND, 4),
                        tiny, true, 10_000);
                assertThrows(IOException.class, () -> propertyGet(q, Property.CSTS), "the queue is gone");
            }
            // secure channel concatenation asked for: Failure1 "concatenation mismatch", then the end
            try (NvmeTcpQueue q = rawAdmin(port(t))) {
                MemorySegment n = Arena.ofAuto().allocate(AuthNegotiateData.SIZE);
                AuthMessage.header(n, Dhchap.TYPE_COMMON, Dhchap.MSG_NEGOTIATE, 3);
                AuthNegotiateData.scC(n, Dhchap.SC_C_NEW_TLS_PSK);
                AuthNegotiateData.napd(n, 1);
                AuthNegotiateData.authid(n, Dhchap.AUTH_ID);
                AuthNegotiateData.ids(n, new int[] {Dhchap.HASH_SHA256}, new int[] {Dhchap.DHGROUP_NULL});
                q.execute("Authentication Send", sqe -> AuthSendCommand.dhchap(sqe, FabricsCommand.FCTYPE_AUTH_SEND,
                        (int) n.byteSize()), n, true, 10_000);
                MemorySegment in = Arena.ofAuto().allocate(4096);
                q.execute("Authentication Receive", sqe -> AuthSendCommand.dhchap(sqe, FabricsCommand.FCTYPE_AUTH_RECEIVE,
                        4096), in, false, 10_000);
                assertEquals(Dhchap.MSG_FAILURE1, AuthMessage.authId(in));
                assertEquals(3, AuthMessage.tid(in));
                assertEquals(Dhchap.CONCAT_MISMATCH, DhchapFailureData.rescodeExp(in));
                assertThrows(IOException.class, () -> propertyGet(q, Property.CSTS), "the queue is gone");
            }
            readBack(good); // the others' controller never noticed
        }
    }

    /** An admin queue after its Connect only: no authentication, no CC.EN. */
    static NvmeTcpQueue rawAdmin(int port) throws IOException {
        NvmeTcpQueue q = NvmeTcpQueue.open(new InetSocketAddress("127.0.0.1", port), 0, 32, false, false, 10_000);
        MemorySegment data = Arena.ofAuto().allocate(ConnectData.SIZE, 8);
        ConnectData.hostUuid(data, HOST_ID);
        ConnectData.cntlid(data, ConnectData.CNTLID_DYNAMIC);
        ConnectData.subnqn(data, NQN);
        ConnectData.hostnqn(data, HOST);
        long dw0 = q.execute("Connect", sqe -> {
            FabricsCommand.opcode(sqe, FabricsCommand.OPCODE);
            FabricsCommand.fctype(sqe, FabricsCommand.FCTYPE_CONNECT);
            ConnectCommand.qid(sqe, 0);
            ConnectCommand.sqsize(sqe, 31);
            ConnectCommand.kato(sqe, 30_000);
        }, data, true, 10_000);
        assertTrue((dw0 & ConnectCommand.AUTHREQ_ATR) != 0, "Connect DW0 asks for authentication: " + Long.toHexString(dw0));
        return q;
    }

    static long propertyGet(NvmeQueue q, int offset) throws IOException {
        return q.execute("Property Get", sqe -> {
            FabricsCommand.opcode(sqe, FabricsCommand.OPCODE);
            FabricsCommand.fctype(sqe, FabricsCommand.FCTYPE_PROPERTY_GET);
            PropertyGetCommand.attrib(sqe, offset == Property.CAP ? PropertyGetCommand.ATTRIB_SIZE_8 : PropertyGetCommand.ATTRIB_SIZE_4);
            PropertyGetCommand.ofst(sqe, offset);
        }, null, false, 3_000);
    }
}
