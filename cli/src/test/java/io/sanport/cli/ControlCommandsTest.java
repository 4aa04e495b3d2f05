package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sanport.client.ConnectOptions;
import io.sanport.client.RemoteController;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sanport rpc` and `sanport status` against `sanport export` in a child JVM, with a real NVMe/TCP host
 * connected through the Java initiator; and the log lines an operator reads for that host.
 */
class ControlCommandsTest {
    static final String NQN = "nqn.2026-11.io.sanport:control-cli";
    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void rpcAndStatusShowTheTargetAndItsConnectedHost() throws Exception {
        Path sock = dir.resolve("sanport.sock");
        Child target = Child.start(sock, "--log-level", "info");
        try {
            int port = target.port;
            // sanport rpc: pretty JSON of the result
            Result r = run("rpc", "nvmf_get_subsystems", "--control-socket", sock.toString());
            assertEquals(0, r.code, r.err);
            JsonNode subs = RpcCommand.JSON.readTree(r.out);
            assertEquals(NQN, subs.get(1).get("nqn").asText(), r.out);
            assertEquals("ram:32M", subs.get(1).get("namespaces").get(0).get("device").asText());
            assertTrue(subs.get(1).get("namespaces").get(0).has("buffered_io"), r.out);
            assertFalse(subs.get(1).get("namespaces").get(0).get("buffered_io").asBoolean(), "RAM has no page cache");

            r = run("rpc", "nvmf_ns_set_enabled", "{\"nqn\": \"" + NQN + "\", \"nsid\": 7, \"enabled\": false}",
                    "--control-socket", sock.toString());
            assertEquals(1, r.code);
            assertTrue(r.err.contains("no namespace 7") && r.err.contains("-32000"), r.err);
            r = run("rpc", "nvmf_get_ports", "[1]", "--control-socket", sock.toString());
            assertEquals(1, r.code);
            assertTrue(r.err.contains("PARAMS must be a JSON object"), r.err);
            r = run("rpc", "rpc_get_methods", "--control-socket", dir.resolve("none.sock").toString());
            assertEquals(1, r.code);
            assertTrue(r.err.contains("no sanport at " + dir.resolve("none.sock") + " (is it running? --control-socket PATH)"), r.err);

            String hostnqn = "nqn.2014-08.org.nvmexpress:uuid:" + UUID.randomUUID();
            ConnectOptions o = ConnectOptions.defaults().withIoQueues(2).withQueueSize(64)
                    .withHost(hostnqn, UUID.randomUUID());
            try (RemoteController c = RemoteController.connect("127.0.0.1", port, NQN, o)) {
                r = run("status", "--control-socket", sock.toString(), "--interval-ms", "100");
                assertEquals(0, r.code, r.err);
                assertTrue(r.out.contains("127.0.0.1:" + port), r.out);
                assertTrue(r.out.contains("ram:32M") && r.out.contains("32 MiB") && r.out.contains("enabled"), r.out);
                assertTrue(r.out.contains(hostnqn), r.out);
                assertTrue(r.out.contains("1+2 x 64"), "admin + 2 I/O queues of 64: " + r.out);

                r = run("status", "--json", "--control-socket", sock.toString(), "--interval-ms", "100");
                assertEquals(0, r.code, r.err);
                JsonNode ctrl = RpcCommand.JSON.readTree(r.out).get("controllers").get(0);
                assertEquals(hostnqn, ctrl.get("hostnqn").asText());
                assertEquals(NQN, ctrl.get("subnqn").asText());
                assertTrue(ctrl.get("address").asText().startsWith("127.0.0.1:"), ctrl.toString());
                assertEquals(3, ctrl.get("queues").size());
                assertEquals(64, ctrl.get("queues").get(1).get("depth").asInt());
                assertTrue(ctrl.has("rates"), ctrl.toString());
                JsonNode ns = RpcCommand.JSON.readTree(r.out).get("stats").get("namespaces").get(0);
                assertEquals(NQN, ns.get("subnqn").asText());
                assertTrue(ns.get("rates").has("read_iops") && ns.get("rates").has("write_mib_per_s"), ns.toString());
                JsonNode p = RpcCommand.JSON.readTree(r.out).get("stats").get("ports").get(0);
                assertEquals(3, p.get("connections").asLong(), "the host's admin and 2 I/O queues: " + p);
                assertTrue(p.get("rates").has("read_mib_per_s"), p.toString());

                // rates over an interval with I/O in it: 64 writes of 4 KiB
                var ns1 = c.namespace(1);
                var buf = ns1.allocate(java.lang.foreign.Arena.ofAuto(), 4096);
                CompletableFuture<Result> status = CompletableFuture.supplyAsync(
                        () -> run("status", "--control-socket", sock.toString(), "--interval-ms", "1500"));
                Thread.sleep(300);
                for (int i = 0; i < 64; i++) {
                    ns1.write(i * 8L, buf);
                }
                r = status.get(60, TimeUnit.SECONDS);
                assertEquals(0, r.code, r.err);
                Matcher m = Pattern.compile("ns 1 +[0-9.]+ +([0-9.]+) +[0-9.]+ +([0-9.]+) +[0-9.]+ +" + Pattern.quote(NQN)
                        + " \\(ram:32M\\)").matcher(r.out);
                assertTrue(m.find(), r.out);
                assertTrue(Double.parseDouble(m.group(1)) > 0 && Double.parseDouble(m.group(2)) > 0,
                        "write IOPS and MiB/s over the interval: " + r.out);
                assertTrue(Pattern.compile("port 1 .* tcp 127\\.0\\.0\\.1:" + port + ", 3 connection\\(s\\)").matcher(r.out).find(),
                        "admin + 2 I/O queues: " + r.out);
            }
            // export has no file to reload
            r = run("reload", "--control-socket", sock.toString());
            assertEquals(1, r.code);
            assertTrue(r.err.contains("no config file") && r.err.contains("-32000"), r.err);
            target.stop();
            String log = target.output();
            assertTrue(Pattern.compile("info: controller \\d+ of " + Pattern.quote(hostnqn) + " at 127\\.0\\.0\\.1:\\d+ on "
                    + Pattern.quote(NQN) + ": connected via port 1").matcher(log).find(), log);
            assertTrue(Pattern.compile("info: controller \\d+ of " + Pattern.quote(hostnqn) + " at 127\\.0\\.0\\.1:\\d+ on "
                    + Pattern.quote(NQN) + ": disconnected \\(the host shut the controller down").matcher(log).find(), log);
            assertTrue(log.contains("info: control socket: nvmf_ns_set_enabled by " + System.getProperty("user.name")
                    + ": error -32000: " + NQN + " has no namespace 7"), "a change asked for is logged with who asked: " + log);
            assertTrue(!log.contains("nvmf_get_subsystems by"), "reads are not logged");
            assertTrue(!Files.exists(sock, LinkOption.NOFOLLOW_LINKS), "the socket is removed at shutdown");
        } finally {
            target.kill();
        }
    }

    @Test
    @Timeout(180)
    void aSecondTargetOnALiveSocketPathIsRefusedNamingThePathAndTheOption() throws Exception {
        Path sock = dir.resolve("sanport.sock");
        Child first = Child.start(sock);
        try {
            Child second = Child.start(sock);
            String out = second.awaitExit();
            assertEquals(1, second.process.exitValue(), out);
            assertTrue(out.contains("control socket " + sock + ": another sanport serves its control socket at " + sock)
                    && out.contains("--control-socket PATH, or --no-control-socket"), out);
            Result r = run("rpc", "rpc_get_methods", "--control-socket", sock.toString());
            assertEquals(0, r.code, "the first one still answers: " + r.err);
        } finally {
            first.kill();
        }
    }

    /**
     * The two-process recipe: two `sanport export --shared-device` on one file, one NQN, disjoint controller IDs;
     * the host sees one serial and one NGUID through both; `sanport ana-state` turns one path inaccessible (I/O there
     * gets a path error in words, the other path serves it) and optimized again.
     */
    @Test
    @Timeout(180)
    void twoProcessesServeOneSubsystemAndAnaStateMovesAPath() throws Exception {
        Path image = dir.resolve("shared.img");
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(32 << 20);
        }
        Path sock1 = dir.resolve("one.sock");
        Path sock2 = dir.resolve("two.sock");
        Child one = Child.startOn(sock1, image.toString(), "--shared-device", "--cntlid-min", "1", "--cntlid-max", "999");
        Child two = null;
        try {
            two = Child.startOn(sock2, image.toString(), "--shared-device", "--cntlid-min", "1000", "--cntlid-max", "1999");
            assertTrue(one.output().contains("SHARED DEVICE: opening " + image), one.output());
            ConnectOptions o = ConnectOptions.defaults().withIoQueues(1).withQueueSize(16);
            try (RemoteController c1 = RemoteController.connect("127.0.0.1", one.port, NQN, o);
                 RemoteController c2 = RemoteController.connect("127.0.0.1", two.port, NQN, o);
                 java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
                assertTrue(c1.cntlid() >= 1 && c1.cntlid() <= 999, "first process: " + c1.cntlid());
                assertTrue(c2.cntlid() >= 1000 && c2.cntlid() <= 1999, "second process: " + c2.cntlid());
                assertEquals(c1.serial(), c2.serial());
                assertEquals(c1.namespace(1).nguid(), c2.namespace(1).nguid());
                java.lang.foreign.MemorySegment buf = c1.namespace(1).allocate(arena, 4096);
                buf.fill((byte) 0x5A);
                c1.namespace(1).write(8, buf);

                Result r = run("ana-state", "--port-id", "1", "--state", "inaccessible", "--control-socket", sock1.toString());
                assertEquals(0, r.code, r.err);
                assertTrue(r.out.contains("port 1 group 1: inaccessible"), r.out);
                r = run("status", "--control-socket", sock1.toString(), "--interval-ms", "0");
                assertEquals(0, r.code, r.err);
                assertTrue(r.out.contains("ANA GROUP:STATE") && r.out.contains("1:inaccessible"), r.out);
                r = run("status", "--json", "--control-socket", sock1.toString(), "--interval-ms", "0");
                assertEquals(0, r.code, r.err);
                JsonNode ana = null;
                for (JsonNode port : RpcCommand.JSON.readTree(r.out).get("ports")) {
                    if (port.get("port_id").asInt() == 1) ana = port.get("ana_groups").get(0);
                }
                assertTrue(ana != null, r.out);
                assertEquals(1, ana.get("grpid").asInt(), ana.toString());
                assertEquals("inaccessible", ana.get("ana_state").asText(), ana.toString());
                assertTrue(ana.get("chgcnt").asLong() > 0, ana.toString());
                java.lang.foreign.MemorySegment in = c1.namespace(1).allocate(arena, 4096);
                io.sanport.client.NvmeException e = org.junit.jupiter.api.Assertions.assertThrows(
                        io.sanport.client.NvmeException.class, () -> c1.namespace(1).read(8, in));
                assertTrue(e.pathError() && e.getMessage().contains("Asymmetric Access Inaccessible"), e.getMessage());
                c2.namespace(1).read(8, in); // the other process serves it, and sees the first one's write
                assertEquals(0x5A, in.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4095));

                r = run("ana-state", "--port-id", "1", "--state", "sideways", "--control-socket", sock1.toString());
                assertEquals(1, r.code);
                assertTrue(r.err.contains("not an ANA state") && r.err.contains("non-optimized"), r.err);
                r = run("ana-state", "--port-id", "1", "--state", "optimized", "--control-socket", sock1.toString());
                assertEquals(0, r.code, r.err);
                c1.namespace(1).read(8, in);
            }
        } finally {
            one.kill();
            if (two != null) two.kill();
        }
    }

    @Test
    @Timeout(180)
    void reloadAndSighupApplyTheEditedConfigFile() throws Exception {
        Path sock = dir.resolve("sanport.sock");
        Path file = dir.resolve("sanport.json");
        String config = """
            { "hosts": [],
              "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                           "subsystems": [ "%s" ] } ],
              "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1" },
                                "namespaces": [ { "nsid": 1, "device": { "path": "ram:16M" } } %%s ] } ] }
            """.formatted(NQN, NQN);
        Files.writeString(file, config.formatted(""));
        Child target = Child.start(List.of("serve", "--config", file.toString(), "--discovery-port", "0", "--reactors", "1",
                "--control-socket", sock.toString()));
        try {
            Result r = run("reload", "--control-socket", sock.toString());
            assertEquals(0, r.code, r.err);
            assertEquals("no change", r.out.strip());

            Files.writeString(file, config.formatted(", { \"nsid\": 2, \"device\": { \"path\": \"ram:8M\" } }"));
            r = run("reload", "--control-socket", sock.toString());
            assertEquals(0, r.code, r.err);
            assertEquals("added namespace 2 (ram:8M) to " + NQN, r.out.strip());

            Files.writeString(file, config.formatted(", { \"nsid\": 2, \"device\": { \"path\": \"ram:8M\" } }, "
                    + "{ \"nsid\": 3, \"device\": { \"path\": \"" + dir.resolve("missing.img") + "\" } }"));
            r = run("reload", "--control-socket", sock.toString());
            assertEquals(1, r.code, r.out);
            assertTrue(r.err.contains(file + ": $.subsystems[0].namespaces[2].device.path") && r.err.contains("-32000"), r.err);

            // SIGHUP: what daemons do; the outcome is in the log
            Files.writeString(file, config.formatted(""));
            // the shell's kill builtin: a new machine has no /bin/kill (procps) and Java sends only TERM and KILL
            Process hup = new ProcessBuilder("sh", "-c", "kill -HUP " + target.process.pid()).start();
            assertEquals(0, hup.waitFor());
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!target.output().contains("SIGHUP: reloaded the config: 1 change(s)") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(target.output().contains("SIGHUP: reloaded the config: 1 change(s)"), target.output());
            assertTrue(target.output().contains("reload: removed namespace 2 (ram:8M) from " + NQN), target.output());
            assertTrue(target.process.isAlive(), "SIGHUP no longer stops the JVM");
            r = run("rpc", "nvmf_get_subsystems", "--control-socket", sock.toString());
            assertEquals(1, RpcCommand.JSON.readTree(r.out).get(1).get("namespaces").size(), r.out);
            target.stop();
            assertTrue(target.output().contains("control socket: sanport_reload by " + System.getProperty("user.name")),
                    "a reload is audited: " + target.output());
        } finally {
            target.kill();
        }
    }

    @Test
    @Timeout(60)
    void exportBufferedOnARamDeviceIsRefusedNamingTheOption() throws Exception {
        // silently ignored before: a RAM disk is memory, with no page cache to go through or around
        Result r = run("export", "--device", "ram:1M", "--buffered", "--port", "0", "--discovery-port", "0");
        assertNotEquals(0, r.code, r.out);
        assertTrue(r.err.contains("--buffered: a ram: device is memory"), r.err);
    }

    @Test
    @Timeout(180)
    void aReloadWithAFailedStepExitsOneAndSighupWarns() throws Exception {
        Path sock = dir.resolve("sanport.sock");
        Path file = dir.resolve("sanport.json");
        Path image = dir.resolve("e.img");
        Path away = dir.resolve("e.moved");
        Files.write(image, new byte[1 << 20]);
        String config = """
            { "hosts": [],
              "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                           "subsystems": [ "%s" ] } ],
              "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1" },
                                "namespaces": [ { "nsid": 1, "device": { "path": "%s", "buffered_io": %%d } } ] } ] }
            """.formatted(NQN, NQN, image);
        Files.writeString(file, config.formatted(0));
        Child target = Child.start(List.of("serve", "--config", file.toString(), "--discovery-port", "0", "--reactors", "1",
                "--control-socket", sock.toString()));
        try {
            assertEquals("no change", run("reload", "--control-socket", sock.toString()).out.strip());
            // the reopen in the new mode finds no file: the reload applied, but not all of it
            Files.move(image, away);
            Files.writeString(file, config.formatted(1));
            Result r = run("reload", "--control-socket", sock.toString());
            assertEquals(1, r.code, r.out);
            assertTrue(r.out.contains("error: namespace 1 of " + NQN + " not added back"), r.out);

            Files.move(away, image);
            Files.writeString(file, config.formatted(0));
            r = run("reload", "--control-socket", sock.toString());
            assertEquals(0, r.code, r.out + r.err);
            Files.move(image, away);
            Files.writeString(file, config.formatted(1));
            Process hup = new ProcessBuilder("sh", "-c", "kill -HUP " + target.process.pid()).start();
            assertEquals(0, hup.waitFor());
            String warned = "sanport warning: SIGHUP: reloaded the config with 1 error(s) in 2 change(s): error: namespace 1 of "
                    + NQN + " not added back";
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!target.output().contains(warned) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(target.output().contains(warned), target.output());
        } finally {
            target.kill();
        }
    }

    @Test
    void infoShowsTheIoPathAsked() throws Exception {
        Path image = dir.resolve("info.img");
        java.nio.file.Files.write(image, new byte[1 << 20]);
        Result direct = run("info", "--device", image.toString());
        assertEquals(0, direct.code, direct.err);
        assertTrue(direct.out.contains("I/O path:       O_DIRECT"), direct.out);
        Result buffered = run("info", "--device", image.toString(), "--buffered");
        assertEquals(0, buffered.code, buffered.err);
        assertTrue(buffered.out.contains("I/O path:       page cache (buffered)"), buffered.out);
    }

    // ---------------------------------------------------------------- helpers

    record Result(int code, String out, String err) {}

    /** Runs the sanport command in this JVM, capturing what it prints. */
    static synchronized Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** `sanport export --device ram:32M` on an ephemeral port of 127.0.0.1 with its control socket at {@code sock}. */
    static final class Child {
        final Process process;
        final StringBuffer output = new StringBuffer();
        final CompletableFuture<Void> serving = new CompletableFuture<>();
        final Thread reader;
        int port;

        private Child(Process p) {
            this.process = p;
            this.reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    Pattern listening = Pattern.compile("listening: tcp 127\\.0\\.0\\.1:(\\d+)");
                    while ((line = r.readLine()) != null) {
                        output.append(line).append('\n');
                        Matcher m = listening.matcher(line);
                        if (m.find()) {
                            port = Integer.parseInt(m.group(1));
                        }
                        if (line.startsWith("serving")) {
                            serving.complete(null);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the child is gone
                }
                serving.complete(null);
            });
        }

        static Child start(Path sock, String... more) throws Exception {
            return startOn(sock, "ram:32M", more);
        }

        static Child startOn(Path sock, String device, String... more) throws Exception {
            List<String> args = new java.util.ArrayList<>(List.of("export",
                    "--device", device, "--address", "127.0.0.1", "--port", "0", "--discovery-port", "0",
                    "--reactors", "1", "--nqn", NQN, "--control-socket", sock.toString()));
            args.addAll(List.of(more));
            return start(args);
        }

        /** sanport with {@code args} in a child JVM, once it serves. */
        static Child start(List<String> args) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(args);
            Child c = new Child(new ProcessBuilder(cmd).redirectErrorStream(true).start());
            c.serving.get(120, TimeUnit.SECONDS);
            return c;
        }

        String awaitExit() throws Exception {
            process.waitFor(60, TimeUnit.SECONDS);
            reader.join(10_000);
            return output.toString();
        }

        void stop() throws Exception {
            process.toHandle().destroy(); // SIGTERM: a graceful stop
            assertEquals(0, process.waitFor(60, TimeUnit.SECONDS) ? process.exitValue() : -1, output.toString());
            reader.join(10_000);
        }

        String output() {
            return output.toString();
        }

        void kill() {
            process.destroyForcibly();
        }
    }
}
