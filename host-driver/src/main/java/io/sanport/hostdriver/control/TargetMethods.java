package io.sanport.hostdriver.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sanport.hostdriver.AnaGroup;
import io.sanport.hostdriver.Controller;
import io.sanport.hostdriver.Namespace;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.QueuePair;
import io.sanport.hostdriver.Subsystem;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetStats;
import io.sanport.nvme.AnaState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The target's methods on the control socket, named as SPDK names its own where one exists:
 * <ul>
 * <li>{@code sanport_get_version}: {@code {version, java, os}} (SPDK {@code spdk_get_version});
 * <li>{@code nvmf_get_subsystems}: every subsystem, discovery first, with its hosts, listeners and namespaces;
 * <li>{@code nvmf_get_ports}: every listening port and the subsystems it exports;
 * <li>{@code nvmf_subsystem_get_controllers} {@code {nqn?}}: the controllers of one subsystem, or of all, with
 *     their host, address, port, keep-alive and queues;
 * <li>{@code nvmf_ns_set_enabled} {@code {nqn, nsid, enabled}}: disables or enables a namespace (hosts get a
 *     Namespace Attribute Changed event);
 * <li>{@code sanport_get_stats}: the I/O totals ({@link TargetStats#snapshot()}) per namespace, port and reactor,
 *     counters since the start: a rate is the difference of two calls over the time between;
 * <li>{@code nvmf_subsystem_listener_set_ana_state} {@code {port_id, ana_state, anagrpid?, nqn?}}: sets the ANA
 *     state of a group (default 1) on a port; the hosts connected through it get the ANA change event. SPDK names
 *     the listener by address and subsystem; here states belong to a port (as nvmet's), {@code nqn} only checks
 *     that the port exports it. Returns whether the state changed;
 * <li>the changes of {@link ConfigMethods}: subsystems, namespaces, hosts, ports, listeners, {@code sanport_reload}.
 * </ul>
 * Reads are snapshots taken off the reactors; counters are read racily, as statistics are.
 */
public final class TargetMethods {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private TargetMethods() {}

    /** Registers the methods above for {@code target}; {@code version} is what {@code sanport --version} says. */
    public static void register(RpcMethods methods, Target target, String version) {
        register(methods, target, version, null);
    }

    /** As {@link #register(RpcMethods, Target, String)}; {@code configFile} is what {@code sanport_reload} reads (null: none). */
    public static void register(RpcMethods methods, Target target, String version, Path configFile) {
        ConfigMethods.register(methods, target, configFile);
        methods.register("sanport_get_stats", params -> {
            Params.of(params).only();
            return stats(target.stats().snapshot());
        });
        methods.register("sanport_get_version", params -> {
            Params.of(params).only();
            return F.objectNode().put("version", version)
                    .put("java", Runtime.version().toString())
                    .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        });
        methods.register("nvmf_get_subsystems", params -> {
            Params.of(params).only();
            ArrayNode list = F.arrayNode();
            list.add(subsystem(target, target.discoverySubsystem()));
            for (Subsystem s : target.subsystems()) {
                list.add(subsystem(target, s));
            }
            return list;
        });
        methods.register("nvmf_get_ports", params -> {
            Params.of(params).only();
            ArrayNode list = F.arrayNode();
            for (Port p : target.ports()) {
                ObjectNode o = listener(p).put("port_id", p.portId());
                ArrayNode subs = o.putArray("subsystems");
                p.subsystems().forEach(s -> subs.add(s.nqn()));
                o.put("discovery_only", p.subsystems().isEmpty());
                ArrayNode ana = o.putArray("ana_groups");
                for (AnaGroup g : p.anaGroups()) {
                    ana.addObject().put("grpid", g.grpid()).put("ana_state", g.state().configName())
                            .put("chgcnt", g.chgcnt());
                }
                list.add(o);
            }
            return list;
        });
        methods.register("nvmf_subsystem_get_controllers", params -> {
            Params p = Params.of(params).only("nqn");
            List<Subsystem> which = new ArrayList<>();
            if (p.has("nqn")) {
                which.add(subsystem(target, p.string("nqn")));
            } else {
                which.add(target.discoverySubsystem());
                which.addAll(target.subsystems());
            }
            ArrayNode list = F.arrayNode();
            for (Subsystem s : which) {
                for (Controller c : s.controllers()) {
                    list.add(controller(c));
                }
            }
            return list;
        });
        methods.register("nvmf_ns_set_enabled", params -> {
            Params p = Params.of(params).only("nqn", "nsid", "enabled");
            String nqn = p.string("nqn");
            int nsid = (int) p.integer("nsid", 1, 0xFFFFFFFEL);
            boolean enabled = p.bool("enabled");
            if (subsystem(target, nqn).isDiscovery()) {
                throw RpcException.invalidParams("nqn", "the discovery subsystem has no namespaces");
            }
            target.setNamespaceEnabled(nqn, nsid, enabled); // no such namespace: IllegalArgumentException, -32000
            return F.booleanNode(true);
        });
        methods.register("nvmf_subsystem_listener_set_ana_state", params -> {
            Params p = Params.of(params).only("port_id", "ana_state", "anagrpid", "nqn");
            int portId = (int) p.integer("port_id", 0, 0xFFFF);
            String name = p.string("ana_state");
            AnaState state = AnaState.parse(name);
            if (state == null) {
                throw RpcException.invalidParams("ana_state", "\"" + name + "\" is not an ANA state ("
                        + AnaState.names() + ")");
            }
            int grpid = p.has("anagrpid") ? (int) p.integer("anagrpid", 1, AnaGroup.MAX_GRPID) : AnaGroup.DEFAULT_GRPID;
            Port port = target.port(portId);
            if (port == null) {
                throw RpcException.failed("no port " + portId);
            }
            if (p.has("nqn") && !port.exports(subsystem(target, p.string("nqn")))) {
                throw RpcException.failed("port " + portId + " does not export " + p.string("nqn"));
            }
            return F.booleanNode(target.setAnaState(portId, grpid, state));
        });
    }

    static ObjectNode stats(TargetStats.Snapshot snap) {
        ObjectNode o = F.objectNode().put("time_ns", System.nanoTime());
        ArrayNode nss = o.putArray("namespaces");
        for (TargetStats.NamespaceTotals n : snap.namespaces()) {
            io(nss.addObject().put("subnqn", n.subsystem()).put("nsid", Integer.toUnsignedLong(n.nsid()))
                    .put("device", n.device()), n.io());
        }
        ArrayNode ports = o.putArray("ports");
        for (TargetStats.PortTotals p : snap.ports()) {
            io(ports.addObject().put("port_id", p.portId()).put("trtype", p.transport())
                    .put("traddr", p.address()).put("trsvcid", Integer.toString(p.port()))
                    .put("connections", p.connections()).put("outstanding", p.outstanding()), p.io());
        }
        ArrayNode rs = o.putArray("reactors");
        for (TargetStats.ReactorTotals r : snap.reactors()) {
            rs.addObject().put("name", r.name()).put("busy_ns", r.busyNanos()).put("cpu_ns", r.cpuNanos())
                    .put("buffers_in_use", r.buffersInUse()).put("buffers", r.buffers())
                    .put("buffer_waits", r.bufferWaits()).put("parked", r.parked());
        }
        return o;
    }

    private static void io(ObjectNode o, TargetStats.IoTotals io) {
        o.put("reads", io.reads()).put("writes", io.writes()).put("bytes_read", io.bytesRead())
                .put("bytes_written", io.bytesWritten()).put("errors", io.errors());
    }

    private static Subsystem subsystem(Target target, String nqn) throws RpcException {
        Subsystem s = target.subsystem(nqn);
        if (s == null) {
            throw RpcException.failed("no subsystem " + nqn);
        }
        return s;
    }

    static ObjectNode subsystem(Target target, Subsystem s) {
        ObjectNode o = F.objectNode().put("nqn", s.nqn())
                .put("subtype", s.isDiscovery() ? "Discovery" : "NVMe")
                .put("serial_number", s.serial())
                .put("model_number", s.model())
                .put("allow_any_host", s.isDiscovery() || s.allowAnyHost());
        ArrayNode hosts = o.putArray("hosts");
        s.allowedHosts().stream().sorted().forEach(h -> hosts.addObject().put("nqn", h));
        ArrayNode listeners = o.putArray("listen_addresses");
        for (Port p : target.ports()) {
            if (s.isDiscovery() || p.exports(s)) {
                listeners.add(listener(p));
            }
        }
        if (!s.isDiscovery()) {
            ArrayNode nss = o.putArray("namespaces");
            for (Namespace n : s.namespaces().values()) {
                ObjectNode ns = nss.addObject()
                        .put("nsid", Integer.toUnsignedLong(n.nsid()))
                        .put("device", n.device().name())
                        .put("size", n.device().size())
                        .put("block_size", 1 << n.lbaShift())
                        .put("num_blocks", n.blocks())
                        .put("enabled", n.enabled())
                        .put("read_only", n.readOnly())
                        .put("buffered_io", n.device().pageCacheChoice() && !n.device().directRequested())
                        .put("direct_io", n.device().directIo())
                        .put("uuid", n.uuid().toString())
                        .put("nguid", HexFormat.of().withUpperCase().formatHex(n.nguid()))
                        .put("anagrpid", n.anaGrpId());
                if (n.writeFailure() != null) {
                    ns.put("write_failure", n.writeFailure());
                }
            }
        }
        if (!s.isDiscovery()) {
            o.put("min_cntlid", s.cntlidMin()).put("max_cntlid", s.cntlidMax()); // SPDK's names
        }
        o.put("controllers", s.controllers().size());
        return o;
    }

    private static ObjectNode listener(Port p) {
        return F.objectNode().put("trtype", p.transport().type())
                .put("adrfam", p.adrfam())
                .put("traddr", p.traddr())
                .put("trsvcid", Integer.toString(p.boundPort()));
    }

    static ObjectNode controller(Controller c) {
        ObjectNode o = F.objectNode().put("subnqn", c.subsystem().nqn())
                .put("cntlid", c.cntlid())
                .put("hostnqn", c.hostnqn())
                .put("hostid", c.hostid().toString())
                .put("address", c.peer())
                .put("port_id", c.port().portId())
                .put("trtype", c.port().transport().type())
                .put("kato_ms", c.katoMs())
                .put("ready", c.ready())
                .put("read_commands", c.readCommands())
                .put("write_commands", c.writeCommands())
                .put("bytes_read", c.bytesRead())
                .put("bytes_written", c.bytesWritten());
        ArrayNode queues = o.putArray("queues");
        for (QueuePair q : c.queues()) {
            queues.addObject().put("qid", q.qid())
                    .put("depth", q.sqsize() + 1)
                    .put("outstanding", q.outstanding())
                    .put("reactor", q.reactor().name())
                    .put("address", q.peer());
        }
        return o;
    }
}
