package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sanport.nvme.FeatureId;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.Status;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import org.junit.jupiter.api.Test;

/**
 * Keep-alive holds under abuse: an I/O controller cannot turn it off (KATO 0), and no controller, discovery
 * included, keeps its resources longer than the target's maximum KATO whatever it asks for.
 */
class KeepAliveBoundsTest {

    @Test
    void kato0IsRefusedForIoControllersAtConnectAndSetFeatures() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                QueuePairTest.ScriptedQueue admin = h.newQueue();
                QueuePairTest.ScriptedQueue.Completion c = CoreFixture.connect(h, admin, 0, ConnectData.CNTLID_DYNAMIC,
                        QueuePairTest.NQN, 0, CoreFixture.nqnField(QueuePairTest.HOST), CoreFixture.HOSTID);
                assertEquals(Status.CONNECT_INVALID_PARAM, c.status());
                assertEquals(ConnectCommand.invalidParameterDw0((int) ConnectCommand.OFFSET_KATO, false), c.dw0(),
                        "IPO names KATO in the command");

                QueuePairTest.ScriptedQueue ok = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
                assertEquals(Status.KEEP_ALIVE_INVALID, CoreFixture.setFeature(h, ok, FeatureId.KATO, 0).status());
                assertEquals(15_000, CoreFixture.kato(h, ok), "the refused Set Features changed nothing");
                return null;
            });
        }
    }

    @Test
    void everyControllersKatoIsBoundedByTheDefaultMaximum() throws Exception {
        long max = TargetOptions.DEFAULT.maxKatoMillis();
        assertEquals(300_000, max, "5 minutes");
        assertEquals(120_000, TargetOptions.DEFAULT.discoveryKatoMillis(), "nvmet's discovery KATO");
        try (CoreFixture f = new CoreFixture()) {
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                assertEquals(max, CoreFixture.kato(h, CoreFixture.admin(h, Nqn.DISCOVERY, 0xFFFFFFFFL)),
                        "a discovery controller asking for 49 days");
                assertEquals(120_000, CoreFixture.kato(h, CoreFixture.admin(h, Nqn.DISCOVERY, 0)));
                QueuePairTest.ScriptedQueue io = CoreFixture.admin(h, QueuePairTest.NQN, 0x80000000L);
                assertEquals(max, CoreFixture.kato(h, io));
                assertEquals(Status.SUCCESS, CoreFixture.setFeature(h, io, FeatureId.KATO, 0xFFFFFFFF).status());
                assertEquals(max, CoreFixture.kato(h, io));
                assertEquals(Status.SUCCESS, CoreFixture.setFeature(h, io, FeatureId.KATO, 7_000).status());
                assertEquals(7_000, CoreFixture.kato(h, io));
                QueuePairTest.ScriptedQueue disc = CoreFixture.admin(h, Nqn.DISCOVERY, 1_000);
                assertEquals(Status.SUCCESS, CoreFixture.setFeature(h, disc, FeatureId.KATO, 0).status());
                assertEquals(120_000, CoreFixture.kato(h, disc), "KATO 0 on discovery: the discovery default");
                return null;
            });
        }
    }

    @Test
    void theBoundsComeFromTheConfigFilesSanportSection() throws Exception {
        TargetConfig c = TargetConfig.parse("""
            { "subsystems": [], "sanport": { "max_kato_ms": 60000, "discovery_kato_ms": "30000" } }
            """, "limits.json");
        TargetOptions o = c.limits().applyTo(TargetOptions.DEFAULT);
        assertEquals(60_000, o.maxKatoMillis());
        assertEquals(30_000, o.discoveryKatoMillis());
        assertEquals(TargetOptions.DEFAULT, TargetConfig.parse("{}", "empty.json").limits().applyTo(TargetOptions.DEFAULT));
        ConfigException e = assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"max_kato_ms\": 1000, \"discovery_kato_ms\": 30000 } }", "bad.json"));
        assertEquals("$.sanport", e.path());
        assertThrows(ConfigException.class, () -> TargetConfig.parse("{ \"sanport\": { \"max_kato_ms\": 0 } }", "zero.json"));

        try (CoreFixture f = new CoreFixture(1, new TargetOptions(0, 50, 5000),
                "\"sanport\": { \"max_kato_ms\": 45000 },")) {
            assertEquals(45_000, f.target().options().maxKatoMillis(), "the file's bound wins over the default");
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                assertEquals(45_000, CoreFixture.kato(h, CoreFixture.admin(h, Nqn.DISCOVERY, 0xFFFFFFFFL)));
                return null;
            });
        }
    }

    @Test
    void theBoundsAreTargetOptions() throws Exception {
        TargetOptions options = new TargetOptions(0, 50, 5000).withKeepAlive(30_000, 60_000);
        try (CoreFixture f = new CoreFixture(options)) {
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                assertEquals(60_000, CoreFixture.kato(h, CoreFixture.admin(h, Nqn.DISCOVERY, 0xFFFFFFFFL)));
                assertEquals(30_000, CoreFixture.kato(h, CoreFixture.admin(h, Nqn.DISCOVERY, 0)));
                assertEquals(60_000, CoreFixture.kato(h, CoreFixture.admin(h, QueuePairTest.NQN, 61_000)));
                return null;
            });
        }
    }
}
