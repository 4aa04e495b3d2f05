package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.Nqn;
import io.sanport.nvme.Status;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who a host says it is: its NQN must be a well-formed NQN in its field, an I/O queue joins only a controller of
 * the same host NQN and host identifier, and controller IDs cannot be guessed from the last one.
 */
class ConnectIdentityTest {
    CoreFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new CoreFixture();
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    static byte[] raw(String prefix, int... tail) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] field = new byte[ConnectData.LENGTH_HOSTNQN];
        System.arraycopy(p, 0, field, 0, p.length);
        for (int i = 0; i < tail.length; i++) {
            field[p.length + i] = (byte) tail[i];
        }
        return field;
    }

    static String printable(byte[] field) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 64 && field[i] != 0; i++) {
            int c = field[i] & 0xFF;
            b.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return b.toString();
    }

    @Test
    void malformedHostNqnsAreInvalidParametersPointingAtTheField() throws Exception {
        String good = QueuePairTest.HOST;
        byte[] noNul = new byte[ConnectData.LENGTH_HOSTNQN];
        Arrays.fill(noNul, (byte) 'a');
        System.arraycopy(good.getBytes(StandardCharsets.US_ASCII), 0, noNul, 0, good.length());
        byte[] tooLong = raw("nqn.2024-01.io.sanport:" + "a".repeat(Nqn.MAX_LENGTH));
        List<byte[]> bad = List.of(
                raw(good, '\n', 'x'),                       // a newline would reach the logs
                raw("nqn.2024-01.io.sanport:a", 0x1B, '['), // an escape sequence
                raw("nqn.2024-01.io.sanport:a", 0x7F),      // DEL
                raw("nqn.2024-01.io.sanport:h", 0xFF, 's'), // not UTF-8
                raw("nqn.2024-01.io.sanport:h", 0xC2, 0x85),// U+0085, a C1 control (NEL)
                raw(""),                                    // empty
                raw("host1"),                               // not an NQN
                noNul,                                      // no NUL within the 256 bytes
                tooLong);                                   // more than 223 bytes
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            for (String subnqn : new String[] {QueuePairTest.NQN, Nqn.DISCOVERY}) {
                for (byte[] field : bad) {
                    QueuePairTest.ScriptedQueue.Completion c = CoreFixture.connect(h, h.newQueue(), 0,
                            ConnectData.CNTLID_DYNAMIC, subnqn, 15_000, field, CoreFixture.HOSTID);
                    String what = printable(field);
                    assertEquals(Status.CONNECT_INVALID_PARAM, c.status(), subnqn + " refuses host NQN " + what);
                    assertEquals(ConnectCommand.invalidParameterDw0((int) ConnectData.OFFSET_HOSTNQN, true), c.dw0(),
                            "IATTR data, IPO HOSTNQN");
                }
            }
            assertTrue(f.target().subsystem(QueuePairTest.NQN).controllers().isEmpty(), "no controller was made");

            String utf8 = "nqn.2024-01.io.sanport:hôst-ünïcode";
            QueuePairTest.ScriptedQueue ok = h.newQueue();
            QueuePairTest.ScriptedQueue.Completion c = CoreFixture.connect(h, ok, 0, ConnectData.CNTLID_DYNAMIC,
                    QueuePairTest.NQN, 15_000, CoreFixture.nqnField(utf8), CoreFixture.HOSTID);
            assertEquals(Status.SUCCESS, c.status(), "UTF-8 is what the spec allows in an NQN");
            assertEquals(utf8, ok.queue.controller().hostnqn(), "kept as sent, not collapsed to '?'");
            return null;
        });
    }

    @Test
    void anIoQueueJoinsOnlyAControllerOfTheSameHostNqnAndHostId() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue admin = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
            int cntlid = admin.queue.controller().cntlid();
            int notFound = ConnectCommand.invalidParameterDw0((int) ConnectData.OFFSET_CNTLID, true);

            QueuePairTest.ScriptedQueue.Completion otherId = CoreFixture.connect(h, h.newQueue(), 1, cntlid,
                    QueuePairTest.NQN, 0, CoreFixture.nqnField(QueuePairTest.HOST), UUID.randomUUID());
            assertEquals(Status.CONNECT_INVALID_PARAM, otherId.status(), "same host NQN, another HOSTID");
            assertEquals(notFound, otherId.dw0());

            String other = "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f";
            QueuePairTest.ScriptedQueue.Completion otherNqn = CoreFixture.connect(h, h.newQueue(), 1, cntlid,
                    QueuePairTest.NQN, 0, CoreFixture.nqnField(other), CoreFixture.HOSTID);
            assertEquals(Status.CONNECT_INVALID_PARAM, otherNqn.status(), "same HOSTID, another host NQN");
            assertEquals(notFound, otherNqn.dw0());

            assertEquals(Status.SUCCESS, CoreFixture.connect(h, h.newQueue(), 1, cntlid, QueuePairTest.NQN, 0,
                    CoreFixture.nqnField(QueuePairTest.HOST), CoreFixture.HOSTID).status());
            return null;
        });
    }

    @Test
    void controllerIdsAreNotSequential() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int id = CoreFixture.admin(h, QueuePairTest.NQN, 15_000).queue.controller().cntlid();
                assertTrue(id >= 1 && id <= 0xFFEF, "CNTLID " + id + " in 1..FFEFh (never FFFEh, FFFFh)");
                ids.add(id);
            }
            boolean sequential = true;
            for (int i = 1; i < ids.size(); i++) {
                sequential &= ids.get(i) == ids.get(i - 1) + 1;
            }
            assertTrue(!sequential, "CNTLIDs " + ids + " follow each other: the next one can be guessed");
            assertEquals(ids.size(), ids.stream().distinct().count());
            return null;
        });
    }
}
