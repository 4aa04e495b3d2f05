package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.hostdriver.control.ControlSocket;
import io.sanport.hostdriver.control.RpcClient;
import io.sanport.hostdriver.control.RpcException;
import io.sanport.hostdriver.control.RpcMethods;
import io.sanport.hostdriver.control.TargetMethods;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket's changing methods through a real Unix socket, against a real target on NVMe/TCP started
 * from a config file, with {@link RawHost} as the host: what the RPCs add can be connected to and used, what they
 * remove is gone, bad params are refused naming the field, and {@code sanport_reload} applies an edited file.
 */
@Timeout(120)
class ControlMethodsTest {
    static final String NQN = "nqn.2024-01.io.sanport:rpc";
    static final String NEW = "nqn.2024-01.io.sanport:rpc-new";
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:5b0c8f9e-1d2a-4e3b-9c4d-6e7f8a9b0c1d";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path file;
    Path sock;
    Target target;
    ControlSocket control;
    int port;

    static String config(String extraNamespace) {
        return """
            { "hosts": [],
              "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                           "subsystems": [ "%s" ] } ],
              "subsystems": [
                { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "RPC00001" },
                  "namespaces": [ { "nsid": 1, "device": { "path": "ram:8M" } } %s ] } ] }
            """.formatted(NQN, NQN, extraNamespace);
    }

    @BeforeEach
    void start() throws IOException {
        file = dir.resolve("sanport.json");
        Files.writeString(file, config(""));
        target = Target.open(TargetConfig.load(file), 1, new ReactorConfig(64, 128 * 1024, 64),
                TargetOptions.DEFAULT.withDiscoveryPort(0));
        port = target.port(1).boundPort();
        sock = dir.resolve("sanport.sock");
        RpcMethods m = new RpcMethods();
        TargetMethods.register(m, target, "test", file);
        control = ControlSocket.open(sock, m);
    }

    @AfterEach
    void stop() throws IOException {
        if (control != null) control.close();
        if (target != null) target.close();
    }

    JsonNode rpc(String method, String params) throws Exception {
        return RpcClient.call(sock, method, params == null ? null : JSON.readTree(params), 10_000);
    }

    RpcException refused(String method, String params) {
        return assertThrows(RpcException.class, () -> rpc(method, params), method + " " + params);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void subsystemNamespaceHostAndListenerAddedUsedAndRemoved() throws Exception {
        assertTrue(rpc("nvmf_create_subsystem", """
                {"nqn": "%s", "serial_number": "NEW00001", "model_number": "rpc model"}""".formatted(NEW)).asBoolean());
        TargetConfig.SubsystemConfig sc = target.config().subsystems().get(1);
        assertEquals(NEW, sc.nqn());
        assertEquals("NEW00001", sc.serial());
        assertEquals("rpc model", sc.model());
        assertEquals(false, sc.allowAnyHost(), "SPDK's default: only allowed hosts");

        assertEquals(1, rpc("nvmf_subsystem_add_ns", """
                {"nqn": "%s", "namespace": {"device_path": "ram:4M"}}""".formatted(NEW)).asLong(), "lowest free NSID");
        assertEquals(7, rpc("nvmf_subsystem_add_ns", """
                {"nqn": "%s", "namespace": {"nsid": 7, "device_path": "ram:2M",
                 "uuid": "0b5e3f7a-8c1d-4e2f-9a3b-4c5d6e7f8091"}}""".formatted(NEW)).asLong());
        assertEquals(2, target.subsystem(NEW).namespaces().size());
        assertEquals("0b5e3f7a-8c1d-4e2f-9a3b-4c5d6e7f8091", target.subsystem(NEW).namespaces().get(7).uuid().toString());
        assertTrue(rpc("nvmf_subsystem_add_host", "{\"nqn\": \"%s\", \"host\": \"%s\"}".formatted(NEW, HOST)).asBoolean());
        assertEquals(List.of(HOST), target.config().subsystems().get(1).allowedHosts());

        int free = freePort();
        String listener = "{\"nqn\": \"%s\", \"listen_address\": {\"trtype\": \"tcp\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\"}}"
                .formatted(NEW, free);
        assertEquals(2, rpc("nvmf_subsystem_add_listener", listener).asInt(), "a new port, one more than the highest id");
        assertEquals(List.of(NEW), target.config().ports().get(1).subsystems());
        assertEquals(2, rpc("nvmf_subsystem_add_listener", listener).asInt(), "the same address: the same port");

        try (RawHost admin = RawHost.connect(free)) {
            admin.hostnqn = HOST;
            admin.adminQueue(NEW, 5000);
            try (RawHost io = RawHost.connect(free)) {
                io.hostnqn = HOST;
                RawHost.ok(io.connect(1, 31, 0, admin.cntlid, NEW));
                byte[] data = new byte[4096];
                new Random(5).nextBytes(data);
                RawHost.ok(io.write(7, 0, data, 512, true));
                assertArrayEquals(data, RawHost.ok(io.read(7, 0, 8, 512)).data());
                assertTrue(rpc("nvmf_subsystem_remove_ns", "{\"nqn\": \"%s\", \"nsid\": 7}".formatted(NEW)).asBoolean());
                assertTrue(!io.read(7, 0, 8, 512).ok(), "a removed namespace answers Invalid Namespace");
                RawHost.ok(io.write(1, 0, data, 512, true));
            }
        }
        // a host no longer allowed is refused at its next Connect
        assertTrue(rpc("nvmf_subsystem_remove_host", "{\"nqn\": \"%s\", \"host\": \"%s\"}".formatted(NEW, HOST)).asBoolean());
        try (RawHost refused = RawHost.connect(free)) {
            refused.hostnqn = HOST;
            assertTrue(!refused.connect(0, 31, 5000, 0xFFFF, NEW).ok());
        }
        assertTrue(rpc("nvmf_subsystem_allow_any_host", "{\"nqn\": \"%s\", \"allow_any_host\": true}".formatted(NEW)).asBoolean());
        assertTrue(target.config().subsystems().get(1).allowAnyHost());

        assertEquals(2, rpc("nvmf_subsystem_remove_listener", listener).asInt());
        assertEquals(List.of(), target.config().ports().get(1).subsystems(), "unlinked; the port stays (discovery)");
        assertTrue(rpc("nvmf_delete_port", "{\"port_id\": 2}").asBoolean());
        assertThrows(ConnectException.class, () -> RawHost.connect(free).close());

        // nvmetcli's own model: a port by id, linked and unlinked
        int other = freePort();
        assertEquals(9, rpc("nvmf_create_port", "{\"port_id\": 9, \"trtype\": \"tcp\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\"}"
                .formatted(other)).asInt());
        assertTrue(rpc("nvmf_port_add_subsystem", "{\"port_id\": 9, \"nqn\": \"%s\"}".formatted(NEW)).asBoolean());
        try (RawHost admin = RawHost.connect(other)) {
            admin.adminQueue(NEW, 5000);
        }
        assertTrue(rpc("nvmf_port_remove_subsystem", "{\"port_id\": 9, \"nqn\": \"%s\"}".formatted(NEW)).asBoolean());
        assertTrue(rpc("nvmf_delete_port", "{\"port_id\": 9}").asBoolean());
        assertTrue(rpc("nvmf_delete_subsystem", "{\"nqn\": \"%s\"}".formatted(NEW)).asBoolean());
        assertEquals(null, target.subsystem(NEW));
        TargetConfig back = TargetConfig.load(file);
        assertEquals(back.subsystems(), target.config().subsystems(), "back to the file, record for record");
        assertEquals(back.ports(), target.config().ports());
        assertEquals(List.of(HOST), target.config().hosts().stream().map(TargetConfig.HostConfig::nqn).toList(),
                "as nvmetcli, a host once allowed stays in $.hosts");
        assertEquals(0, rpc("sanport_reload", null).size(), "so a reload changes nothing");
    }

    @Test
    void badParamsAreRefusedNamingTheFieldAndChangeNothing() throws Exception {
        TargetConfig before = target.config();
        record Case(String method, String params, String message) {}
        String ns = "{\"nqn\": \"" + NQN + "\", \"namespace\": %s}";
        for (Case c : List.of(
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"nsid\": 2}"), "namespace.device_path: missing"),
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"device_path\": \"ram:1M\", \"uuid\": \"nope\"}"),
                        "namespace.uuid: \"nope\" is not a UUID"),
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"device_path\": \"ram:1M\", \"nguid\": \"12\"}"),
                        "namespace.nguid: \"12\" is not 16 bytes of hex"),
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"device_path\": \"ram:1M\", \"nsid\": 0}"),
                        "namespace.nsid: must be an integer in 1..4294967294"),
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"device_path\": \"ram:1M\", \"size\": 1}"),
                        "namespace.size: unknown field"),
                new Case("nvmf_subsystem_add_ns", ns.formatted("\"ram:1M\""), "namespace: must be an object"),
                new Case("nvmf_create_subsystem", "{\"nqn\": \"" + NEW + "\", \"serial_number\": \"012345678901234567890\"}",
                        "serial_number: must be 1..20 printable ASCII characters"),
                new Case("nvmf_create_subsystem", "{\"nqn\": \"not an nqn\"}", "nqn: "),
                new Case("nvmf_create_subsystem", "{\"nqn\": \"" + NEW + "\", \"allow_any_host\": \"1\"}",
                        "allow_any_host: must be true or false"),
                new Case("nvmf_create_port", "{\"trtype\": \"tcp\", \"traddr\": \"300.1.1.1\", \"trsvcid\": \"4420\"}",
                        "traddr: \"300.1.1.1\" is not an ipv4 address"),
                new Case("nvmf_create_port", "{\"trtype\": \"tcp\", \"traddr\": \"127.0.0.1\", \"trsvcid\": 4420}",
                        "trsvcid: must be a string"),
                new Case("nvmf_subsystem_add_listener", "{\"nqn\": \"" + NQN + "\", \"listen_address\": {\"trtype\": \"tcp\", "
                        + "\"traddr\": \"127.0.0.1\", \"trsvcid\": \"99999\"}}",
                        "listen_address.trsvcid: expected a TCP port number 0..65535, got \"99999\""),
                new Case("nvmf_subsystem_add_host", "{\"nqn\": \"" + NQN + "\", \"host\": \"h\"}", "host: \"h\" is not an NQN"),
                new Case("nvmf_subsystem_add_host", "{\"nqn\": \"" + NQN + "\", \"host\": \"" + HOST + "\", \"x\": 1}",
                        "x: unknown field"),
                new Case("nvmf_delete_subsystem", "{\"nqn\": \"nqn.2014-08.org.nvmexpress.discovery\"}",
                        "nqn: the discovery subsystem is sanport's own"),
                new Case("nvmf_delete_port", "{\"port_id\": -1}", "port_id: must be an integer in 0..65535"))) {
            RpcException e = refused(c.method, c.params);
            assertEquals(RpcException.INVALID_PARAMS, e.code(), c + ": " + e.getMessage());
            assertTrue(e.getMessage().startsWith(c.message), c + ": " + e.getMessage());
        }
        // understood but not possible: -32000, saying why
        for (Case c : List.of(
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"nsid\": 1, \"device_path\": \"ram:1M\"}"),
                        NQN + " already has namespace 1"),
                new Case("nvmf_subsystem_add_ns", ns.formatted("{\"device_path\": \"" + dir.resolve("missing.img") + "\"}"),
                        "$.subsystems[0].namespaces[1]"),
                new Case("nvmf_subsystem_remove_ns", "{\"nqn\": \"" + NQN + "\", \"nsid\": 5}", NQN + " has no namespace 5"),
                new Case("nvmf_delete_subsystem", "{\"nqn\": \"" + NEW + "\"}", "no subsystem " + NEW),
                new Case("nvmf_delete_port", "{\"port_id\": 4}", "no port 4"),
                new Case("nvmf_subsystem_remove_listener", "{\"nqn\": \"" + NQN + "\", \"listen_address\": {\"trtype\": \"tcp\", "
                        + "\"traddr\": \"127.0.0.1\", \"trsvcid\": \"1\"}}", "no port listens on tcp 127.0.0.1:1"))) {
            RpcException e = refused(c.method, c.params);
            assertEquals(RpcException.APPLICATION, e.code(), c + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(c.message), c + ": " + e.getMessage());
        }
        assertEquals(before, target.config(), "nothing refused changed anything");
        assertEquals(1, target.subsystem(NQN).namespaces().size());
    }

    @Test
    void reloadAppliesOnlyWhatTheEditedFileChanges() throws Exception {
        assertEquals(0, rpc("sanport_reload", null).size(), "the file is what runs");
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            int cntlid = admin.cntlid;
            Files.writeString(file, config(", { \"nsid\": 2, \"device\": { \"path\": \"ram:4M\" } }"));
            JsonNode changes = rpc("sanport_reload", null);
            assertEquals("[\"added namespace 2 (ram:4M) to " + NQN + "\"]", changes.toString());
            assertEquals(2, target.subsystem(NQN).namespaces().size());
            assertEquals(0, rpc("sanport_reload", null).size(), "again: no change");
            RawHost.ok(admin.keepAlive());
            assertEquals(cntlid, target.subsystem(NQN).controllers().getFirst().cntlid(), "the host stayed connected");

            // a refused file: -32000 naming the file and the JSON path; the target runs as before
            TargetConfig before = target.config();
            Files.writeString(file, config(", { \"nsid\": 2, \"device\": { \"path\": \"ram:4M\" } }, "
                    + "{ \"nsid\": 3, \"device\": { \"path\": \"" + dir.resolve("missing.img") + "\" } }"));
            RpcException e = refused("sanport_reload", null);
            assertEquals(RpcException.APPLICATION, e.code());
            assertTrue(e.getMessage().startsWith(file + ": $.subsystems[0].namespaces[2].device.path: "), e.getMessage());
            Files.writeString(file, "{ \"ports\": [ }");
            e = refused("sanport_reload", null);
            assertTrue(e.getMessage().startsWith(file + ": $: not valid JSON"), e.getMessage());
            assertEquals(before, target.config());

            Files.writeString(file, config(""));
            assertEquals("[\"removed namespace 2 (ram:4M) from " + NQN + "\"]", rpc("sanport_reload", null).toString());
            RawHost.ok(admin.keepAlive());
        }
        assertEquals("x: unknown field (this method takes none)", refused("sanport_reload", "{\"x\": 1}").getMessage());
    }

    @Test
    void clientsAddingNamespacesAtOnceGetDistinctNsids() throws Exception {
        // each control client has its own thread (called here without the socket, whose client limit is not the
        // point): picking the lowest free NSID and adding it must be one step (RpcMethods.call runs one at a time)
        RpcMethods m = new RpcMethods();
        TargetMethods.register(m, target, "test", file);
        int clients = 6;
        int each = 4;
        java.util.Set<Long> nsids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(clients);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(clients)) {
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int c = 0; c < clients; c++) {
                runs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        nsids.add(m.call("nvmf_subsystem_add_ns", JSON.readTree("""
                                {"nqn": "%s", "namespace": {"device_path": "ram:1M"}}""".formatted(NQN))).asLong());
                    }
                    return null;
                }));
            }
            for (var r : runs) {
                r.get(); // a duplicate pick would fail here with the target's refusal
            }
        }
        assertEquals(clients * each, nsids.size());
        assertEquals(1 + clients * each, target.subsystem(NQN).namespaces().size());
    }

    @Test
    void aTargetWithoutAFileSaysSoOnReload() throws Exception {
        RpcMethods m = new RpcMethods();
        TargetMethods.register(m, target, "test");
        RpcException e = assertThrows(RpcException.class, () -> m.call("sanport_reload", null));
        assertEquals(RpcException.APPLICATION, e.code());
        assertTrue(e.getMessage().contains("no config file") && e.getMessage().contains("sanport export"), e.getMessage());
    }

    @Test
    void statsCountTheIoOfEachNamespaceAndPort() throws Exception {
        JsonNode before = rpc("sanport_get_stats", null);
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            try (RawHost io = RawHost.connect(port)) {
                RawHost.ok(io.connect(1, 31, 0, admin.cntlid, NQN));
                byte[] data = new byte[8192];
                for (int i = 0; i < 3; i++) {
                    RawHost.ok(io.write(1, i * 16L, data, 512, true));
                }
                RawHost.ok(io.read(1, 0, 16, 512));
            }
        }
        JsonNode after = rpc("sanport_get_stats", null);
        JsonNode ns = after.get("namespaces").get(0);
        assertEquals(NQN, ns.get("subnqn").asText());
        assertEquals(3, ns.get("writes").asLong() - before.get("namespaces").get(0).get("writes").asLong());
        assertEquals(3 * 8192, ns.get("bytes_written").asLong() - before.get("namespaces").get(0).get("bytes_written").asLong());
        assertEquals(1, ns.get("reads").asLong() - before.get("namespaces").get(0).get("reads").asLong());
        JsonNode p = after.get("ports").get(0);
        assertEquals(1, p.get("port_id").asInt());
        assertEquals(Integer.toString(port), p.get("trsvcid").asText());
        assertEquals(3, p.get("writes").asLong() - before.get("ports").get(0).get("writes").asLong());
        assertTrue(after.get("time_ns").asLong() > before.get("time_ns").asLong());
        assertEquals(1, after.get("reactors").size());
    }
}
