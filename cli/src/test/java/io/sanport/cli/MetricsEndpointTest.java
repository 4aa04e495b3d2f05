package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sanport.client.ConnectOptions;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sanport export --metrics 127.0.0.1:0} in a child JVM with two reactors: the Java initiator does a known
 * mix of reads and writes over two I/O queues while a java.net.http client scrapes the endpoint; the scrapes
 * parse as Prometheus text, the counters never go back, and once the I/O is done the namespace's and port's
 * counts, bytes and histogram counts are exactly what was done, the connections gauge counts the open queues, and
 * after the disconnect it is 0 with the ends counted as the host's.
 */
class MetricsEndpointTest {
    private static final String NQN = "nqn.2026-12.io.sanport:metrics-test";
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Test
    @Timeout(180)
    void scrapesCountWhatTheHostDid() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "export",
                "--device", "ram:16M", "--address", "127.0.0.1", "--port", "0", "--discovery-port", "0",
                "--reactors", "2", "--nqn", NQN, "--metrics", "127.0.0.1:0"))
                .redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int nvmePort = -1;
            URI metrics = null;
            String line;
            while ((line = out.readLine()) != null) {
                log.append(line).append('\n');
                Matcher m = Pattern.compile("listening: tcp 127\\.0\\.0\\.1:(\\d+)$").matcher(line);
                if (m.find()) {
                    nvmePort = Integer.parseInt(m.group(1));
                }
                if (line.startsWith("metrics: ")) {
                    metrics = URI.create(line.substring("metrics: ".length()).trim());
                }
                if (line.startsWith("serving")) {
                    break;
                }
            }
            assertTrue(nvmePort > 0 && metrics != null, log.toString());
            Thread drain = Thread.ofPlatform().daemon().start(() -> {
                try {
                    String l;
                    while ((l = out.readLine()) != null) {
                        synchronized (log) {
                            log.append(l).append('\n');
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the child is gone
                }
            });
            run(nvmePort, metrics);
            drain.interrupt();
        } catch (AssertionError | Exception e) {
            synchronized (log) {
                throw new AssertionError(e.getMessage() + "\ntarget output:\n" + log, e);
            }
        } finally {
            p.toHandle().destroy();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private void run(int nvmePort, URI metrics) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        Map<String, Double> idle = scrape(http, metrics);
        Labels ns = new Labels("subsystem", NQN, "nsid", "1");
        Labels port = new Labels("port_id", "1", "transport", "tcp", "address", "127.0.0.1", "port", Integer.toString(nvmePort));
        assertEquals(0.0, idle.get(ns.of("sanport_namespace_reads_total")));
        assertEquals(0.0, idle.get(ns.of("sanport_namespace_read_latency_seconds_count")));
        assertNotNull(idle.get("sanport_reactor_busy_seconds_total{reactor=\"sanport-reactor-0\"}"), "reactor series");
        assertNotNull(idle.get("sanport_reactor_buffers{reactor=\"sanport-reactor-1\"}"), "reactor series");
        assertTrue(idle.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")), "JVM metrics");

        int reads = 3000;
        int writes = 2000;
        long[] bytes = new long[2];
        AtomicReference<Throwable> ioFailure = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        try (RemoteController c = RemoteController.connect("127.0.0.1", nvmePort, NQN,
                ConnectOptions.defaults().withIoQueues(2)); Arena arena = Arena.ofShared()) {
            RemoteNamespace n = c.namespace(1);
            MemorySegment small = n.allocate(arena, 4096).fill((byte) 1);
            MemorySegment large = n.allocate(arena, 16384).fill((byte) 2);
            Thread io = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < writes; i++) {
                        MemorySegment b = i % 4 == 0 ? large : small;
                        n.write((long) (i % 512) * 32, b);
                        bytes[1] += b.byteSize();
                    }
                    for (int i = 0; i < reads; i++) {
                        MemorySegment b = i % 3 == 0 ? large : small;
                        n.read((long) (i % 512) * 32, b);
                        bytes[0] += b.byteSize();
                    }
                } catch (Throwable t) {
                    ioFailure.set(t);
                } finally {
                    done.set(true);
                }
            });
            // during the I/O: every scrape parses, and no counter goes back
            Map<String, Double> last = idle;
            int during = 0;
            while (!done.get() || during < 2) {
                Map<String, Double> now = scrape(http, metrics);
                for (Map.Entry<String, Double> e : now.entrySet()) {
                    if (e.getKey().matches("sanport_[a-z_]*(_total|_count|_bucket)\\{.*") && last.containsKey(e.getKey())) {
                        assertTrue(e.getValue() >= last.get(e.getKey()), e.getKey() + " went from "
                                + last.get(e.getKey()) + " to " + e.getValue());
                    }
                }
                last = now;
                during++;
            }
            io.join();
            if (ioFailure.get() != null) {
                fail("I/O failed", ioFailure.get());
            }
            Map<String, Double> after = scrape(http, metrics);
            assertEquals(reads, after.get(ns.of("sanport_namespace_reads_total")));
            assertEquals(writes, after.get(ns.of("sanport_namespace_writes_total")));
            assertEquals(bytes[0], after.get(ns.of("sanport_namespace_read_bytes_total")));
            assertEquals(bytes[1], after.get(ns.of("sanport_namespace_written_bytes_total")));
            assertEquals(reads, after.get(ns.of("sanport_namespace_read_latency_seconds_count")));
            assertEquals(writes, after.get(ns.of("sanport_namespace_write_latency_seconds_count")));
            assertEquals(reads, after.get(ns.of("sanport_namespace_read_latency_seconds_bucket", "le", "+Inf")));
            assertTrue(after.get(ns.of("sanport_namespace_read_latency_seconds_sum")) > 0);
            assertEquals(0.0, after.get(ns.of("sanport_namespace_errors_total", "status_type", "generic")));
            assertEquals(reads, after.get(port.of("sanport_port_reads_total")));
            assertEquals(bytes[1], after.get(port.of("sanport_port_written_bytes_total")));
            assertEquals(3.0, after.get(port.of("sanport_port_connections")), "the admin queue and two I/O queues");
            assertEquals(0.0, after.get(port.of("sanport_port_outstanding_commands")));
            double busy = after.get("sanport_reactor_busy_seconds_total{reactor=\"sanport-reactor-0\"}")
                    + after.get("sanport_reactor_busy_seconds_total{reactor=\"sanport-reactor-1\"}");
            assertTrue(busy > 0, "reactor busy time " + busy);
            double cpu = after.get("sanport_reactor_cpu_seconds_total{reactor=\"sanport-reactor-0\"}")
                    + after.get("sanport_reactor_cpu_seconds_total{reactor=\"sanport-reactor-1\"}");
            assertTrue(cpu > 0, "reactor CPU time " + cpu);
        }
        Map<String, Double> closed = null;
        for (int i = 0; i < 100; i++) { // the target sees the disconnect a moment later
            closed = scrape(http, metrics);
            if (closed.get(port.of("sanport_port_connections")) == 0.0) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(0.0, closed.get(port.of("sanport_port_connections")));
        assertEquals(3.0, closed.get(port.of("sanport_port_connections_opened_total")));
        assertEquals(3.0, closed.get(port.of("sanport_port_disconnects_total", "reason", "host")));
        assertEquals(0.0, closed.get(port.of("sanport_port_disconnects_total", "reason", "fault")));
        assertEquals(0.0, closed.get(port.of("sanport_port_term_reqs_total", "fes", "invalid_header_field")));
    }

    /** A sample key with {@code name} and these labels plus {@code extra} name/value pairs, as the scrape spells it. */
    private record Labels(String... pairs) {
        String of(String name, String... extra) {
            java.util.TreeMap<String, String> all = new java.util.TreeMap<>();
            for (int i = 0; i < pairs.length; i += 2) {
                all.put(pairs[i], pairs[i + 1]);
            }
            for (int i = 0; i < extra.length; i += 2) {
                all.put(extra[i], extra[i + 1]);
            }
            return key(name, all);
        }
    }

    /** {@code name{a="x",b="y"}} with the labels in name order (how the scrape's keys are spelled here). */
    static String key(String name, java.util.TreeMap<String, String> labels) {
        if (labels.isEmpty()) {
            return name;
        }
        StringBuilder b = new StringBuilder(name).append('{');
        labels.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ",").append(k).append("=\"").append(v).append('"'));
        return b.append('}').toString();
    }

    /**
     * GETs the endpoint and checks the Prometheus text format (0.0.4): every family has HELP then TYPE before its
     * samples, every sample line is {@code name{label="value",...} value} of its family, no series twice,
     * histogram buckets are cumulative with +Inf equal to _count. Returns value by series, labels as written.
     */
    static Map<String, Double> scrape(HttpClient http, URI uri) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                r.headers().toString());
        Map<String, Double> values = new LinkedHashMap<>();
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        String family = null;
        Map<String, Double> lastBucket = new HashMap<>();
        Map<String, Double> infBuckets = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                family = line.split(" ")[2];
                assertTrue(helped.add(family), "HELP twice for " + family);
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] t = line.split(" ");
                assertEquals(4, t.length, line);
                assertEquals(family, t[2], "TYPE without its HELP: " + line);
                assertTrue(Set.of("counter", "gauge", "histogram", "summary", "untyped", "info").contains(t[3]), line);
                types.put(t[2], t[3]);
                continue;
            }
            assertTrue(!line.startsWith("#"), "unexpected comment: " + line);
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            String name = m.group(1);
            assertNotNull(family, line);
            String type = types.get(family);
            boolean ofFamily = name.equals(family) || type.equals("counter") && name.equals(family + "_total")
                    || type.equals("histogram") && (name.equals(family + "_bucket") || name.equals(family + "_sum")
                    || name.equals(family + "_count"))
                    || type.equals("summary") && (name.equals(family + "_sum") || name.equals(family + "_count"));
            assertTrue(ofFamily, name + " under family " + family + " (" + type + ")");
            double v = switch (m.group(4)) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(m.group(4));
            };
            java.util.TreeMap<String, String> labels = new java.util.TreeMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    assertTrue(labels.put(l.group(1), l.group(2)) == null, "label twice: " + line);
                }
            }
            String key = key(name, labels);
            assertTrue(values.put(key, v) == null, "series twice: " + key);
            if (name.endsWith("_bucket") && "histogram".equals(type)) {
                String le = labels.remove("le");
                assertNotNull(le, line);
                String series = key(family, labels);
                Double before = lastBucket.put(series, v);
                assertTrue(before == null || v >= before, "buckets not cumulative: " + line);
                if (le.equals("+Inf")) {
                    infBuckets.put(key(family + "_count", labels), v);
                }
            }
        }
        infBuckets.forEach((count, inf) -> assertEquals(inf, values.get(count), "+Inf bucket vs " + count));
        return values;
    }
}
