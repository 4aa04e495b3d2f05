package io.sanport.hostdriver.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sanport.hostdriver.ConfigException;
import io.sanport.hostdriver.Subsystem;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The control socket's methods that change the running target, each one {@link Target} change (so
 * {@link Target#config()} stays what runs). Subsystems, namespaces and hosts use SPDK's rpc.py names and params;
 * ports follow nvmetcli's model, which the config file is: a port (portid, one address) exports a list of
 * subsystems. SPDK's listener methods are that model seen from a subsystem: {@code nvmf_subsystem_add_listener}
 * links the port on that address, creating it with the next free port id (one more than the highest) when
 * none listens there; {@code nvmf_subsystem_remove_listener} unlinks it and leaves the port up (it still serves
 * discovery and its other subsystems; {@code nvmf_delete_port} closes it).
 *
 * <p>New records are checked by the config file's own parser (a namespace's device path, uuid and nguid; a port's
 * address; a subsystem's serial), so the RPC and the file refuse the same things; a refusal is -32602 naming the
 * param. {@code sanport_reload} reads the file again and {@link Target#apply applies} the difference.
 */
final class ConfigMethods {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String PARAMS = "params";

    private final Target target;
    private final Path configFile;

    private ConfigMethods(Target target, Path configFile) {
        this.target = target;
        this.configFile = configFile;
    }

    /** {@code configFile}: what {@code sanport_reload} reads; null when the target has none (export). */
    static void register(RpcMethods methods, Target target, Path configFile) {
        ConfigMethods m = new ConfigMethods(target, configFile);
        methods.register("nvmf_create_subsystem", m::createSubsystem);
        methods.register("nvmf_delete_subsystem", params -> {
            String nqn = Params.of(params).only("nqn").string("nqn");
            m.nvmSubsystem(nqn);
            target.removeSubsystem(nqn);
            return F.booleanNode(true);
        });
        methods.register("nvmf_subsystem_add_ns", m::addNamespace);
        methods.register("nvmf_subsystem_remove_ns", params -> {
            Params p = Params.of(params).only("nqn", "nsid");
            String nqn = p.string("nqn");
            int nsid = (int) p.integer("nsid", 1, 0xFFFFFFFEL);
            m.nvmSubsystem(nqn);
            target.removeNamespace(nqn, nsid);
            return F.booleanNode(true);
        });
        methods.register("nvmf_subsystem_add_host", params -> {
            Params p = Params.of(params).only("nqn", "host");
            String nqn = p.string("nqn");
            String host = p.string("host");
            m.nvmSubsystem(nqn);
            if (!io.sanport.nvme.Nqn.isValid(host)) {
                throw RpcException.invalidParams("host", "\"" + host + "\" is not an NQN");
            }
            target.addAllowedHost(nqn, host);
            return F.booleanNode(true);
        });
        methods.register("nvmf_subsystem_remove_host", params -> {
            Params p = Params.of(params).only("nqn", "host");
            String nqn = p.string("nqn");
            String host = p.string("host");
            m.nvmSubsystem(nqn);
            target.removeAllowedHost(nqn, host);
            return F.booleanNode(true);
        });
        methods.register("nvmf_subsystem_allow_any_host", params -> {
            Params p = Params.of(params).only("nqn", "allow_any_host");
            String nqn = p.string("nqn");
            boolean allow = p.bool("allow_any_host");
            m.nvmSubsystem(nqn);
            target.setAllowAnyHost(nqn, allow);
            return F.booleanNode(true);
        });
        methods.register("nvmf_create_port", m::createPort);
        methods.register("nvmf_delete_port", params -> {
            int id = (int) Params.of(params).only("port_id").integer("port_id", 0, 0xFFFF);
            target.removePort(id);
            return F.booleanNode(true);
        });
        methods.register("nvmf_port_add_subsystem", params -> {
            Params p = Params.of(params).only("port_id", "nqn");
            int id = (int) p.integer("port_id", 0, 0xFFFF);
            String nqn = p.string("nqn");
            m.nvmSubsystem(nqn);
            target.addPortSubsystem(id, nqn);
            return F.booleanNode(true);
        });
        methods.register("nvmf_port_remove_subsystem", params -> {
            Params p = Params.of(params).only("port_id", "nqn");
            int id = (int) p.integer("port_id", 0, 0xFFFF);
            String nqn = p.string("nqn");
            m.nvmSubsystem(nqn);
            target.removePortSubsystem(id, nqn);
            return F.booleanNode(true);
        });
        methods.register("nvmf_subsystem_add_listener", m::addListener);
        methods.register("nvmf_subsystem_remove_listener", m::removeListener);
        methods.register("sanport_reload", m::reload);
    }

    private JsonNode createSubsystem(JsonNode params) throws Exception {
        Params p = Params.of(params).only("nqn", "serial_number", "model_number", "allow_any_host");
        ObjectNode s = F.objectNode().put("nqn", p.string("nqn"));
        ObjectNode attr = s.putObject("attr").put("allow_any_host", p.has("allow_any_host") && p.bool("allow_any_host") ? "1" : "0");
        if (p.has("serial_number")) attr.put("serial", p.string("serial_number"));
        if (p.has("model_number")) attr.put("model", p.string("model_number"));
        s.putArray("allowed_hosts");
        s.putArray("namespaces");
        TargetConfig one = parse("subsystems", s, Map.of("nqn", "nqn", "attr.serial", "serial_number",
                "attr.model", "model_number", "attr.allow_any_host", "allow_any_host"));
        target.addSubsystem(one.subsystems().getFirst());
        return F.booleanNode(true);
    }

    /** SPDK's add_ns: the namespace's NSID, the lowest free one when not given. */
    private JsonNode addNamespace(JsonNode params) throws Exception {
        Params p = Params.of(params).only("nqn", "namespace");
        String nqn = p.string("nqn");
        Params n = p.object("namespace").only("nsid", "device_path", "uuid", "nguid", "enabled", "buffered_io");
        long nsid = n.has("nsid") ? n.integer("nsid", 1, 0xFFFFFFFEL) : 0;
        String path = n.string("device_path");
        String uuid = n.string("uuid", null);
        String nguid = n.string("nguid", null);
        boolean enabled = !n.has("enabled") || n.bool("enabled");
        boolean buffered = n.has("buffered_io") && n.bool("buffered_io");
        nvmSubsystem(nqn);
        if (nsid == 0) {
            nsid = lowestFreeNsid(nqn);
        }
        ObjectNode ns = F.objectNode().put("nsid", nsid).put("enable", enabled ? 1 : 0);
        ObjectNode device = ns.putObject("device").put("path", path);
        if (uuid != null) device.put("uuid", uuid);
        if (nguid != null) device.put("nguid", nguid);
        if (buffered) device.put("buffered_io", 1);
        ObjectNode s = F.objectNode().put("nqn", nqn);
        s.putArray("namespaces").add(ns);
        TargetConfig one = parse("subsystems", s, Map.of("namespaces[0].device.path", "namespace.device_path",
                "namespaces[0].device.uuid", "namespace.uuid", "namespaces[0].device.nguid", "namespace.nguid",
                "namespaces[0].nsid", "namespace.nsid"));
        target.addNamespace(nqn, one.subsystems().getFirst().namespaces().getFirst());
        return F.numberNode(nsid);
    }

    private long lowestFreeNsid(String nqn) throws RpcException {
        Set<Long> used = new TreeSet<>();
        for (TargetConfig.SubsystemConfig s : target.config().subsystems()) {
            if (s.nqn().equals(nqn)) {
                s.namespaces().forEach(x -> used.add(Integer.toUnsignedLong(x.nsid())));
            }
        }
        for (long id = 1; id <= 0xFFFFFFFEL; id++) {
            if (!used.contains(id)) {
                return id;
            }
        }
        throw RpcException.failed(nqn + " has no free NSID");
    }

    /** {@code nvmf_create_port {port_id?, trtype, adrfam?, traddr, trsvcid}}: the port's id (next free if not given). */
    private JsonNode createPort(JsonNode params) throws Exception {
        Params p = Params.of(params).only("port_id", "trtype", "adrfam", "traddr", "trsvcid");
        int id = p.has("port_id") ? (int) p.integer("port_id", 0, 0xFFFF) : nextPortId();
        TargetConfig.PortConfig pc = port(id, p, "");
        target.addPort(pc);
        return F.numberNode(id);
    }

    /**
     * {@code nvmf_subsystem_add_listener {nqn, listen_address: {trtype, adrfam?, traddr, trsvcid}}}: the id of the
     * port that now exports the subsystem (an existing one on that address, or a new one).
     */
    private JsonNode addListener(JsonNode params) throws Exception {
        Params p = Params.of(params).only("nqn", "listen_address");
        String nqn = p.string("nqn");
        Params a = p.object("listen_address").only("trtype", "adrfam", "traddr", "trsvcid");
        nvmSubsystem(nqn);
        TargetConfig.PortConfig wanted = port(nextPortId(), a, "listen_address.");
        TargetConfig.PortConfig existing = portAt(wanted);
        if (existing == null) {
            target.addPort(new TargetConfig.PortConfig(wanted.portId(), wanted.trtype(), wanted.adrfam(),
                    wanted.traddr(), wanted.trsvcid(), List.of(nqn)));
            return F.numberNode(wanted.portId());
        }
        target.addPortSubsystem(existing.portId(), nqn);
        return F.numberNode(existing.portId());
    }

    private JsonNode removeListener(JsonNode params) throws Exception {
        Params p = Params.of(params).only("nqn", "listen_address");
        String nqn = p.string("nqn");
        Params a = p.object("listen_address").only("trtype", "adrfam", "traddr", "trsvcid");
        nvmSubsystem(nqn);
        TargetConfig.PortConfig wanted = port(0, a, "listen_address.");
        TargetConfig.PortConfig existing = portAt(wanted);
        if (existing == null) {
            throw RpcException.failed("no port listens on " + wanted.trtype() + " " + wanted.traddr() + ":"
                    + wanted.trsvcid());
        }
        target.removePortSubsystem(existing.portId(), nqn);
        return F.numberNode(existing.portId());
    }

    /** The changes made, one line each; none when the file is what runs. */
    private JsonNode reload(JsonNode params) throws Exception {
        Params.of(params).only();
        if (configFile == null) {
            throw RpcException.failed("this target has no config file to reload ('sanport export' configures it from"
                    + " its options): change it with the nvmf_* methods, or run 'sanport serve --config FILE'");
        }
        TargetConfig next = TargetConfig.load(configFile); // its ConfigException names the file
        List<String> changes;
        try {
            changes = target.apply(next);
        } catch (ConfigException e) {
            throw e.getMessage().startsWith(configFile.toString()) ? e
                    : new ConfigException(configFile.toString(), e.path(), e.problem());
        }
        ArrayNode list = F.arrayNode();
        changes.forEach(list::add);
        return list;
    }

    /** The NVM subsystem {@code nqn} (-32000 when there is none; the discovery subsystem is not one to change). */
    private Subsystem nvmSubsystem(String nqn) throws RpcException {
        Subsystem s = target.subsystem(nqn);
        if (s == null) {
            throw RpcException.failed("no subsystem " + nqn);
        }
        if (s.isDiscovery()) {
            throw RpcException.invalidParams("nqn", "the discovery subsystem is sanport's own and cannot be changed");
        }
        return s;
    }

    /** One more than the highest port id configured (1 when none). */
    private int nextPortId() throws RpcException {
        int max = target.config().ports().stream().mapToInt(TargetConfig.PortConfig::portId).max().orElse(0);
        if (max >= 0xFFFF) {
            throw RpcException.failed("port id " + max + " is the highest there is: give port_id");
        }
        return max + 1;
    }

    /** The configured port on {@code want}'s address (its trsvcid as configured, or as bound for "0"). */
    private TargetConfig.PortConfig portAt(TargetConfig.PortConfig want) {
        for (TargetConfig.PortConfig pc : target.config().ports()) {
            if (!pc.trtype().equals(want.trtype()) || !pc.traddr().equals(want.traddr())) {
                continue;
            }
            var running = target.port(pc.portId());
            if (pc.trsvcid().equals(want.trsvcid())
                    || running != null && Integer.toString(running.boundPort()).equals(want.trsvcid())) {
                return pc;
            }
        }
        return null;
    }

    /** A port record from {@code trtype, adrfam?, traddr, trsvcid}, checked as the config file's are. */
    private static TargetConfig.PortConfig port(int id, Params a, String prefix) throws RpcException {
        ObjectNode addr = F.objectNode().put("trtype", a.string("trtype"));
        if (a.has("adrfam")) addr.put("adrfam", a.string("adrfam"));
        addr.put("traddr", a.string("traddr"));
        addr.put("trsvcid", a.string("trsvcid"));
        ObjectNode port = F.objectNode().put("portid", id);
        port.set("addr", addr);
        port.putArray("subsystems");
        return parse("ports", port, Map.of("addr.trtype", prefix + "trtype", "addr.adrfam", prefix + "adrfam",
                "addr.traddr", prefix + "traddr", "addr.trsvcid", prefix + "trsvcid", "portid", "port_id"))
                .ports().getFirst();
    }

    /**
     * {@code element} parsed as the only entry of a config's {@code list}; a refusal is -32602 naming the param
     * {@code fields} maps its JSON path to (or the path itself).
     */
    private static TargetConfig parse(String list, ObjectNode element, Map<String, String> fields) throws RpcException {
        ObjectNode doc = F.objectNode();
        doc.putArray("hosts");
        doc.putArray("ports");
        doc.putArray("subsystems");
        ((ArrayNode) doc.get(list)).add(element);
        try {
            return TargetConfig.parse(doc.toString(), PARAMS);
        } catch (ConfigException e) {
            String at = e.path().replaceFirst("^\\$\\." + list + "\\[0\\]\\.?", "");
            throw RpcException.invalidParams(fields.getOrDefault(at, at.isEmpty() ? "params" : at), e.problem());
        }
    }
}
