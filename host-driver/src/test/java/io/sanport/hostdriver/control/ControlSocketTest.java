package io.sanport.hostdriver.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The control socket on a real Unix socket in a temporary directory, in front of a real target on a ram: device. */
@Timeout(60)
class ControlSocketTest {
    static final String NQN = "nqn.2026-11.io.sanport:control-test";
    static Target target;

    @TempDir
    Path dir;

    @BeforeAll
    static void startTarget() throws IOException {
        target = Target.open(TargetConfig.forDevice("ram:16M", NQN, "loop", "127.0.0.1", 1), 1,
                new ReactorConfig(64, 128 * 1024, 32), TargetOptions.DEFAULT.withDiscoveryPort(0));
    }

    @AfterAll
    static void stopTarget() throws IOException {
        target.close();
    }

    private ControlSocket open(Path path) throws IOException {
        RpcMethods m = new RpcMethods();
        TargetMethods.register(m, target, "test-version");
        return ControlSocket.open(path, m);
    }

    @Test
    void theReadMethodsDescribeTheTarget() throws Exception {
        Path sock = dir.resolve("run/sanport.sock");
        try (ControlSocket s = open(sock)) {
            JsonNode methods = RpcClient.call(sock, "rpc_get_methods", null, 5000);
            for (String m : List.of("rpc_get_methods", "sanport_get_version", "nvmf_get_subsystems", "nvmf_get_ports",
                    "nvmf_subsystem_get_controllers", "nvmf_ns_set_enabled")) {
                assertTrue(methods.toString().contains("\"" + m + "\""), m + " in " + methods);
            }
            assertEquals("test-version", RpcClient.call(sock, "sanport_get_version", null, 5000).get("version").asText());

            JsonNode subs = RpcClient.call(sock, "nvmf_get_subsystems", null, 5000);
            assertEquals(2, subs.size(), subs.toString());
            assertEquals("Discovery", subs.get(0).get("subtype").asText());
            JsonNode s1 = subs.get(1);
            assertEquals(NQN, s1.get("nqn").asText());
            assertEquals("loop", s1.get("listen_addresses").get(0).get("trtype").asText());
            JsonNode ns = s1.get("namespaces").get(0);
            assertEquals(1, ns.get("nsid").asInt());
            assertEquals("ram:16M", ns.get("device").asText());
            assertEquals(16L << 20, ns.get("size").asLong());
            assertEquals(ns.get("size").asLong() / ns.get("block_size").asLong(), ns.get("num_blocks").asLong());
            assertTrue(ns.get("enabled").asBoolean());
            assertEquals(32, ns.get("nguid").asText().length());
            assertNotNull(java.util.UUID.fromString(ns.get("uuid").asText()));
            assertEquals(1, ns.get("anagrpid").asInt());
            assertEquals(1, s1.get("min_cntlid").asInt());
            assertEquals(0xFFEF, s1.get("max_cntlid").asInt());

            JsonNode ports = RpcClient.call(sock, "nvmf_get_ports", null, 5000);
            assertEquals(1, ports.size(), ports.toString());
            assertEquals(NQN, ports.get(0).get("subsystems").get(0).asText());
            assertEquals(0, RpcClient.call(sock, "nvmf_subsystem_get_controllers", null, 5000).size());

            ObjectNodeBuilder p = new ObjectNodeBuilder().put("nqn", NQN).put("nsid", 1).put("enabled", false);
            assertTrue(RpcClient.call(sock, "nvmf_ns_set_enabled", p.node, 5000).asBoolean());
            assertFalse(target.subsystem(NQN).namespaces().get(1).enabled(), "the model changed");
            assertFalse(RpcClient.call(sock, "nvmf_get_subsystems", null, 5000).get(1).get("namespaces").get(0)
                    .get("enabled").asBoolean());
            RpcClient.call(sock, "nvmf_ns_set_enabled", p.put("enabled", true).node, 5000);
            assertTrue(target.subsystem(NQN).namespaces().get(1).enabled());
        }
    }

    @Test
    void badRequestsGetErrorObjectsAndTheConnectionGoesOn() throws Exception {
        Path sock = dir.resolve("s.sock");
        try (ControlSocket s = open(sock); SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            JsonNode r = exchange(ch, "{not json");
            assertEquals(-32700, r.get("error").get("code").asInt(), r.toString());
            assertTrue(r.get("id").isNull());

            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"no_such_method\"}");
            assertEquals(-32601, r.get("error").get("code").asInt());
            assertEquals(7, r.get("id").asInt());
            assertTrue(r.get("error").get("message").asText().contains("nvmf_get_subsystems"), "lists the methods: " + r);

            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"nvmf_ns_set_enabled\","
                    + "\"params\":{\"nqn\":\"" + NQN + "\",\"nsid\":\"one\",\"enabled\":true}}");
            assertEquals(-32602, r.get("error").get("code").asInt());
            assertTrue(r.get("error").get("message").asText().startsWith("nsid: "), r.toString());

            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nvmf_get_ports\",\"params\":{\"verbose\":true}}");
            assertEquals(-32602, r.get("error").get("code").asInt());
            assertTrue(r.get("error").get("message").asText().startsWith("verbose: unknown field"), r.toString());

            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nvmf_get_ports\",\"params\":[1]}");
            assertEquals(-32602, r.get("error").get("code").asInt());

            r = exchange(ch, "{\"id\":3,\"method\":\"nvmf_get_ports\"}");
            assertEquals(-32600, r.get("error").get("code").asInt(), "no jsonrpc member");
            r = exchange(ch, "[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nvmf_get_ports\"}]");
            assertEquals(-32600, r.get("error").get("code").asInt(), "a batch");

            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"nvmf_ns_set_enabled\","
                    + "\"params\":{\"nqn\":\"" + NQN + "\",\"nsid\":9,\"enabled\":true}}");
            assertEquals(-32000, r.get("error").get("code").asInt());
            assertTrue(r.get("error").get("message").asText().contains("no namespace 9"), r.toString());
            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"nvmf_subsystem_get_controllers\","
                    + "\"params\":{\"nqn\":\"nqn.2026-11.io.sanport:nothing\"}}");
            assertEquals(-32000, r.get("error").get("code").asInt());

            // a notification (no id) is run but not answered: the next answer is the next request's
            send(ch, "{\"jsonrpc\":\"2.0\",\"method\":\"nvmf_get_ports\"}\n\n");
            r = exchange(ch, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"nvmf_get_ports\"}");
            assertEquals(6, r.get("id").asInt());
            assertTrue(r.get("result").isArray());
        }
    }

    @Test
    void anOversizedRequestIsRefusedAndTheConnectionClosed() throws Exception {
        Path sock = dir.resolve("s.sock");
        try (ControlSocket s = open(sock); SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            byte[] big = new byte[ControlSocket.MAX_REQUEST + 10];
            java.util.Arrays.fill(big, (byte) ' ');
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(big);
                    while (out.hasRemaining()) {
                        ch.write(out); // a Unix socket takes part of a large write, even blocking
                    }
                } catch (IOException expected) {
                    // the server stops reading and closes
                }
            });
            JsonNode r = ControlSocket.JSON.readTree(readLine(ch));
            assertEquals(-32600, r.get("error").get("code").asInt(), r.toString());
            assertTrue(r.get("error").get("message").asText().contains("longer than 1048576 bytes"), r.toString());
            assertEquals(null, readLine(ch), "closed after the error");
            writer.join();
            assertEquals("[]", RpcClient.call(sock, "nvmf_subsystem_get_controllers", null, 5000).toString(),
                    "the server serves others");
        }
    }

    @Test
    void theSocketIsTheOwnersOnlyAndRemovedAtClose() throws Exception {
        Path sock = dir.resolve("new/dir/sanport.sock");
        try (ControlSocket s = open(sock)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS)));
            assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock.getParent())));
            assertEquals(List.of("sanport.sock"), list(sock.getParent()), "no staging directory left behind");
        }
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS), "removed at close");
        assertThrows(NoSuchFileException.class, () -> RpcClient.call(sock, "rpc_get_methods", null, 5000));
    }

    @Test
    void aStaleSocketIsReplacedALiveOneRefused() throws Exception {
        Path sock = dir.resolve("sanport.sock");
        // a target that died: its socket file stays, nobody listens
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(sock));
        }
        assertTrue(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
        try (ControlSocket first = open(sock)) {
            assertTrue(RpcClient.call(sock, "rpc_get_methods", null, 5000).isArray());
            ControlSocket.InUseException e = assertThrows(ControlSocket.InUseException.class, () -> open(sock));
            assertTrue(e.getMessage().contains(sock.toString()), e.getMessage());
            assertTrue(RpcClient.call(sock, "rpc_get_methods", null, 5000).isArray(), "the first still serves");
        }
        Files.writeString(sock, "not a socket");
        IOException e = assertThrows(IOException.class, () -> open(sock));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("not a socket", Files.readString(sock), "left alone");
    }

    @Test
    void idleClientsAreCutAndTheClientCountIsBounded() throws Exception {
        Path sock = dir.resolve("s.sock");
        RpcMethods m = new RpcMethods();
        try (ControlSocket s = ControlSocket.open(sock, m, 1, 300);
             SocketChannel idle = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            send(idle, "{\"jsonrpc\":"); // half a request, then nothing
            try (SocketChannel second = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
                JsonNode r = ControlSocket.JSON.readTree(readLine(second));
                assertEquals(-32000, r.get("error").get("code").asInt());
                assertTrue(r.get("error").get("message").asText().contains("too many control clients"), r.toString());
            }
            long t0 = System.nanoTime();
            assertEquals(null, readLine(idle), "the idle client is disconnected");
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            long deadline = System.currentTimeMillis() + 5000;
            while (true) { // its slot comes back
                try {
                    assertTrue(RpcClient.call(sock, "rpc_get_methods", null, 5000).isArray());
                    break;
                } catch (RpcException busy) {
                    assertTrue(busy.getMessage().contains("too many control clients"), busy.getMessage());
                    assertTrue(System.currentTimeMillis() < deadline, busy.getMessage());
                    Thread.sleep(20);
                }
            }
        }
    }

    /**
     * SO_PEERCRED: a client of another uid is refused even when the file's mode would let it in (a socket made
     * world-writable by hand). Runs as root, reaching the socket as nobody through setpriv.
     */
    @Test
    void aClientOfAnotherUserIsRefusedByItsCredentials() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name"))
                && Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs root and setpriv");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path sock = dir.resolve("s.sock");
        Path probe = dir.resolve("Probe.java");
        Files.writeString(probe, """
                import java.net.*; import java.nio.*; import java.nio.channels.*;
                public class Probe { public static void main(String[] a) throws Exception {
                    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(a[0]))) {
                        try { ch.write(ByteBuffer.wrap("{\\"jsonrpc\\":\\"2.0\\",\\"id\\":1,\\"method\\":\\"rpc_get_methods\\"}\\n".getBytes())); } catch (java.io.IOException refusedFirst) { }
                        ByteBuffer b = ByteBuffer.allocate(4096);
                        while (ch.read(b) > 0 && b.get(b.position() - 1) != '\\n') { }
                        System.out.print(new String(b.array(), 0, b.position()));
                    }
                }}
                """);
        Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rw-r--r--"));
        try (ControlSocket s = open(sock)) {
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-rw-rw-"));
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    javaBin, "-Duser.home=/tmp", probe.toString(), sock.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(out.contains("\"code\":-32000") && out.contains("refused a client running as nobody"), out);
            assertFalse(out.contains("rpc_get_methods\","), "no result for it: " + out);
            assertTrue(RpcClient.call(sock, "rpc_get_methods", null, 5000).isArray(), "root still gets in");
        }
    }

    @Test
    void whatAHandlerThrowsBecomesAnErrorObject() throws Exception {
        Path sock = dir.resolve("s.sock");
        RpcMethods m = new RpcMethods()
                .register("x_refused", p -> { throw new IOException("device gone"); })
                .register("x_bug", p -> { throw new NullPointerException("oops"); })
                .register("x_null", p -> null);
        try (ControlSocket s = ControlSocket.open(sock, m)) {
            RpcException e = assertThrows(RpcException.class, () -> RpcClient.call(sock, "x_refused", null, 5000));
            assertEquals(-32000, e.code());
            assertEquals("device gone", e.getMessage());
            e = assertThrows(RpcException.class, () -> RpcClient.call(sock, "x_bug", null, 5000));
            assertEquals(-32603, e.code());
            assertTrue(e.getMessage().contains("oops"), e.getMessage());
            assertTrue(RpcClient.call(sock, "x_null", null, 5000).isNull());
        }
    }

    @Test
    void aMethodIsRegisteredOnce() {
        RpcMethods m = new RpcMethods();
        m.register("x_get", p -> null);
        assertThrows(IllegalArgumentException.class, () -> m.register("x_get", p -> null));
        assertThrows(IllegalArgumentException.class, () -> m.register("rpc_get_methods", p -> null));
    }

    // ---------------------------------------------------------------- helpers

    @Test
    void anaStateOfAPortChangesThroughTheSocket() throws Exception {
        Path sock = dir.resolve("ana.sock");
        try (ControlSocket s = open(sock)) {
            ObjectNodeBuilder p = new ObjectNodeBuilder().put("port_id", 1).put("anagrpid", 1)
                    .put("ana_state", "inaccessible");
            long before = target.anaChangeCount();
            assertTrue(RpcClient.call(sock, "nvmf_subsystem_listener_set_ana_state", p.node, 5000).asBoolean());
            assertEquals(io.sanport.nvme.AnaState.INACCESSIBLE, target.port(1).anaState(1), "the model changed");
            assertEquals(before + 1, target.anaChangeCount());
            assertFalse(RpcClient.call(sock, "nvmf_subsystem_listener_set_ana_state", p.node, 5000).asBoolean(),
                    "the same state again changes nothing");
            JsonNode ports = RpcClient.call(sock, "nvmf_get_ports", null, 5000);
            assertEquals("inaccessible", ports.get(0).get("ana_groups").get(0).get("ana_state").asText(), ports.toString());
            assertEquals("inaccessible", target.config().ports().get(0).anaGroups().get(0).state().configName(),
                    "the running config follows");
            RpcException e = assertThrows(RpcException.class, () -> RpcClient.call(sock,
                    "nvmf_subsystem_listener_set_ana_state", p.put("ana_state", "sideways").node, 5000));
            assertTrue(e.getMessage().contains("ana_state") && e.getMessage().contains("non-optimized"), e.getMessage());
            e = assertThrows(RpcException.class, () -> RpcClient.call(sock, "nvmf_subsystem_listener_set_ana_state",
                    p.put("ana_state", "optimized").put("port_id", 9).node, 5000));
            assertTrue(e.getMessage().contains("no port 9"), e.getMessage());
            e = assertThrows(RpcException.class, () -> RpcClient.call(sock, "nvmf_subsystem_listener_set_ana_state",
                    p.put("port_id", 1).put("anagrpid", 129).node, 5000));
            assertTrue(e.getMessage().contains("anagrpid"), e.getMessage());
            assertTrue(RpcClient.call(sock, "nvmf_subsystem_listener_set_ana_state",
                    p.put("anagrpid", 1).put("ana_state", "optimized").node, 5000).asBoolean());
            assertEquals(io.sanport.nvme.AnaState.OPTIMIZED, target.port(1).anaState(1));
        }
    }

    static final class ObjectNodeBuilder {
        final com.fasterxml.jackson.databind.node.ObjectNode node = ControlSocket.JSON.createObjectNode();

        ObjectNodeBuilder put(String k, String v) { node.put(k, v); return this; }
        ObjectNodeBuilder put(String k, int v) { node.put(k, v); return this; }
        ObjectNodeBuilder put(String k, boolean v) { node.put(k, v); return this; }
    }

    private static List<String> list(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    private static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static JsonNode exchange(SocketChannel ch, String line) throws IOException {
        send(ch, line + "\n");
        String answer = readLine(ch);
        assertNotNull(answer, "an answer to " + line);
        return ControlSocket.JSON.readTree(answer);
    }

    /** One line, byte by byte (so nothing of the next is consumed); null at end of stream. */
    private static String readLine(SocketChannel ch) throws IOException {
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            int n;
            try {
                n = ch.read(one);
            } catch (java.net.SocketException reset) {
                n = -1;
            }
            if (n < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (one.get(0) == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(one.get(0));
        }
    }
}
