package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TargetConfigTest {
    /** What {@code nvmetcli save} writes (strings for attributes, extra keys sanport ignores). */
    static final String NVMETCLI = """
        {
          "hosts": [ { "nqn": "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f" } ],
          "ports": [
            { "addr": { "adrfam": "ipv4", "traddr": "192.168.1.10", "treq": "not specified", "trsvcid": "4420", "trtype": "tcp" },
              "ana_groups": [ { "ana": { "state": "optimized" }, "grpid": 1 } ],
              "param": { "inline_data_size": "16384", "pi_enable": "0" },
              "portid": 1, "referrals": [], "subsystems": [ "nqn.2024-01.io.sanport:disk0" ] } ],
          "subsystems": [
            { "allowed_hosts": [ "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f" ],
              "attr": { "allow_any_host": "0", "cntlid_max": "65519", "cntlid_min": "1", "model": "Linux",
                        "pi_enable": "0", "serial": "b1c2d3e4f5a6b7c8", "version": "1.3" },
              "namespaces": [
                { "ana_grpid": 1, "device": { "nguid": "01020304-0506-0708-090a-0b0c0d0e0f10", "path": "/dev/nvme0n1",
                                              "uuid": "6a2b3c4d-1111-4222-8333-944455566677" },
                  "enable": 1, "nsid": 1 },
                { "device": { "path": "/srv/disk1.img" }, "enable": 0, "nsid": 7 } ],
              "nqn": "nqn.2024-01.io.sanport:disk0" } ]
        }
        """;

    @Test
    void readsTlsPortsAndHostKeys() throws Exception {
        String key = io.sanport.nvme.tls.TlsKey.format(1, new byte[32]);
        String json = NVMETCLI.replace("\"nqn\": \"nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f\" }",
                "\"nqn\": \"nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f\", \"tls_key\": \"" + key + "\" }");
        TargetConfig plain = TargetConfig.parse(NVMETCLI, "saved.json");
        assertEquals(TargetConfig.PortTls.NONE, plain.ports().getFirst().tls());
        assertNull(plain.hosts().getFirst().tlsKey());
        TargetConfig c = TargetConfig.parse(json.replace("\"treq\": \"not specified\"",
                "\"treq\": \"not specified\", \"tsas\": \"tls1.3\""), "tls.json");
        assertEquals(TargetConfig.PortTls.REQUIRED, c.ports().getFirst().tls()); // nvmet's default with tls1.3
        assertTrue(io.sanport.nvme.tls.TlsKey.same(io.sanport.nvme.tls.TlsKey.parse(key), c.hosts().getFirst().tlsKey()));
        assertEquals(TargetConfig.PortTls.NOT_REQUIRED, TargetConfig.parse(json.replace("\"treq\": \"not specified\"",
                "\"treq\": \"not required\", \"tsas\": \"tls1.3\""), "tls.json").ports().getFirst().tls());
        assertEquals("$.ports[0].addr.tsas", assertThrows(ConfigException.class, () -> TargetConfig.parse(
                json.replace("\"treq\": \"not specified\"", "\"tsas\": \"tls1.2\""), "x.json")).path());
        assertEquals("$.ports[0].addr.treq", assertThrows(ConfigException.class, () -> TargetConfig.parse(
                json.replace("\"treq\": \"not specified\"", "\"treq\": \"sometimes\", \"tsas\": \"tls1.3\""), "x.json")).path());
        ConfigException bad = assertThrows(ConfigException.class, () -> TargetConfig.parse(
                json.replace(key, key.replace(":01:", ":02:")), "x.json"));
        assertEquals("$.hosts[0].tls_key", bad.path());
        assertFalse(bad.getMessage().contains(key.substring(16, 40)), bad.getMessage());
    }

    @Test
    void readsTheTlsKeyDerivation() throws Exception {
        String key = io.sanport.nvme.tls.TlsKey.format(1, new byte[32]);
        String host = "\"nqn\": \"nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f\"";
        java.util.function.Function<String, String> with = extra -> NVMETCLI.replace(host + " }", host + extra + " }");
        String keyed = ", \"tls_key\": \"" + key + "\"";
        assertEquals(io.sanport.nvme.tls.TlsKey.Derivation.COMPAT,
                TargetConfig.parse(with.apply(keyed), "x.json").hosts().getFirst().tlsKey().derivation());
        assertEquals(io.sanport.nvme.tls.TlsKey.Derivation.RFC8446, TargetConfig.parse(
                with.apply(keyed + ", \"tls_key_derivation\": \"rfc8446\""), "x.json").hosts().getFirst().tlsKey().derivation());
        assertEquals(io.sanport.nvme.tls.TlsKey.Derivation.COMPAT, TargetConfig.parse(
                with.apply(keyed + ", \"tls_key_derivation\": \"compat\""), "x.json").hosts().getFirst().tlsKey().derivation());
        ConfigException bad = assertThrows(ConfigException.class, () -> TargetConfig.parse(
                with.apply(keyed + ", \"tls_key_derivation\": \"rfc5869\""), "x.json"));
        assertEquals("$.hosts[0].tls_key_derivation", bad.path());
        assertTrue(bad.getMessage().contains("rfc8446"), bad.getMessage());
        assertFalse(bad.getMessage().contains(key.substring(16, 40)), bad.getMessage());
        assertEquals("$.hosts[0].tls_key_derivation", assertThrows(ConfigException.class, () -> TargetConfig.parse(
                with.apply(", \"tls_key_derivation\": \"rfc8446\""), "x.json")).path());
    }

    @Test
    void readsWhatNvmetcliWrites() throws Exception {
        TargetConfig c = TargetConfig.parse(NVMETCLI, "saved.json");
        assertEquals(1, c.hosts().size());
        TargetConfig.PortConfig p = c.ports().getFirst();
        assertEquals(1, p.portId());
        assertEquals("tcp", p.trtype());
        assertEquals("ipv4", p.adrfam());
        assertEquals("192.168.1.10", p.traddr());
        assertEquals(4420, p.trsvcidNumber());
        TargetConfig.SubsystemConfig s = c.subsystems().getFirst();
        assertFalse(s.allowAnyHost());
        assertEquals("b1c2d3e4f5a6b7c8", s.serial());
        assertEquals("Linux", s.model());
        assertEquals(2, s.namespaces().size());
        TargetConfig.NamespaceConfig n = s.namespaces().getFirst();
        assertEquals(UUID.fromString("6a2b3c4d-1111-4222-8333-944455566677"), n.uuid());
        assertEquals("0102030405060708090a0b0c0d0e0f10", n.nguid());
        assertFalse(s.namespaces().get(1).enabled());
        assertNull(s.namespaces().get(1).uuid());
        assertEquals(List.of("/dev/nvme0n1"), c.devicePaths(), "only enabled namespaces need a device");
    }

    @Test
    void bufferedIoIsReadAndOneModePerDevice() throws Exception {
        TargetConfig c = TargetConfig.parse(NVMETCLI.replace("\"path\": \"/srv/disk1.img\" }",
                "\"path\": \"/srv/disk1.img\", \"buffered_io\": \"1\" }"), "b.json");
        assertTrue(c.subsystems().getFirst().namespaces().get(1).bufferedIo());
        assertFalse(c.subsystems().getFirst().namespaces().get(0).bufferedIo());
        assertTrue(c.bufferedDevice("/srv/disk1.img"));
        assertFalse(c.bufferedDevice("/dev/nvme0n1"));
        ConfigException bad = assertThrows(ConfigException.class, () -> TargetConfig.parse(NVMETCLI.replace(
                "\"path\": \"/srv/disk1.img\" }", "\"path\": \"/srv/disk1.img\", \"buffered_io\": \"yes please\" }"), "b.json"));
        assertTrue(bad.path().endsWith(".device.buffered_io"), bad.getMessage());
        // two namespaces on one device must agree: it is opened once
        TargetConfig one = c.withSubsystem(c.subsystems().getFirst().withNamespaces(List.of(
                c.subsystems().getFirst().namespaces().get(1),
                new TargetConfig.NamespaceConfig(8, true, "/srv/disk1.img", null, null))));
        ConfigException mixed = assertThrows(ConfigException.class, () -> TargetConfig.validate(one));
        assertEquals("$.subsystems[0].namespaces[1].device.buffered_io", mixed.path(), mixed.getMessage());
    }

    @Test
    void readsAnaGroupsReferralsAndControllerIdRanges() throws Exception {
        String json = NVMETCLI
                .replace("\"ana_groups\": [ { \"ana\": { \"state\": \"optimized\" }, \"grpid\": 1 } ]",
                        "\"ana_groups\": [ { \"ana\": { \"state\": \"non-optimized\" }, \"grpid\": 1 },"
                                + " { \"ana\": { \"state\": \"inaccessible\" }, \"grpid\": 2 } ]")
                .replace("\"referrals\": []", "\"referrals\": [ { \"addr\": { \"adrfam\": \"ipv4\", \"portid\": \"2\","
                        + " \"traddr\": \"192.168.1.11\", \"treq\": \"not specified\", \"trsvcid\": \"8009\","
                        + " \"trtype\": \"tcp\" }, \"name\": \"peer\" } ]")
                .replace("\"cntlid_max\": \"65519\", \"cntlid_min\": \"1\"", "\"cntlid_max\": \"200\", \"cntlid_min\": \"101\"")
                .replace("\"ana_grpid\": 1,", "\"ana_grpid\": 2,")
                .replace("\"path\": \"/srv/disk1.img\" }", "\"path\": \"/srv/disk1.img\", \"shared\": true }");
        TargetConfig c = TargetConfig.parse(json, "paths.json");
        TargetConfig.PortConfig p = c.ports().getFirst();
        assertEquals(List.of(new TargetConfig.AnaGroupConfig(1, io.sanport.nvme.AnaState.NON_OPTIMIZED),
                new TargetConfig.AnaGroupConfig(2, io.sanport.nvme.AnaState.INACCESSIBLE)), p.anaGroups());
        assertEquals(List.of(new TargetConfig.ReferralConfig(2, "tcp", "ipv4", "192.168.1.11", "8009")), p.referrals());
        TargetConfig.SubsystemConfig s = c.subsystems().getFirst();
        assertEquals(101, s.cntlidMin());
        assertEquals(200, s.cntlidMax());
        assertEquals(2, s.namespaces().get(0).anaGrpId());
        assertEquals(1, s.namespaces().get(1).anaGrpId(), "group 1 unless said");
        assertFalse(s.namespaces().get(0).shared());
        assertTrue(s.namespaces().get(1).shared());
        assertTrue(c.sharedDevice("/srv/disk1.img"));
        assertFalse(c.sharedDevice("/dev/nvme0n1"));
        assertFalse(s.namespaces().get(0).bufferedIo(), "O_DIRECT unless buffered_io says");
        assertFalse(c.bufferedDevice("/srv/disk1.img"));
        // defaults: nvmet's whole range, no groups, no referrals
        TargetConfig d = TargetConfig.forDevice("/dev/x", "nqn.2024-01.io.sanport:d", "tcp", "0.0.0.0", 4420);
        assertEquals(Subsystem.CNTLID_MIN, d.subsystems().getFirst().cntlidMin());
        assertEquals(Subsystem.CNTLID_MAX, d.subsystems().getFirst().cntlidMax());
        assertEquals(List.of(), d.ports().getFirst().anaGroups());
        // the serial, UUID and NGUID two processes derive from one config are the same
        assertEquals(TargetConfig.defaultSerial("nqn.2024-01.io.sanport:d"),
                TargetConfig.forDevice("/dev/y", "nqn.2024-01.io.sanport:d", "tcp", "0.0.0.0", 4421)
                        .subsystems().getFirst().serial());
    }

    @Test
    void quickFormForOneDevice() throws Exception {
        TargetConfig c = TargetConfig.forDevice("/dev/nvme0n1", "nqn.2024-01.io.sanport:d", "tcp", "0.0.0.0", 4420);
        assertTrue(c.subsystems().getFirst().allowAnyHost());
        assertEquals(1, c.subsystems().getFirst().namespaces().getFirst().nsid());
        assertThrows(IllegalArgumentException.class,
                () -> TargetConfig.forDevice("/dev/x", "not-an-nqn", "tcp", "0.0.0.0", 4420));
    }

    /** Each broken field is refused with its JSON path. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        "portid": 1,                          | "portid": "one",                                | $.ports[0].portid
        "trtype": "tcp"                       | "trtype": "carrier-pigeon"                      | $.ports[0].addr.trtype
        "traddr": "192.168.1.10"              | "traddr": "192.168.1.300"                       | $.ports[0].addr.traddr
        "trsvcid": "4420"                     | "trsvcid": "http"                               | $.ports[0].addr.trsvcid
        "adrfam": "ipv4"                      | "adrfam": "ib"                                  | $.ports[0].addr.adrfam
        "subsystems": [ "nqn.2024-01.io.sanport:disk0" ] } ] | "subsystems": [ "nqn.2024-01.io.sanport:other" ] } ] | $.ports[0].subsystems[0]
        "nsid": 1 }                           | "nsid": 0 }                                     | $.subsystems[0].namespaces[0].nsid
        "nsid": 7 }                           | "nsid": 1 }                                     | $.subsystems[0].namespaces[1].nsid
        "path": "/dev/nvme0n1"                | "path": ""                                      | $.subsystems[0].namespaces[0].device.path
        "uuid": "6a2b3c4d-1111-4222-8333-944455566677" | "uuid": "not-a-uuid"                   | $.subsystems[0].namespaces[0].device.uuid
        "nguid": "01020304-0506-0708-090a-0b0c0d0e0f10" | "nguid": "0102"                       | $.subsystems[0].namespaces[0].device.nguid
        "allow_any_host": "0"                 | "allow_any_host": "maybe"                       | $.subsystems[0].attr.allow_any_host
        "serial": "b1c2d3e4f5a6b7c8"          | "serial": "this serial is far too long for SN"  | $.subsystems[0].attr.serial
        "nqn": "nqn.2024-01.io.sanport:disk0" } ] | "nqn": "disk0" } ]                          | $.subsystems[0].nqn
        "allowed_hosts": [ "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f" ] | "allowed_hosts": [ "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000" ] | $.subsystems[0].allowed_hosts[0]
        "hosts": [ { "nqn": "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f" } ] | "hosts": [ { "name": "x" } ] | $.hosts[0].nqn
        "state": "optimized"                  | "state": "sideways"                             | $.ports[0].ana_groups[0].ana.state
        "grpid": 1 }                          | "grpid": 0 }                                    | $.ports[0].ana_groups[0].grpid
        "ana_groups": [ { "ana": { "state": "optimized" }, "grpid": 1 } ] | "ana_groups": [ { "ana": { "state": "optimized" }, "grpid": 1 }, { "ana": { "state": "inaccessible" }, "grpid": 1 } ] | $.ports[0].ana_groups[1].grpid
        "ana": { "state": "optimized" }       | "ana": "optimized"                              | $.ports[0].ana_groups[0].ana
        "ana_grpid": 1,                       | "ana_grpid": 129,                               | $.subsystems[0].namespaces[0].ana_grpid
        "cntlid_min": "1"                     | "cntlid_min": "70000"                           | $.subsystems[0].attr.cntlid_min
        "cntlid_max": "65519"                 | "cntlid_max": "0"                               | $.subsystems[0].attr.cntlid_max
        "referrals": []                       | "referrals": [ { "addr": { "trtype": "tcp", "traddr": "10.0.0.300", "trsvcid": "8009" } } ] | $.ports[0].referrals[0].addr.traddr
        "referrals": []                       | "referrals": [ { "addr": { "trtype": "tcp", "traddr": "10.0.0.3", "trsvcid": "disc" } } ] | $.ports[0].referrals[0].addr.trsvcid
        "referrals": []                       | "referrals": [ { "name": "r1" } ]               | $.ports[0].referrals[0].addr
        """)
    void errorsNameTheField(String good, String bad, String path) {
        assertTrue(NVMETCLI.contains(good.strip()), "the test's anchor: " + good);
        String broken = NVMETCLI.replace(good.strip(), bad.strip());
        ConfigException e = assertThrows(ConfigException.class, () -> TargetConfig.parse(broken, "bad.json"));
        assertEquals(path, e.path(), e.getMessage());
        assertTrue(e.getMessage().startsWith("bad.json: " + path + ": "), e.getMessage());
    }

    @Test
    void notJsonAtAll() {
        ConfigException e = assertThrows(ConfigException.class, () -> TargetConfig.parse("{ \"ports\": [ ", "x.json"));
        assertEquals("$", e.path());
        assertTrue(e.getMessage().contains("line"), e.getMessage());
        assertEquals("$.ports", assertThrows(ConfigException.class,
                () -> TargetConfig.parse("{ \"ports\": 3 }", "x.json")).path());
    }

    /** The host-paced buffer quotas come from the "sanport" object; out-of-range values are refused there. */
    @Test
    void hostPacedBufferQuotasComeFromTheSanportSection() throws Exception {
        TargetOptions o = TargetConfig.parse("""
            { "subsystems": [], "sanport": { "host_paced_buffers_percent": 25, "host_paced_buffers_per_controller": 8 } }
            """, "quota.json").limits().applyTo(TargetOptions.DEFAULT);
        assertEquals(25, o.hostPacedPercent());
        assertEquals(8, o.hostPacedPerController());
        assertEquals(64, o.hostPacedLimit(256));
        assertEquals(TargetOptions.DEFAULT_HOST_PACED_PERCENT, TargetOptions.DEFAULT.hostPacedPercent());
        assertEquals(128, TargetOptions.DEFAULT.hostPacedLimit(256), "half of the default pool");
        assertEquals(32, TargetOptions.DEFAULT.hostPacedPerController(), "an eighth of the default pool");
        assertEquals(1, TargetOptions.DEFAULT.hostPacedLimit(1), "never zero: a write could not run");
        org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"host_paced_buffers_percent\": 0 } }", "zero.json"));
        org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"host_paced_buffers_percent\": 101 } }", "over.json"));
        org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"host_paced_buffers_per_controller\": 0 } }", "zero.json"));
    }

    /** The Connect timeout (both transports) and the RDMA pending cap are "sanport" keys; errors name their path. */
    @Test
    void connectionKnobsComeFromTheSanportSection() throws Exception {
        TargetOptions o = TargetConfig.parse("""
            { "sanport": { "connect_timeout_ms": 2500, "max_pending_per_host": 16 } }
            """, "rdma.json").limits().applyTo(TargetOptions.DEFAULT);
        assertEquals(2500, o.limits().connectTimeoutMillis());
        assertEquals(16, o.limits().maxPendingPerHost());
        assertEquals(ConnectionLimits.DEFAULT.maxConnections(), o.limits().maxConnections(), "the rest stands");
        assertEquals(129, ConnectionLimits.DEFAULT.maxPendingPerHost(), "128 I/O queues + the admin queue");
        assertEquals(10_000, ConnectionLimits.DEFAULT.connectTimeoutMillis());
        assertEquals("$.sanport.max_pending_per_host", assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"max_pending_per_host\": 0 } }", "zero.json")).path());
        assertEquals("$.sanport.connect_timeout_ms", assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"connect_timeout_ms\": \"soon\" } }", "word.json")).path());
    }

    /** The per-host share: 64 by default, a quarter of the default pool; set in the "sanport" object, never 0. */
    @Test
    void perHostBufferShareComesFromTheSanportSection() throws Exception {
        assertEquals(64, TargetOptions.DEFAULT.hostPacedPerHost());
        TargetOptions o = TargetConfig.parse("""
            { "subsystems": [], "sanport": { "host_paced_buffers_per_host": 16 } }
            """, "host.json").limits().applyTo(TargetOptions.DEFAULT);
        assertEquals(16, o.hostPacedPerHost());
        assertEquals(TargetOptions.DEFAULT_HOST_PACED_PER_CONTROLLER, o.hostPacedPerController(), "the others stand");
        assertEquals(64, TargetOptions.DEFAULT.withHostPacedBuffers(50, 8).hostPacedPerHost(), "kept by the other knob");
        org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> TargetConfig.parse(
                "{ \"sanport\": { \"host_paced_buffers_per_host\": 0 } }", "zero.json"));
    }
}
