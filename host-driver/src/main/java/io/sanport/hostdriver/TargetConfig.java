package io.sanport.hostdriver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sanport.nvme.AnaState;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.tls.TlsKey;
import io.sanport.nvme.auth.DhGroup;
import io.sanport.nvme.auth.DhchapHash;
import io.sanport.nvme.auth.DhchapKey;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The target's configuration in nvmetcli's JSON format ({@code nvmetcli save} writes it, {@code restore} reads
 * it), so a user of the kernel target brings a config over unchanged. Parsed once into immutable records;
 * anything wrong is refused with a {@link ConfigException} naming the JSON path of the field. Keys sanport does
 * not use (param...) are accepted and ignored.
 *
 * <pre>{@code
 * { "hosts": [ { "nqn": "nqn.2014-08.org.nvmexpress:uuid:..." } ],
 *   "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "0.0.0.0", "trsvcid": "4420" },
 *                "ana_groups": [ { "grpid": 1, "ana": { "state": "optimized" } } ],
 *                "referrals": [ { "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "10.0.0.2", "trsvcid": "8009" }, "portid": 2 } ],
 *                "subsystems": [ "nqn.2024-01.io.sanport:disk0" ] } ],
 *   "subsystems": [ { "nqn": "nqn.2024-01.io.sanport:disk0",
 *                     "attr": { "allow_any_host": "1", "serial": "...", "model": "...", "cntlid_min": "1", "cntlid_max": "65519" },
 *                     "allowed_hosts": [],
 *                     "namespaces": [ { "nsid": 1, "enable": 1, "ana_grpid": 1,
 *                                       "device": { "path": "/dev/nvme0n1", "uuid": "...", "nguid": "...", "shared": false,
 *                                                   "buffered_io": false } } ] } ],
 *   "sanport": { "max_kato_ms": 300000, "discovery_kato_ms": 120000,
 *                "host_paced_buffers_percent": 50, "host_paced_buffers_per_controller": 32,
 *                "host_paced_buffers_per_host": 64, "connect_timeout_ms": 10000, "max_pending_per_host": 129 } }
 * }</pre>
 * The optional {@code "sanport"} object holds sanport's own knobs, which nvmetcli neither writes nor reads
 * ({@link Limits}).
 */
public record TargetConfig(List<HostConfig> hosts, List<PortConfig> ports, List<SubsystemConfig> subsystems,
                           Limits limits) {

    /**
     * The {@code "sanport"} knobs of the file; a null one was not given and the {@link TargetOptions} value stands.
     *
     * @param maxKatoMillis       {@code max_kato_ms}: {@link TargetOptions#maxKatoMillis()}
     * @param discoveryKatoMillis {@code discovery_kato_ms}: {@link TargetOptions#discoveryKatoMillis()}
     * @param hostPacedPercent    {@code host_paced_buffers_percent}: {@link TargetOptions#hostPacedPercent()}
     * @param hostPacedPerController {@code host_paced_buffers_per_controller}: {@link TargetOptions#hostPacedPerController()}
     * @param hostPacedPerHost    {@code host_paced_buffers_per_host}: {@link TargetOptions#hostPacedPerHost()}
     * @param connectTimeoutMillis {@code connect_timeout_ms}: {@link ConnectionLimits#connectTimeoutMillis()}
     * @param maxPendingPerHost   {@code max_pending_per_host}: {@link ConnectionLimits#maxPendingPerHost()}
     */
    public record Limits(Long maxKatoMillis, Long discoveryKatoMillis, Integer hostPacedPercent,
                         Integer hostPacedPerController, Integer hostPacedPerHost, Long connectTimeoutMillis,
                         Integer maxPendingPerHost) {
        public static final Limits NONE = new Limits(null, null, null, null, null, null, null);

        /** Keep-alive bounds only. */
        public Limits(Long maxKatoMillis, Long discoveryKatoMillis) {
            this(maxKatoMillis, discoveryKatoMillis, null, null, null, null, null);
        }

        /** {@code options} with the knobs this file sets (a lower maximum also bounds the discovery default). */
        public TargetOptions applyTo(TargetOptions options) {
            long max = maxKatoMillis != null ? maxKatoMillis : options.maxKatoMillis();
            long discovery = discoveryKatoMillis != null ? discoveryKatoMillis : Math.min(options.discoveryKatoMillis(), max);
            ConnectionLimits c = options.limits();
            if (connectTimeoutMillis != null) c = c.withConnectTimeout(connectTimeoutMillis);
            if (maxPendingPerHost != null) c = c.withMaxPendingPerHost(maxPendingPerHost);
            return options.withKeepAlive(discovery, max).withHostPacedBuffers(
                    hostPacedPercent != null ? hostPacedPercent : options.hostPacedPercent(),
                    hostPacedPerController != null ? hostPacedPerController : options.hostPacedPerController())
                    .withHostPacedPerHost(hostPacedPerHost != null ? hostPacedPerHost : options.hostPacedPerHost())
                    .withLimits(c);
        }
    }

    /**
     * A host NQN that subsystems may name in allowed_hosts, with its DH-HMAC-CHAP settings (null: none), as the
     * configfs host entry carries them ({@code dhchap_key}, {@code dhchap_ctrl_key}, {@code dhchap_hash},
     * {@code dhchap_dhgroup}).
     */
    public record HostConfig(String nqn, DhchapConfig dhchap, TlsKey tlsKey) {
        public HostConfig(String nqn) {
            this(nqn, null, null);
        }

        public HostConfig(String nqn, DhchapConfig dhchap) {
            this(nqn, dhchap, null);
        }
    }

    /**
     * Whether a port carries NVMe/TCP over TLS 1.3: nvmet's {@code addr_tsas} ("none" or "tls1.3") and
     * {@code addr_treq} ("required", "not required"; "not specified" with tls1.3 means required, as in nvmet).
     */
    public enum PortTls {
        NONE, NOT_REQUIRED, REQUIRED;

        public boolean offered() { return this != NONE; }
    }

    /**
     * A host's DH-HMAC-CHAP settings: its secret, the controller's secret for bidirectional authentication (null:
     * the host does not authenticate the controller), the hash and DH group the controller prefers (nvmet's
     * defaults: hmac(sha256), null). The secrets print as their length only.
     */
    public record DhchapConfig(DhchapKey key, DhchapKey ctrlKey, DhchapHash hash, DhGroup dhgroup) {
        public DhchapConfig {
            Objects.requireNonNull(key, "a DH-HMAC-CHAP host entry needs dhchap_key");
            hash = hash != null ? hash : DhchapHash.SHA256;
            dhgroup = dhgroup != null ? dhgroup : DhGroup.NULL;
        }

        /** Whether {@code a} and {@code b} hold the same settings (secrets compared in constant time); null for none. */
        public static boolean same(DhchapConfig a, DhchapConfig b) {
            if (a == null || b == null) return a == b;
            return a.key.sameAs(b.key) && (a.ctrlKey == null ? b.ctrlKey == null : a.ctrlKey.sameAs(b.ctrlKey))
                    && a.hash == b.hash && a.dhgroup == b.dhgroup;
        }
    }

    /**
     * One listening address. {@code trsvcid} "0" asks for an ephemeral port (tests); the bound one is then in
     * {@link Port#boundPort()}. {@code anaGroups}: the ANA state of each group through this port (nvmet: group 1
     * is optimized unless said otherwise, a group not named is inaccessible here); {@code referrals}: other
     * discovery controllers this port's discovery log lists.
     */
    public record PortConfig(int portId, String trtype, String adrfam, String traddr, String trsvcid,
                             List<String> subsystems, List<AnaGroupConfig> anaGroups, List<ReferralConfig> referrals,
                             PortTls tls) {
        public PortConfig {
            subsystems = List.copyOf(subsystems);
            anaGroups = List.copyOf(anaGroups);
            referrals = List.copyOf(referrals);
        }

        public PortConfig(int portId, String trtype, String adrfam, String traddr, String trsvcid,
                          List<String> subsystems) {
            this(portId, trtype, adrfam, traddr, trsvcid, subsystems, List.of(), List.of(), PortTls.NONE);
        }

        public PortConfig(int portId, String trtype, String adrfam, String traddr, String trsvcid,
                          List<String> subsystems, PortTls tls) {
            this(portId, trtype, adrfam, traddr, trsvcid, subsystems, List.of(), List.of(), tls);
        }

        public PortConfig(int portId, String trtype, String adrfam, String traddr, String trsvcid,
                          List<String> subsystems, List<AnaGroupConfig> anaGroups, List<ReferralConfig> referrals) {
            this(portId, trtype, adrfam, traddr, trsvcid, subsystems, anaGroups, referrals, PortTls.NONE);
        }

        public int trsvcidNumber() {
            return Integer.parseInt(trsvcid);
        }

        /** This port exporting {@code subs} instead. */
        public PortConfig withSubsystems(List<String> subs) {
            return new PortConfig(portId, trtype, adrfam, traddr, trsvcid, subs, anaGroups, referrals, tls);
        }

        /** This port with group {@code grpid} in {@code state} (replacing its entry, or added). */
        public PortConfig withAnaState(int grpid, AnaState state) {
            List<AnaGroupConfig> list = new ArrayList<>(anaGroups.stream().filter(g -> g.grpid() != grpid).toList());
            list.add(new AnaGroupConfig(grpid, state));
            list.sort(java.util.Comparator.comparingInt(AnaGroupConfig::grpid));
            return new PortConfig(portId, trtype, adrfam, traddr, trsvcid, subsystems, list, referrals, tls);
        }
    }

    /** nvmetcli's {@code ports[].ana_groups[]}: {@code {"grpid": 2, "ana": {"state": "inaccessible"}}}. */
    public record AnaGroupConfig(int grpid, AnaState state) {}

    /** nvmetcli's {@code ports[].referrals[]}: another discovery controller's address. */
    public record ReferralConfig(int portId, String trtype, String adrfam, String traddr, String trsvcid) {}

    /**
     * An NVM subsystem: who may connect and what it exports. {@code cntlidMin..cntlidMax} (nvmet's attr_cntlid_min
     * and _max) bound the controller IDs it gives out: two processes serving one subsystem take disjoint ranges.
     */
    public record SubsystemConfig(String nqn, boolean allowAnyHost, List<String> allowedHosts, String serial,
                                  String model, List<NamespaceConfig> namespaces, int cntlidMin, int cntlidMax,
                                  boolean dhchapRequired) {
        public SubsystemConfig {
            allowedHosts = List.copyOf(allowedHosts);
            namespaces = List.copyOf(namespaces);
        }

        public SubsystemConfig(String nqn, boolean allowAnyHost, List<String> allowedHosts, String serial,
                               String model, List<NamespaceConfig> namespaces) {
            this(nqn, allowAnyHost, allowedHosts, serial, model, namespaces, Subsystem.CNTLID_MIN, Subsystem.CNTLID_MAX,
                    false);
        }

        public SubsystemConfig(String nqn, boolean allowAnyHost, List<String> allowedHosts, String serial,
                               String model, List<NamespaceConfig> namespaces, boolean dhchapRequired) {
            this(nqn, allowAnyHost, allowedHosts, serial, model, namespaces, Subsystem.CNTLID_MIN, Subsystem.CNTLID_MAX,
                    dhchapRequired);
        }

        public SubsystemConfig(String nqn, boolean allowAnyHost, List<String> allowedHosts, String serial,
                               String model, List<NamespaceConfig> namespaces, int cntlidMin, int cntlidMax) {
            this(nqn, allowAnyHost, allowedHosts, serial, model, namespaces, cntlidMin, cntlidMax, false);
        }

        public SubsystemConfig withAllowAnyHost(boolean v) {
            return new SubsystemConfig(nqn, v, allowedHosts, serial, model, namespaces, cntlidMin, cntlidMax, dhchapRequired);
        }

        public SubsystemConfig withAllowedHosts(List<String> v) {
            return new SubsystemConfig(nqn, allowAnyHost, v, serial, model, namespaces, cntlidMin, cntlidMax, dhchapRequired);
        }

        public SubsystemConfig withNamespaces(List<NamespaceConfig> v) {
            return new SubsystemConfig(nqn, allowAnyHost, allowedHosts, serial, model, v, cntlidMin, cntlidMax, dhchapRequired);
        }

        public SubsystemConfig withCntlids(int min, int max) {
            return new SubsystemConfig(nqn, allowAnyHost, allowedHosts, serial, model, namespaces, min, max, dhchapRequired);
        }
    }

    /**
     * A namespace backed by the device at {@code path}; uuid and nguid are derived when not given (from the
     * subsystem NQN and NSID: two processes with one config agree). {@code anaGrpId}: its ANA group (1 unless
     * given); {@code shared}: the device is opened without O_EXCL, for a second process serving it too;
     * {@code bufferedIo}: nvmet's {@code device.buffered_io}, the device is read and written through the page
     * cache instead of O_DIRECT (Flush still makes the data durable: fdatasync).
     */
    public record NamespaceConfig(int nsid, boolean enabled, String path, UUID uuid, String nguid, int anaGrpId,
                                  boolean shared, boolean bufferedIo) {
        public NamespaceConfig(int nsid, boolean enabled, String path, UUID uuid, String nguid) {
            this(nsid, enabled, path, uuid, nguid, AnaGroup.DEFAULT_GRPID, false, false);
        }

        public NamespaceConfig withEnabled(boolean v) {
            return new NamespaceConfig(nsid, v, path, uuid, nguid, anaGrpId, shared, bufferedIo);
        }

        public NamespaceConfig withShared(boolean v) {
            return new NamespaceConfig(nsid, enabled, path, uuid, nguid, anaGrpId, v, bufferedIo);
        }

        public NamespaceConfig withBufferedIo(boolean v) {
            return new NamespaceConfig(nsid, enabled, path, uuid, nguid, anaGrpId, shared, v);
        }
    }

    public TargetConfig(List<HostConfig> hosts, List<PortConfig> ports, List<SubsystemConfig> subsystems) {
        this(hosts, ports, subsystems, Limits.NONE);
    }

    public TargetConfig {
        limits = limits != null ? limits : Limits.NONE;
        hosts = List.copyOf(hosts);
        ports = List.copyOf(ports);
        subsystems = List.copyOf(subsystems);
    }

    /** This config with {@code s} in place of the subsystem of its NQN, or added at the end. Not validated. */
    public TargetConfig withSubsystem(SubsystemConfig s) {
        List<SubsystemConfig> list = new ArrayList<>(subsystems);
        int i = indexOf(list.stream().map(SubsystemConfig::nqn).toList(), s.nqn());
        if (i >= 0) list.set(i, s); else list.add(s);
        return new TargetConfig(hosts, ports, list, limits);
    }

    /** This config without subsystem {@code nqn}, and without the ports' links to it. */
    public TargetConfig withoutSubsystem(String nqn) {
        List<SubsystemConfig> list = subsystems.stream().filter(s -> !s.nqn().equals(nqn)).toList();
        List<PortConfig> unlinked = ports.stream().map(p -> p.withSubsystems(
                p.subsystems().stream().filter(n -> !n.equals(nqn)).toList())).toList();
        return new TargetConfig(hosts, unlinked, list, limits);
    }

    /** This config with namespace {@code n} in subsystem {@code nqn} (in place of one of its NSID, or last). */
    public TargetConfig withNamespace(String nqn, NamespaceConfig n) {
        SubsystemConfig s = subsystems.stream().filter(x -> x.nqn().equals(nqn)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no subsystem " + nqn));
        List<NamespaceConfig> list = new ArrayList<>(s.namespaces());
        int i = indexOf(list.stream().map(x -> Integer.toUnsignedString(x.nsid())).toList(),
                Integer.toUnsignedString(n.nsid()));
        if (i >= 0) list.set(i, n); else list.add(n);
        return withSubsystem(s.withNamespaces(list));
    }

    /** This config without namespace {@code nsid} of subsystem {@code nqn}. */
    public TargetConfig withoutNamespace(String nqn, int nsid) {
        SubsystemConfig s = subsystems.stream().filter(x -> x.nqn().equals(nqn)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no subsystem " + nqn));
        return withSubsystem(s.withNamespaces(s.namespaces().stream().filter(x -> x.nsid() != nsid).toList()));
    }

    /** This config with {@code p} in place of the port of its id, or added at the end. */
    public TargetConfig withPort(PortConfig p) {
        List<PortConfig> list = new ArrayList<>(ports);
        int i = indexOf(list.stream().map(x -> Integer.toString(x.portId())).toList(), Integer.toString(p.portId()));
        if (i >= 0) list.set(i, p); else list.add(p);
        return new TargetConfig(hosts, list, subsystems, limits);
    }

    /** This config without port {@code portId}. */
    public TargetConfig withoutPort(int portId) {
        return new TargetConfig(hosts, ports.stream().filter(p -> p.portId() != portId).toList(), subsystems, limits);
    }

    private static int indexOf(List<String> keys, String key) {
        return keys.indexOf(key);
    }

    /** Every device path an enabled namespace names, in order, once each: what the I/O processor must open. */
    public List<String> devicePaths() {
        Set<String> paths = new LinkedHashSet<>();
        for (SubsystemConfig s : subsystems) {
            for (NamespaceConfig n : s.namespaces()) {
                if (n.enabled()) {
                    paths.add(n.path());
                }
            }
        }
        return List.copyOf(paths);
    }

    /** Whether a namespace on {@code path} asks for it to be opened shared (without O_EXCL). */
    public boolean sharedDevice(String path) {
        return anyNamespaceOn(path, NamespaceConfig::shared);
    }

    /** Whether the namespaces on {@code path} ask for the page cache (buffered_io; validation makes them agree). */
    public boolean bufferedDevice(String path) {
        return anyNamespaceOn(path, NamespaceConfig::bufferedIo);
    }

    private boolean anyNamespaceOn(String path, java.util.function.Predicate<NamespaceConfig> asks) {
        for (SubsystemConfig s : subsystems) {
            for (NamespaceConfig n : s.namespaces()) {
                if (asks.test(n) && n.path().equals(path)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The quick form of {@code sanport export --device PATH}: one port, one subsystem open to any host, the
     * device as namespace 1.
     */
    public static TargetConfig forDevice(String path, String subsystemNqn, String trtype, String traddr, int trsvcid)
            throws ConfigException {
        return forDevice(path, subsystemNqn, trtype, traddr, trsvcid, List.of());
    }

    /** As {@link #forDevice(String, String, String, String, int)}, open only to {@code allowedHosts} when not empty. */
    public static TargetConfig forDevice(String path, String subsystemNqn, String trtype, String traddr, int trsvcid,
                                         List<String> allowedHosts) throws ConfigException {
        return forDevice(path, subsystemNqn, trtype, traddr, trsvcid, allowedHosts, null);
    }

    /**
     * As {@link #forDevice(String, String, String, String, int, List)}; with {@code dhchap} every allowed host
     * authenticates with those settings, and the subsystem requires it.
     */
    public static TargetConfig forDevice(String path, String subsystemNqn, String trtype, String traddr, int trsvcid,
                                         List<String> allowedHosts, DhchapConfig dhchap) throws ConfigException {
        return forDevice(path, subsystemNqn, trtype, traddr, trsvcid, allowedHosts, dhchap, null);
    }

    /**
     * As {@link #forDevice(String, String, String, String, int, List, DhchapConfig)}; with {@code tlsKey} the port
     * requires TLS 1.3 and every allowed host has that configured PSK.
     */
    public static TargetConfig forDevice(String path, String subsystemNqn, String trtype, String traddr, int trsvcid,
                                         List<String> allowedHosts, DhchapConfig dhchap, TlsKey tlsKey)
            throws ConfigException {
        if (tlsKey != null && allowedHosts.isEmpty()) {
            throw new ConfigException(null, "$.hosts", "a TLS PSK needs the hosts it belongs to (--allow-host)");
        }
        if (dhchap != null && allowedHosts.isEmpty()) {
            throw new ConfigException(null, "$.hosts", "DH-HMAC-CHAP secrets need the hosts they belong to (--allow-host)");
        }
        String adrfam = traddr.contains(":") ? "ipv6" : "ipv4";
        SubsystemConfig s = new SubsystemConfig(Nqn.validate(subsystemNqn), allowedHosts.isEmpty(), allowedHosts,
                defaultSerial(subsystemNqn), "sanport", List.of(new NamespaceConfig(1, true, path, null, null)),
                dhchap != null);
        PortConfig p = new PortConfig(1, trtype, adrfam, traddr, Integer.toString(trsvcid), List.of(subsystemNqn),
                tlsKey != null ? PortTls.REQUIRED : PortTls.NONE);
        List<HostConfig> hosts = allowedHosts.stream().map(h -> new HostConfig(h, dhchap, tlsKey)).toList();
        return validate(new TargetConfig(hosts, List.of(p), List.of(s)));
    }

    public static TargetConfig load(Path file) throws IOException {
        TargetConfig c = parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        if (c.hosts().stream().anyMatch(h -> h.dhchap() != null || h.tlsKey() != null) && readableByOthers(file)) {
            System.getLogger("sanport.config").log(System.Logger.Level.WARNING, file + " holds DH-HMAC-CHAP or TLS secrets "
                    + "and is readable by its group or by others: chmod 600 " + file);
        }
        return c;
    }

    /** Whether group or others may read {@code file} (POSIX file systems; false where permissions are unknown). */
    static boolean readableByOthers(Path file) throws IOException {
        try {
            Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(file);
            return p.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ)
                    || p.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    /** Parses nvmetcli JSON; {@code source} names the file in messages. */
    public static TargetConfig parse(String json, String source) throws ConfigException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, "$", "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() : ""));
        }
        Parser p = new Parser(source);
        if (root == null || !root.isObject()) {
            throw p.error("$", "expected a JSON object with hosts, ports and subsystems");
        }
        List<HostConfig> hosts = new ArrayList<>();
        for (int i = 0; i < p.array(root, "$", "hosts").size(); i++) {
            String at = "$.hosts[" + i + "]";
            JsonNode h = p.object(root.get("hosts").get(i), at);
            hosts.add(new HostConfig(p.nqn(h, at, "nqn"), p.dhchap(h, at), p.tlsKey(h, at)));
        }
        List<PortConfig> ports = new ArrayList<>();
        JsonNode portArray = p.array(root, "$", "ports");
        for (int i = 0; i < portArray.size(); i++) {
            ports.add(p.port(portArray.get(i), "$.ports[" + i + "]"));
        }
        List<SubsystemConfig> subsystems = new ArrayList<>();
        JsonNode subsystemArray = p.array(root, "$", "subsystems");
        for (int i = 0; i < subsystemArray.size(); i++) {
            subsystems.add(p.subsystem(subsystemArray.get(i), "$.subsystems[" + i + "]"));
        }
        TargetConfig config = new TargetConfig(hosts, ports, subsystems, p.limits(root.get("sanport")));
        try {
            return validate(config);
        } catch (ConfigException e) {
            throw new ConfigException(source, e.path(), e.problem());
        }
    }

    /** The checks across records: unique ids, references that resolve. */
    static TargetConfig validate(TargetConfig c) throws ConfigException {
        Set<String> hostNqns = new HashSet<>();
        for (int i = 0; i < c.hosts.size(); i++) {
            if (!hostNqns.add(c.hosts.get(i).nqn())) {
                throw new ConfigException(null, "$.hosts[" + i + "].nqn", "duplicate host " + c.hosts.get(i).nqn());
            }
        }
        Set<String> subsystemNqns = new HashSet<>();
        java.util.Map<String, Boolean> bufferedByPath = new java.util.HashMap<>(); // one fd, one mode per device
        for (int i = 0; i < c.subsystems.size(); i++) {
            SubsystemConfig s = c.subsystems.get(i);
            String at = "$.subsystems[" + i + "]";
            if (!subsystemNqns.add(s.nqn())) {
                throw new ConfigException(null, at + ".nqn", "duplicate subsystem " + s.nqn());
            }
            if (Nqn.isDiscovery(s.nqn())) {
                throw new ConfigException(null, at + ".nqn", "the discovery NQN is served by sanport itself");
            }
            for (int j = 0; j < s.allowedHosts().size(); j++) {
                if (!hostNqns.contains(s.allowedHosts().get(j))) {
                    throw new ConfigException(null, at + ".allowed_hosts[" + j + "]",
                            "host " + s.allowedHosts().get(j) + " is not in $.hosts");
                }
            }
            if (s.cntlidMin() < Subsystem.CNTLID_MIN || s.cntlidMin() > Subsystem.CNTLID_MAX) {
                throw new ConfigException(null, at + ".attr.cntlid_min", s.cntlidMin() + " is outside "
                        + Subsystem.CNTLID_MIN + ".." + Subsystem.CNTLID_MAX);
            }
            if (s.cntlidMax() < s.cntlidMin() || s.cntlidMax() > Subsystem.CNTLID_MAX) {
                throw new ConfigException(null, at + ".attr.cntlid_max", s.cntlidMax() + " is outside cntlid_min "
                        + s.cntlidMin() + ".." + Subsystem.CNTLID_MAX);
            }
            Set<Integer> nsids = new HashSet<>();
            for (int j = 0; j < s.namespaces().size(); j++) {
                if (!nsids.add(s.namespaces().get(j).nsid())) {
                    throw new ConfigException(null, at + ".namespaces[" + j + "].nsid",
                            "duplicate nsid " + Integer.toUnsignedString(s.namespaces().get(j).nsid()));
                }
                NamespaceConfig n = s.namespaces().get(j);
                if (n.bufferedIo() && n.path().startsWith("ram:")) {
                    // a toggle would reopen it, and a new memfd is a zeroed disk
                    throw new ConfigException(null, at + ".namespaces[" + j + "].device.buffered_io", n.path()
                            + " is memory, which has no page cache to go through or around: buffered_io must be 0");
                }
                Boolean mode = bufferedByPath.putIfAbsent(n.path(), n.bufferedIo());
                if (mode != null && mode != n.bufferedIo()) {
                    throw new ConfigException(null, at + ".namespaces[" + j + "].device.buffered_io", "another"
                            + " namespace on " + n.path() + " has buffered_io " + (mode ? 1 : 0)
                            + ": a device is opened once, through the page cache or not");
                }
                int grp = s.namespaces().get(j).anaGrpId();
                if (grp < 1 || grp > AnaGroup.MAX_GRPID) {
                    throw new ConfigException(null, at + ".namespaces[" + j + "].ana_grpid",
                            Integer.toUnsignedString(grp) + " is outside 1.." + AnaGroup.MAX_GRPID);
                }
            }
        }
        Set<Integer> portIds = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        for (int i = 0; i < c.ports.size(); i++) {
            PortConfig p = c.ports.get(i);
            String at = "$.ports[" + i + "]";
            if (!portIds.add(p.portId())) {
                throw new ConfigException(null, at + ".portid", "duplicate portid " + p.portId());
            }
            if (!p.trsvcid().equals("0") && !addresses.add(p.trtype() + " " + p.traddr() + " " + p.trsvcid())) {
                throw new ConfigException(null, at + ".addr", "another port already listens on "
                        + p.trtype() + " " + p.traddr() + ":" + p.trsvcid());
            }
            Set<Integer> grpids = new HashSet<>();
            for (int j = 0; j < p.anaGroups().size(); j++) {
                int g = p.anaGroups().get(j).grpid();
                if (g < 1 || g > AnaGroup.MAX_GRPID) {
                    throw new ConfigException(null, at + ".ana_groups[" + j + "].grpid", g + " is outside 1.."
                            + AnaGroup.MAX_GRPID);
                }
                if (!grpids.add(g)) {
                    throw new ConfigException(null, at + ".ana_groups[" + j + "].grpid", "duplicate ANA group " + g);
                }
            }
            for (int j = 0; j < p.subsystems().size(); j++) {
                if (!subsystemNqns.contains(p.subsystems().get(j))) {
                    throw new ConfigException(null, at + ".subsystems[" + j + "]",
                            "subsystem " + p.subsystems().get(j) + " is not in $.subsystems");
                }
            }
        }
        return c;
    }

    /** The serial a subsystem gets when its config names none: derived from its NQN, so it is the same at every start. */
    public static String defaultSerial(String nqn) {
        return String.format("%016x", nqn.hashCode() & 0xFFFFFFFFL ^ (long) nqn.length() << 32).substring(0, 16);
    }

    /** Field-by-field reading with the JSON path at hand for messages. */
    private record Parser(String source) {
        ConfigException error(String path, String problem) {
            return new ConfigException(source, path, problem);
        }

        JsonNode object(JsonNode n, String at) throws ConfigException {
            if (n == null || !n.isObject()) {
                throw error(at, "expected an object");
            }
            return n;
        }

        /** An optional array member; missing means empty. */
        JsonNode array(JsonNode parent, String at, String name) throws ConfigException {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) {
                return new ObjectMapper().createArrayNode();
            }
            if (!n.isArray()) {
                throw error(at + "." + name, "expected an array");
            }
            return n;
        }

        String string(JsonNode parent, String at, String name, boolean required) throws ConfigException {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) {
                if (required) {
                    throw error(at + "." + name, "missing");
                }
                return null;
            }
            if (!n.isTextual() && !n.isNumber()) {
                throw error(at + "." + name, "expected a string");
            }
            return n.asText();
        }

        long integer(JsonNode parent, String at, String name, long min, long max, Long absent) throws ConfigException {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) {
                if (absent == null) {
                    throw error(at + "." + name, "missing");
                }
                return absent;
            }
            long v;
            if (n.isIntegralNumber()) {
                v = n.asLong();
            } else if (n.isTextual()) {
                try {
                    v = Long.decode(n.asText().strip());
                } catch (NumberFormatException e) {
                    throw error(at + "." + name, "expected a number, got \"" + n.asText() + "\"");
                }
            } else {
                throw error(at + "." + name, "expected a number");
            }
            if (v < min || v > max) {
                throw error(at + "." + name, v + " is outside " + min + ".." + max);
            }
            return v;
        }

        /**
         * A host's DH-HMAC-CHAP settings: the configfs attribute names at the host entry ({@code dhchap_key}...),
         * or nvmetcli's grouped form {@code "dhchap": {"key", "ctrl_key", "hash", "dhgroup"}}; null when it has no
         * key. A bad secret is named by its path only, never quoted.
         */
        DhchapConfig dhchap(JsonNode h, String at) throws ConfigException {
            JsonNode group = h.get("dhchap");
            String base = at;
            String prefix = "dhchap_";
            if (group != null && !group.isNull()) {
                h = object(group, at + ".dhchap");
                base = at + ".dhchap";
                prefix = "";
            }
            String key = string(h, base, prefix + "key", false);
            String ctrlKey = string(h, base, prefix + "ctrl_key", false);
            String hash = string(h, base, prefix + "hash", false);
            String dhgroup = string(h, base, prefix + "dhgroup", false);
            if (key == null || key.isBlank()) {
                if (ctrlKey != null && !ctrlKey.isBlank()) {
                    throw error(base + "." + prefix + "ctrl_key", "a controller secret needs the host's " + prefix + "key too");
                }
                return null;
            }
            DhchapKey k = secret(key, base + "." + prefix + "key");
            DhchapKey c = ctrlKey == null || ctrlKey.isBlank() ? null : secret(ctrlKey, base + "." + prefix + "ctrl_key");
            DhchapHash hf = null;
            if (hash != null && !hash.isBlank()) {
                hf = DhchapHash.parse(hash);
                if (hf == null) throw error(base + "." + prefix + "hash", "expected hmac(sha256), hmac(sha384) or hmac(sha512), got \"" + hash + "\"");
            }
            DhGroup g = null;
            if (dhgroup != null && !dhgroup.isBlank()) {
                g = DhGroup.parse(dhgroup);
                if (g == null) throw error(base + "." + prefix + "dhgroup", "expected null or ffdhe2048..ffdhe8192, got \"" + dhgroup + "\"");
            }
            return new DhchapConfig(k, c, hf, g);
        }

        private DhchapKey secret(String text, String path) throws ConfigException {
            try {
                return DhchapKey.parse(text);
            } catch (IllegalArgumentException e) {
                throw error(path, e.getMessage());
            }
        }

        /** nvmetcli writes flags as "1"/"0" strings; 1/0 and true/false are taken too. */
        boolean flag(JsonNode parent, String at, String name, boolean absent) throws ConfigException {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) {
                return absent;
            }
            if (n.isBoolean()) {
                return n.asBoolean();
            }
            String t = n.asText().strip().toLowerCase(Locale.ROOT);
            return switch (t) {
                case "1", "true", "yes", "y" -> true;
                case "0", "false", "no", "n" -> false;
                default -> throw error(at + "." + name, "expected 0 or 1, got \"" + n.asText() + "\"");
            };
        }

        String nqn(JsonNode parent, String at, String name) throws ConfigException {
            String v = string(parent, at, name, true);
            if (!Nqn.isValid(v)) {
                try {
                    Nqn.validate(v);
                } catch (IllegalArgumentException e) {
                    throw error(at + "." + name, e.getMessage());
                }
            }
            return v;
        }

        Limits limits(JsonNode n) throws ConfigException {
            if (n == null || n.isNull()) {
                return Limits.NONE;
            }
            String at = "$.sanport";
            object(n, at);
            Limits limits = new Limits(
                    n.hasNonNull("max_kato_ms") ? integer(n, at, "max_kato_ms", 1, 0xFFFFFFFFL, null) : null,
                    n.hasNonNull("discovery_kato_ms") ? integer(n, at, "discovery_kato_ms", 1, 0xFFFFFFFFL, null) : null,
                    n.hasNonNull("host_paced_buffers_percent")
                            ? (int) (long) integer(n, at, "host_paced_buffers_percent", 1, 100, null) : null,
                    n.hasNonNull("host_paced_buffers_per_controller")
                            ? (int) (long) integer(n, at, "host_paced_buffers_per_controller", 1, 65536, null) : null,
                    n.hasNonNull("host_paced_buffers_per_host")
                            ? (int) (long) integer(n, at, "host_paced_buffers_per_host", 1, 65536, null) : null,
                    n.hasNonNull("connect_timeout_ms") ? integer(n, at, "connect_timeout_ms", 1, 3_600_000, null) : null,
                    n.hasNonNull("max_pending_per_host")
                            ? (int) (long) integer(n, at, "max_pending_per_host", 1, 65536, null) : null);
            try {
                limits.applyTo(TargetOptions.DEFAULT);
            } catch (IllegalArgumentException e) {
                throw error(at, e.getMessage());
            }
            return limits;
        }

        PortConfig port(JsonNode n, String at) throws ConfigException {
            object(n, at);
            int portId = (int) integer(n, at, "portid", 0, 0xFFFF, null);
            JsonNode addr = object(n.get("addr"), at + ".addr");
            String a = at + ".addr";
            Address ad = address(addr, a);
            String trtype = ad.trtype(), adrfam = ad.adrfam(), traddr = ad.traddr(), trsvcid = ad.trsvcid();
            List<String> subsystems = new ArrayList<>();
            JsonNode s = array(n, at, "subsystems");
            for (int i = 0; i < s.size(); i++) {
                if (!s.get(i).isTextual()) {
                    throw error(at + ".subsystems[" + i + "]", "expected a subsystem NQN");
                }
                subsystems.add(s.get(i).asText());
            }
            List<AnaGroupConfig> groups = new ArrayList<>();
            JsonNode g = array(n, at, "ana_groups");
            for (int i = 0; i < g.size(); i++) {
                String ga = at + ".ana_groups[" + i + "]";
                object(g.get(i), ga);
                int grpid = (int) integer(g.get(i), ga, "grpid", 1, AnaGroup.MAX_GRPID, null);
                JsonNode ana = object(g.get(i).get("ana"), ga + ".ana");
                String name = string(ana, ga + ".ana", "state", true);
                AnaState state = AnaState.parse(name);
                if (state == null) {
                    throw error(ga + ".ana.state", "\"" + name + "\" is not an ANA state (" + AnaState.names() + ")");
                }
                groups.add(new AnaGroupConfig(grpid, state));
            }
            List<ReferralConfig> referrals = new ArrayList<>();
            JsonNode r = array(n, at, "referrals");
            for (int i = 0; i < r.size(); i++) {
                referrals.add(referral(r.get(i), at + ".referrals[" + i + "]"));
            }
            return new PortConfig(portId, trtype, adrfam, traddr, trsvcid, subsystems, groups, referrals,
                    tls(addr, a, trtype));
        }

        ReferralConfig referral(JsonNode n, String at) throws ConfigException {
            object(n, at);
            String a = at + ".addr";
            JsonNode addr = object(n.get("addr"), a);
            Address ad = address(addr, a);
            // nvmetcli keeps the referral's portid among its addr attributes (addr_portid); a top-level one is taken too
            int portId = addr.hasNonNull("portid") ? (int) integer(addr, a, "portid", 0, 0xFFFF, null)
                    : (int) integer(n, at, "portid", 0, 0xFFFF, 0L);
            return new ReferralConfig(portId, ad.trtype(), ad.adrfam(), ad.traddr(), ad.trsvcid());
        }

        private record Address(String trtype, String adrfam, String traddr, String trsvcid) {}

        /** A port's or a referral's {@code addr}: the transport, the address family and literal, the TCP port. */
        Address address(JsonNode addr, String a) throws ConfigException {
            String trtype = string(addr, a, "trtype", true).toLowerCase(Locale.ROOT);
            if (Transports.find(trtype) == null && !List.of("tcp", "rdma", "loop", "fc").contains(trtype)) {
                throw error(a + ".trtype", "unknown transport \"" + trtype + "\" (known: tcp, rdma)");
            }
            String traddr = string(addr, a, "traddr", true);
            String adrfam = string(addr, a, "adrfam", false);
            adrfam = adrfam == null || adrfam.isEmpty() ? (traddr.contains(":") ? "ipv6" : "ipv4")
                    : adrfam.toLowerCase(Locale.ROOT);
            if (!adrfam.equals("ipv4") && !adrfam.equals("ipv6")) {
                throw error(a + ".adrfam", "expected ipv4 or ipv6, got \"" + adrfam + "\"");
            }
            if (!isLiteral(traddr, adrfam)) {
                throw error(a + ".traddr", "\"" + traddr + "\" is not an " + adrfam + " address");
            }
            String trsvcid = string(addr, a, "trsvcid", true).strip();
            if (!trsvcid.matches("[0-9]{1,5}") || Integer.parseInt(trsvcid) > 65535) {
                throw error(a + ".trsvcid", "expected a TCP port number 0..65535, got \"" + trsvcid + "\"");
            }
            return new Address(trtype, adrfam, traddr, trsvcid);
        }

        /** nvmetcli's addr_tsas / addr_treq (also without the addr_ prefix inside "addr"). */
        PortTls tls(JsonNode addr, String a, String trtype) throws ConfigException {
            String tsas = string(addr, a, addr.has("tsas") ? "tsas" : "addr_tsas", false);
            String treq = string(addr, a, addr.has("treq") ? "treq" : "addr_treq", false);
            if (tsas == null || tsas.isBlank() || tsas.equalsIgnoreCase("none")) {
                return PortTls.NONE;
            }
            if (!tsas.equalsIgnoreCase("tls1.3")) {
                throw error(a + ".tsas", "expected none or tls1.3, got \"" + tsas + "\"");
            }
            if (!trtype.equals("tcp")) {
                throw error(a + ".tsas", "TLS is for tcp ports only");
            }
            if (treq == null || treq.isBlank() || treq.equalsIgnoreCase("required")
                    || treq.equalsIgnoreCase("not specified")) {
                return PortTls.REQUIRED;
            }
            if (treq.equalsIgnoreCase("not required")) {
                return PortTls.NOT_REQUIRED;
            }
            throw error(a + ".treq", "expected required, not required or not specified, got \"" + treq + "\"");
        }

        /**
         * A host's configured TLS PSK ({@code tls_key}, the interchange format of {@code nvme gen-tls-key}) and how
         * the TLS PSK is derived from it ({@code tls_key_derivation}: compat, the default, as nvme-cli before 2.16
         * and {@code --compat} insert it; rfc8446, as nvme-cli 2.16 and later do by default).
         */
        TlsKey tlsKey(JsonNode h, String at) throws ConfigException {
            String text = string(h, at, "tls_key", false);
            String derivation = string(h, at, "tls_key_derivation", false);
            if (text == null || text.isBlank()) {
                if (derivation != null) {
                    throw error(at + ".tls_key_derivation", "needs a tls_key");
                }
                return null;
            }
            TlsKey key;
            try {
                key = TlsKey.parse(text);
            } catch (IllegalArgumentException e) {
                throw error(at + ".tls_key", e.getMessage());
            }
            try {
                return derivation == null ? key : key.withDerivation(TlsKey.Derivation.of(derivation));
            } catch (IllegalArgumentException e) {
                throw error(at + ".tls_key_derivation", e.getMessage());
            }
        }

        SubsystemConfig subsystem(JsonNode n, String at) throws ConfigException {
            object(n, at);
            String nqn = nqn(n, at, "nqn");
            JsonNode attr = n.get("attr");
            boolean allowAny = false;
            boolean dhchapRequired = false;
            String serial = null;
            String model = null;
            int cntlidMin = Subsystem.CNTLID_MIN;
            int cntlidMax = Subsystem.CNTLID_MAX;
            if (attr != null && !attr.isNull()) {
                object(attr, at + ".attr");
                allowAny = flag(attr, at + ".attr", "allow_any_host", false);
                serial = string(attr, at + ".attr", "serial", false);
                model = string(attr, at + ".attr", "model", false);
                dhchapRequired = flag(attr, at + ".attr", "dhchap_required", false);
                cntlidMin = (int) integer(attr, at + ".attr", "cntlid_min", Subsystem.CNTLID_MIN, Subsystem.CNTLID_MAX,
                        (long) Subsystem.CNTLID_MIN);
                cntlidMax = (int) integer(attr, at + ".attr", "cntlid_max", Subsystem.CNTLID_MIN, Subsystem.CNTLID_MAX,
                        (long) Subsystem.CNTLID_MAX);
                if (cntlidMax < cntlidMin) {
                    throw error(at + ".attr.cntlid_max", cntlidMax + " is below cntlid_min " + cntlidMin);
                }
            }
            if (serial == null || serial.isEmpty()) {
                serial = defaultSerial(nqn);
            }
            if (!ascii(serial, 20)) {
                throw error(at + ".attr.serial", "must be 1..20 printable ASCII characters");
            }
            if (model == null || model.isEmpty()) {
                model = "sanport";
            }
            if (!ascii(model, 40)) {
                throw error(at + ".attr.model", "must be 1..40 printable ASCII characters");
            }
            List<String> allowed = new ArrayList<>();
            JsonNode hosts = array(n, at, "allowed_hosts");
            for (int i = 0; i < hosts.size(); i++) {
                String h = hosts.get(i).asText();
                if (!hosts.get(i).isTextual() || !Nqn.isValid(h)) {
                    throw error(at + ".allowed_hosts[" + i + "]", "expected a host NQN, got " + hosts.get(i));
                }
                allowed.add(h);
            }
            List<NamespaceConfig> namespaces = new ArrayList<>();
            JsonNode ns = array(n, at, "namespaces");
            for (int i = 0; i < ns.size(); i++) {
                namespaces.add(namespace(ns.get(i), at + ".namespaces[" + i + "]"));
            }
            return new SubsystemConfig(nqn, allowAny, allowed, serial, model, namespaces, cntlidMin, cntlidMax,
                    dhchapRequired);
        }

        NamespaceConfig namespace(JsonNode n, String at) throws ConfigException {
            object(n, at);
            int nsid = (int) integer(n, at, "nsid", 1, 0xFFFFFFFEL, null);
            boolean enabled = flag(n, at, "enable", true);
            int anaGrpId = (int) integer(n, at, "ana_grpid", 1, AnaGroup.MAX_GRPID, (long) AnaGroup.DEFAULT_GRPID);
            JsonNode device = object(n.get("device"), at + ".device");
            String d = at + ".device";
            String path = string(device, d, "path", true);
            if (path.isBlank()) {
                throw error(d + ".path", "empty");
            }
            UUID uuid = null;
            String u = string(device, d, "uuid", false);
            if (u != null && !u.isBlank()) {
                try {
                    uuid = UUID.fromString(u.strip());
                } catch (IllegalArgumentException e) {
                    throw error(d + ".uuid", "\"" + u + "\" is not a UUID");
                }
            }
            String nguid = string(device, d, "nguid", false);
            if (nguid != null && !nguid.isBlank()) {
                String hex = nguid.replace("-", "").strip();
                if (hex.length() != 32 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    throw error(d + ".nguid", "\"" + nguid + "\" is not 16 bytes of hex");
                }
                nguid = hex.toLowerCase(Locale.ROOT);
            } else {
                nguid = null;
            }
            boolean shared = flag(device, d, "shared", false);
            boolean buffered = flag(device, d, "buffered_io", false);
            return new NamespaceConfig(nsid, enabled, path, uuid, nguid, anaGrpId, shared, buffered);
        }

        static boolean ascii(String s, int max) {
            return !s.isEmpty() && s.length() <= max && s.chars().allMatch(c -> c >= 0x20 && c < 0x7F);
        }

        static boolean isLiteral(String addr, String adrfam) {
            if (adrfam.equals("ipv4")) {
                String[] parts = addr.split("\\.", -1);
                if (parts.length != 4) {
                    return false;
                }
                for (String p : parts) {
                    try {
                        int v = Integer.parseInt(p);
                        if (v < 0 || v > 255 || p.isEmpty() || p.length() > 3) {
                            return false;
                        }
                    } catch (NumberFormatException e) {
                        return false;
                    }
                }
                return true;
            }
            if (!addr.contains(":") || !addr.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                return false;
            }
            try {
                InetAddress.getByName(addr); // a literal: no lookup happens
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** The NGUID bytes of a namespace config value (32 hex digits). */
    static byte[] nguidBytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }
}
