package io.sanport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sanport status}: what a running target serves and who is connected, through its control socket.
 * Rates come from two samples {@code --interval-ms} apart: of the target's I/O totals ({@code sanport_get_stats})
 * per namespace and per port, and of each controller's command and byte counters.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show a running target: ports (with their ANA groups' states), subsystems, namespaces,",
                "connected hosts and their controllers,",
                "with each controller's read/write rates over --interval-ms."})
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ControlClientOptions control = new ControlClientOptions();
    @Option(names = "--json", description = "One JSON object (version, ports, subsystems, controllers), for scripts.")
    boolean json;
    @Option(names = "--interval-ms", paramLabel = "MS", defaultValue = "1000",
            description = "Sample the counters twice this far apart for rates; 0 for none (default: ${DEFAULT-VALUE}).")
    long intervalMillis;

    @Override
    public Integer call() throws Exception {
        JsonNode version = control.call("sanport_get_version", null);
        JsonNode ports = control.call("nvmf_get_ports", null);
        JsonNode subsystems = control.call("nvmf_get_subsystems", null);
        JsonNode before = control.call("nvmf_subsystem_get_controllers", null);
        JsonNode statsBefore = control.call("sanport_get_stats", null);
        JsonNode controllers = before;
        JsonNode stats = statsBefore;
        long t0 = System.nanoTime();
        if (intervalMillis > 0) {
            Thread.sleep(intervalMillis);
            controllers = control.call("nvmf_subsystem_get_controllers", null);
            stats = control.call("sanport_get_stats", null);
            addRates(before, controllers, (System.nanoTime() - t0) / 1e9);
            addIoRates(statsBefore, stats);
        }
        if (json) {
            ObjectNode all = RpcCommand.JSON.createObjectNode();
            all.set("version", version);
            all.put("control_socket", control.socket.toString());
            all.set("ports", ports);
            all.set("subsystems", subsystems);
            all.set("controllers", controllers);
            all.set("stats", stats);
            System.out.println(RpcCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
            return 0;
        }
        print(System.out, version, ports, subsystems, controllers);
        printIo(System.out, stats);
        return 0;
    }

    /**
     * Adds {@code rates} to each namespace and port of {@code after} also in {@code before} (both
     * {@code sanport_get_stats} results): reads and writes per second, MiB/s each way, errors per second, over the
     * time between the two samples as the target measured it.
     */
    static void addIoRates(JsonNode before, JsonNode after) {
        double seconds = (after.path("time_ns").asLong() - before.path("time_ns").asLong()) / 1e9;
        if (!(after instanceof ObjectNode o) || seconds <= 0) {
            return;
        }
        o.put("interval_s", seconds);
        for (String list : new String[] {"namespaces", "ports"}) {
            Map<String, JsonNode> old = new HashMap<>();
            for (JsonNode x : before.path(list)) {
                old.put(ioKey(x), x);
            }
            for (JsonNode x : after.path(list)) {
                JsonNode was = old.get(ioKey(x));
                if (was == null || !(x instanceof ObjectNode on)) {
                    continue;
                }
                ObjectNode r = on.putObject("rates");
                r.put("read_iops", delta(x, was, "reads") / seconds);
                r.put("write_iops", delta(x, was, "writes") / seconds);
                r.put("read_mib_per_s", delta(x, was, "bytes_read") / seconds / (1 << 20));
                r.put("write_mib_per_s", delta(x, was, "bytes_written") / seconds / (1 << 20));
                r.put("errors_per_s", delta(x, was, "errors") / seconds);
            }
        }
    }

    private static long delta(JsonNode now, JsonNode was, String field) {
        return Math.max(0, now.path(field).asLong() - was.path(field).asLong());
    }

    private static String ioKey(JsonNode x) {
        return x.has("port_id") ? "port " + x.path("port_id").asText()
                : x.path("subnqn").asText() + "/" + x.path("nsid").asText();
    }

    /** The namespaces' and ports' I/O rates, when {@link #addIoRates} found any. */
    static void printIo(PrintStream out, JsonNode stats) {
        if (!stats.has("interval_s")) {
            return;
        }
        out.println();
        out.printf(Locale.ROOT, "I/O over %.1f s%n", stats.path("interval_s").asDouble());
        out.printf("%-10s %10s %10s %10s %10s %8s  %s%n", "", "READ IOPS", "WRITE IOPS", "READ MiB/s", "WRITE MiB/s",
                "ERRORS/s", "");
        for (JsonNode n : stats.path("namespaces")) {
            ioLine(out, "ns " + n.path("nsid").asText(), n.path("rates"), n.path("subnqn").asText() + " ("
                    + n.path("device").asText() + ")");
        }
        for (JsonNode p : stats.path("ports")) {
            ioLine(out, "port " + p.path("port_id").asText(), p.path("rates"), p.path("trtype").asText() + " "
                    + p.path("traddr").asText() + ":" + p.path("trsvcid").asText() + ", "
                    + p.path("connections").asLong() + " connection(s)");
        }
    }

    private static void ioLine(PrintStream out, String what, JsonNode r, String which) {
        out.printf("%-10s %10s %10s %10s %10s %8s  %s%n", what, rate(r, "read_iops", 1), rate(r, "write_iops", 1),
                rate(r, "read_mib_per_s", 1), rate(r, "write_mib_per_s", 1), rate(r, "errors_per_s", 1), which);
    }

    /** Adds {@code rates} (per second over {@code seconds}) to each controller of {@code after} also in {@code before}. */
    static void addRates(JsonNode before, JsonNode after, double seconds) {
        Map<String, JsonNode> old = new HashMap<>();
        for (JsonNode c : before) {
            old.put(key(c), c);
        }
        for (JsonNode c : after) {
            JsonNode o = old.get(key(c));
            if (o == null || !(c instanceof ObjectNode on)) {
                continue;
            }
            ObjectNode r = on.putObject("rates");
            for (String f : new String[] {"read_commands", "write_commands", "bytes_read", "bytes_written"}) {
                r.put(f + "_per_s", Math.max(0, c.path(f).asLong() - o.path(f).asLong()) / seconds);
            }
        }
    }

    private static String key(JsonNode c) {
        return c.path("subnqn").asText() + "/" + c.path("cntlid").asInt() + "/" + c.path("hostid").asText();
    }

    static void print(PrintStream out, JsonNode version, JsonNode ports, JsonNode subsystems, JsonNode controllers) {
        out.println("sanport " + version.path("version").asText() + " (Java " + version.path("java").asText() + ")");
        out.println();
        out.printf("%-5s %-6s %-24s %-26s %s%n", "PORT", "TRTYPE", "ADDRESS", "ANA GROUP:STATE", "SUBSYSTEMS");
        for (JsonNode p : ports) {
            StringBuilder subs = new StringBuilder();
            for (JsonNode s : p.path("subsystems")) {
                subs.append(subs.isEmpty() ? "" : ", ").append(s.asText());
            }
            out.printf("%-5s %-6s %-24s %-26s %s%n", p.path("port_id").asText(), p.path("trtype").asText(),
                    p.path("traddr").asText() + ":" + p.path("trsvcid").asText(), ana(p.path("ana_groups")),
                    subs.isEmpty() ? "(discovery only)" : subs);
        }
        for (JsonNode s : subsystems) {
            if (s.path("subtype").asText().equals("Discovery")) {
                continue;
            }
            out.println();
            StringBuilder hosts = new StringBuilder();
            for (JsonNode h : s.path("hosts")) {
                hosts.append(hosts.isEmpty() ? "" : ", ").append(h.path("nqn").asText());
            }
            out.println(s.path("nqn").asText() + "  serial " + s.path("serial_number").asText() + ", model "
                    + s.path("model_number").asText() + ", hosts: "
                    + (s.path("allow_any_host").asBoolean() ? "any" : hosts.isEmpty() ? "none" : hosts));
            out.printf("  %-6s %-40s %10s %6s  %s%n", "NSID", "DEVICE", "SIZE", "BLOCK", "STATE");
            for (JsonNode n : s.path("namespaces")) {
                String state = n.path("enabled").asBoolean() ? "enabled" : "disabled";
                if (n.path("read_only").asBoolean()) state += ", read-only";
                if (n.has("write_failure")) state += ", refusing writes: " + n.path("write_failure").asText();
                out.printf("  %-6s %-40s %10s %6s  %s%n", n.path("nsid").asText(), n.path("device").asText(),
                        size(n.path("size").asLong()), n.path("block_size").asText(), state);
            }
        }
        out.println();
        if (controllers.isEmpty()) {
            out.println("no hosts connected");
            return;
        }
        out.printf("%-6s %-22s %-4s %-6s %-14s %9s %9s %9s %9s  %s%n", "CNTLID", "HOST ADDRESS",
                "PORT", "KATO", "QUEUES x DEPTH", "READS/s", "WRITES/s", "READ MB/s", "WRITE MB/s", "SUBSYSTEM / HOST NQN");
        for (JsonNode c : controllers) {
            JsonNode q = c.path("queues");
            int io = Math.max(0, q.size() - 1);
            int depth = io > 0 ? q.get(1).path("depth").asInt() : q.size() > 0 ? q.get(0).path("depth").asInt() : 0;
            JsonNode r = c.path("rates");
            out.printf("%-6s %-22s %-4s %-6s %-14s %9s %9s %9s %9s  %s%n", c.path("cntlid").asText(),
                    c.path("address").asText(), c.path("port_id").asText(),
                    c.path("kato_ms").asLong() / 1000.0 + "s", (io > 0 ? "1+" + io : "1") + " x " + depth,
                    rate(r, "read_commands_per_s", 1), rate(r, "write_commands_per_s", 1),
                    rate(r, "bytes_read_per_s", 1e6), rate(r, "bytes_written_per_s", 1e6), c.path("subnqn").asText());
            out.printf("%-6s %s%n", "", c.path("hostnqn").asText());
        }
    }

    /** A port's ANA groups as "1:optimized, 2:inaccessible" (nvmf_get_ports' ana_groups); "-" for none. */
    static String ana(JsonNode groups) {
        StringBuilder b = new StringBuilder();
        for (JsonNode g : groups) {
            b.append(b.isEmpty() ? "" : ", ").append(g.path("grpid").asText()).append(':')
                    .append(g.path("ana_state").asText());
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    private static String rate(JsonNode rates, String field, double unit) {
        return rates.has(field) ? String.format(Locale.ROOT, "%.1f", rates.get(field).asDouble() / unit) : "-";
    }

    static String size(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.floor(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v)) + " " + units[u];
    }
}
