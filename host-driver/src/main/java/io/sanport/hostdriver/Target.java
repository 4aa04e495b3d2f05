package io.sanport.hostdriver;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.IoRequest;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.tls.TlsKey;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The NVMe-oF target: subsystems with their namespaces, ports listening through their transports, the
 * well-known discovery subsystem, and the controllers hosts create. The model can be changed while it runs
 * (subsystems, namespaces, ports, port links, allowed hosts; one change at a time, from any thread, see
 * {@link #apply} and the methods next to it): what a change does not touch keeps running, hosts learn of new
 * and removed namespaces through an AER, and discovery hosts through the log's generation counter and an AER.
 *
 * <pre>{@code
 * try (IoProcessor iop = IoProcessor.start(2, ReactorConfig.DEFAULT, devices);
 *      Target target = Target.start(TargetConfig.load(file), iop)) { ... }
 * }</pre>
 */
public final class Target implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("sanport.target");

    private final TargetOptions options;
    private final Subsystem discovery;
    private volatile Map<String, Subsystem> subsystems; // copy-on-write, replaced under reconfigure
    private volatile List<Port> ports;                  // likewise
    private final Object reconfigure = new Object();    // one model change at a time
    private volatile TargetConfig running;                     // the configuration the model is; under reconfigure
    private final List<Namespace> pending = new ArrayList<>(); // made by a reload, not in a subsystem yet
    private final java.util.concurrent.atomic.AtomicLong genctr = new java.util.concurrent.atomic.AtomicLong(1);
    // the ANA log's CHGCNT: one more for every ANA state change of any port (nvmet nvmet_ana_chgcnt)
    private final java.util.concurrent.atomic.AtomicLong anaChgcnt = new java.util.concurrent.atomic.AtomicLong();
    private final List<ReactorContext> reactors;
    private final ConnectionManager connections;
    private final TargetStats stats;
    private final List<IoProcessor> processors;
    private final ScheduledExecutorService keepAlive;
    private final int maxTransfer;
    private final int mdts;
    private volatile boolean closed;
    private AutoCloseable owned;

    private Target(TargetConfig config, TargetOptions options, List<IoProcessor> processors) throws IOException {
        this.options = config.limits().applyTo(options); // the config file's knobs win
        this.processors = List.copyOf(processors);
        List<ReactorContext> contexts = new ArrayList<>();
        int smallest = Integer.MAX_VALUE;
        for (int p = 0; p < processors.size(); p++) {
            for (Reactor r : processors.get(p).reactors()) {
                ReactorContext ctx = new ReactorContext(r, p, contexts.size(), this.options);
                contexts.add(ctx);
                smallest = Math.min(smallest, r.config().bufferSize());
            }
        }
        if (contexts.isEmpty()) {
            throw new IllegalArgumentException("a target needs at least one I/O processor with a reactor");
        }
        this.reactors = List.copyOf(contexts);
        this.connections = new ConnectionManager(this, contexts);
        this.stats = new TargetStats(contexts);
        int transfer = Integer.highestOneBit(smallest);
        if (transfer < 4096) {
            throw new IllegalArgumentException("reactor buffers of " + smallest + " bytes are smaller than 4 KiB");
        }
        this.maxTransfer = transfer;
        this.mdts = Integer.numberOfTrailingZeros(transfer / 4096);
        this.discovery = new Subsystem(Nqn.DISCOVERY, Subsystem.Type.DISCOVERY, "sanport-discovery",
                "sanport discovery", true, Set.of(), Map.of());
        this.subsystems = buildSubsystems(config);
        this.ports = buildPorts(config);
        this.running = config;
        for (Subsystem s : subsystems.values()) {
            for (Namespace ns : s.namespaces().values()) {
                stats.register(s.nqn(), ns);
            }
        }
        for (Port p : ports) {
            stats.register(p);
        }
        this.keepAlive = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sanport-keepalive");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts a target on I/O processors the caller owns and that have every namespace's device open. */
    public static Target start(TargetConfig config, IoProcessor... processors) throws IOException {
        return start(config, TargetOptions.DEFAULT, processors);
    }

    public static Target start(TargetConfig config, TargetOptions options, IoProcessor... processors) throws IOException {
        Target t = new Target(config, options, List.of(processors));
        try {
            t.listen();
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
        long tick = options.keepAliveTickMillis();
        t.keepAlive.scheduleAtFixedRate(t::checkKeepAlive, tick, tick, TimeUnit.MILLISECONDS);
        return t;
    }

    /**
     * Opens the devices the config names, starts an I/O processor of {@code reactors} reactors on them and a
     * target on it; closing the target closes both (what {@code sanport serve --config} needs).
     */
    public static Target open(TargetConfig config, int reactors, ReactorConfig reactorConfig, TargetOptions options)
            throws IOException {
        List<BlockDevice> devices = new ArrayList<>();
        try {
            for (String path : config.devicePaths()) {
                devices.add(openDevice(path, config.sharedDevice(path), config.bufferedDevice(path)));
            }
        } catch (IOException | RuntimeException e) {
            for (BlockDevice d : devices) {
                try {
                    d.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        IoProcessor iop = IoProcessor.start(reactors, reactorConfig, devices);
        try {
            Target t = start(config, options, iop);
            t.owned = iop;
            return t;
        } catch (IOException | RuntimeException e) {
            iop.close();
            throw e;
        }
    }

    /**
     * Opens a namespace's device: through the page cache when {@code buffered} (nvmet's buffered_io), else
     * O_DIRECT; a shared one without O_EXCL, with a warning nobody can miss.
     */
    private static BlockDevice openDevice(String path, boolean shared, boolean buffered) throws IOException {
        io.sanport.iop.OpenOptions options = buffered ? io.sanport.iop.OpenOptions.DEFAULT.buffered()
                : io.sanport.iop.OpenOptions.DEFAULT;
        if (!shared) {
            return BlockDevices.open(path, options);
        }
        LOG.log(System.Logger.Level.WARNING, "SHARED DEVICE: opening " + path + " without exclusive access, so that"
                + " another sanport process can serve it as a second path. Nothing stops a third program (a mount,"
                + " another target) from writing to it too: only the processes serving this one subsystem may use it");
        return BlockDevices.open(path, options.sharing());
    }

    private Map<String, Subsystem> buildSubsystems(TargetConfig config) throws IOException {
        Map<String, Subsystem> map = new LinkedHashMap<>();
        for (int i = 0; i < config.subsystems().size(); i++) {
            TargetConfig.SubsystemConfig sc = config.subsystems().get(i);
            map.put(sc.nqn(), newSubsystem(sc, "$.subsystems[" + i + "]", null));
        }
        return java.util.Collections.unmodifiableMap(map);
    }

    /**
     * The subsystem {@code sc} describes with its namespaces. With {@code opened} null (start) every device must be
     * open in the processors already; otherwise a device not open yet is opened and added to every processor,
     * and recorded in {@code opened} for {@link #release} when a later step fails.
     */
    private Subsystem newSubsystem(TargetConfig.SubsystemConfig sc, String at, List<int[]> opened) throws IOException {
        Map<Integer, Namespace> namespaces = new HashMap<>();
        for (int j = 0; j < sc.namespaces().size(); j++) {
            Namespace ns = newNamespace(sc.nqn(), sc.namespaces().get(j), at + ".namespaces[" + j + "]", opened);
            if (ns != null) {
                namespaces.put(ns.nsid(), ns);
            }
        }
        return new Subsystem(sc.nqn(), Subsystem.Type.NVM, sc.serial(), sc.model(), sc.allowAnyHost(),
                Set.copyOf(sc.allowedHosts()), namespaces, sc.cntlidMin(), sc.cntlidMax());
    }

    /** One namespace (see {@link #newSubsystem}); null for a disabled one whose device is not there. */
    private Namespace newNamespace(String subnqn, TargetConfig.NamespaceConfig nc, String nsAt, List<int[]> opened)
            throws IOException {
        String at = nsAt + ".device.path";
        int[] index = new int[processors.size()];
        BlockDevice device = null;
        List<int[]> mine = new ArrayList<>();
        try {
            for (int p = 0; p < processors.size(); p++) {
                // at start the devices were opened for the config (or by the caller: export --buffered); on a
                // change the open device must also be in the mode the namespace asks for
                index[p] = indexOf(processors.get(p), nc.path(), opened == null ? null : !nc.bufferedIo());
                if (index[p] < 0 && opened != null) {
                    BlockDevice d;
                    try {
                        d = openDevice(nc.path(), nc.shared(), nc.bufferedIo());
                    } catch (IOException | RuntimeException e) {
                        if (!nc.enabled()) {
                            release(mine);
                            return null;
                        }
                        throw new ConfigException(null, at, "cannot open " + nc.path() + ": " + e.getMessage());
                    }
                    try {
                        index[p] = processors.get(p).addDevice(d);
                    } catch (IOException | RuntimeException e) {
                        d.close();
                        throw new ConfigException(null, at, nc.path() + ": " + e.getMessage());
                    }
                    mine.add(new int[] {p, index[p]});
                }
                if (index[p] < 0) {
                    device = null;
                    break;
                }
                if (p == 0) {
                    device = processors.get(p).devices().get(index[p]);
                }
            }
            if (device == null) {
                if (!nc.enabled()) {
                    return null;
                }
                throw new ConfigException(null, at, nc.path() + " is not open in the I/O processor"
                        + (processors.size() > 1 ? "s" : "") + " (open it with the devices you start them with)");
            }
            if (nc.bufferedIo() && !device.pageCacheChoice()) {
                throw noPageCache(nsAt, nc, device);
            }
            if (Integer.bitCount(device.logicalBlockSize()) != 1 || device.logicalBlockSize() > 4096
                    || device.logicalBlockSize() < 512) {
                throw new ConfigException(null, at, nc.path() + " has a logical block size of "
                        + device.logicalBlockSize() + " bytes; NVMe-oF hosts take 512..4096");
            }
        } catch (IOException | RuntimeException e) {
            release(mine);
            throw e;
        }
        if (opened != null) {
            opened.addAll(mine);
        }
        UUID uuid = nc.uuid() != null ? nc.uuid()
                : UUID.nameUUIDFromBytes((subnqn + "/" + Integer.toUnsignedString(nc.nsid())).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        byte[] nguid;
        if (nc.nguid() != null) {
            nguid = TargetConfig.nguidBytes(nc.nguid());
        } else {
            nguid = new byte[16];
            io.sanport.nvme.Wire.setUuid(MemorySegment.ofArray(nguid), 0, uuid);
        }
        Namespace ns = new Namespace(nc.nsid(), uuid, nguid, device, index, nc.enabled(), nc.path(), nc.anaGrpId());
        stats.register(subnqn, ns);
        return ns;
    }

    /** The slot of the device open on {@code path} in {@code p} (with O_DIRECT or not, when {@code direct} says), or -1. */
    private static int indexOf(IoProcessor p, String path, Boolean direct) {
        List<BlockDevice> devices = p.devices();
        for (int i = 0; i < devices.size(); i++) {
            if (devices.get(i) != null && devices.get(i).name().equals(path) && inMode(devices.get(i), direct)) {
                return i;
            }
        }
        if (path.startsWith("ram:")) {
            return -1;
        }
        Path wanted = Path.of(path).toAbsolutePath().normalize();
        for (int i = 0; i < devices.size(); i++) {
            String name = devices.get(i) == null ? "ram:" : devices.get(i).name();
            if (!name.startsWith("ram:") && Path.of(name).toAbsolutePath().normalize().equals(wanted)
                    && inMode(devices.get(i), direct)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether {@code d} is open as asked: any mode (null), O_DIRECT, or through the page cache (files, block
     * devices); as asked, not as got: a file on tmpfs asked O_DIRECT for is the same fd for every such namespace.
     */
    private static boolean inMode(BlockDevice d, Boolean direct) {
        return direct == null || !d.pageCacheChoice() || d.directRequested() == direct;
    }

    private static ConfigException noPageCache(String nsAt, TargetConfig.NamespaceConfig nc, BlockDevice d) {
        return new ConfigException(null, nsAt + ".device.buffered_io", nc.path() + " is a " + d.kind()
                + " device, which has no page cache to go through or around: buffered_io must be 0");
    }

    private List<Port> buildPorts(TargetConfig config) throws ConfigException {
        List<Port> list = new ArrayList<>();
        int maxId = 0;
        for (int i = 0; i < config.ports().size(); i++) {
            TargetConfig.PortConfig pc = config.ports().get(i);
            RemoteTransport transport = Transports.find(pc.trtype());
            if (transport == null) {
                throw new ConfigException(null, "$.ports[" + i + "].addr.trtype", "no " + pc.trtype()
                        + " transport on the class path (found: " + String.join(", ", Transports.types()) + ")");
            }
            List<Subsystem> exported = pc.subsystems().stream().map(subsystems::get).toList();
            Port port = new Port(pc.portId(), transport, pc.adrfam(), pc.traddr(), pc.trsvcid(), exported, false, pc.tls());
            configurePaths(port, pc);
            list.add(port);
            maxId = Math.max(maxId, pc.portId());
        }
        if (options.discoveryPort() > 0) {
            String want = Integer.toString(options.discoveryPort());
            List<Port> extra = new ArrayList<>();
            for (Port p : list) {
                if (!p.transport().dedicatedDiscoveryPort()) {
                    continue;
                }
                boolean has = list.stream().anyMatch(o -> o.transport() == p.transport()
                        && o.traddr().equals(p.traddr()) && o.trsvcid().equals(want))
                        || extra.stream().anyMatch(o -> o.traddr().equals(p.traddr()));
                if (!has) {
                    extra.add(new Port(++maxId, p.transport(), p.adrfam(), p.traddr(), want, List.of(), true));
                }
            }
            list.addAll(extra);
        }
        return List.copyOf(list);
    }

    /** The port's ANA group states and referrals as {@code pc} says (at creation: no host to tell yet). */
    private static void configurePaths(Port port, TargetConfig.PortConfig pc) {
        for (TargetConfig.AnaGroupConfig g : pc.anaGroups()) {
            port.anaState(g.grpid(), g.state(), 0);
        }
        port.referrals(pc.referrals());
    }

    private void listen() throws IOException {
        for (Port p : ports) {
            try {
                p.listener(p.transport().listen(p, this));
                LOG.log(System.Logger.Level.INFO, "listening on " + p);
            } catch (IOException e) {
                throw new IOException("cannot listen on " + p.transport().type() + " " + p.traddr() + ":"
                        + p.trsvcid() + " (port " + p.portId() + "): " + e.getMessage(), e);
            }
        }
    }

    // ---------------------------------------------------------------- for transports

    /** The Connection Manager: reactors, queue pairs, admission, memory registrations. */
    public ConnectionManager connections() {
        return connections;
    }

    /** Every reactor of every I/O processor. */
    public List<Reactor> reactors() {
        return connections.reactors();
    }

    /** The knobs it was started with (connection limits among them). */
    public TargetOptions options() {
        return options;
    }

    /** The reactor the next connection goes to ({@link ConnectionManager#nextReactor}). */
    public Reactor nextReactor() {
        return connections.nextReactor();
    }

    /** A queue pair for a new connection ({@link ConnectionManager#newQueue}); call on {@code reactor}'s thread. */
    public QueuePair newQueue(Port port, Reactor reactor, RemoteQueue transport) {
        return connections.newQueue(port, reactor, transport);
    }

    /** {@code reactor}'s pool registrations ({@link ConnectionManager#memory}). */
    public MemoryRegistry memory(Reactor reactor) {
        return connections.memory(reactor);
    }

    /** How many reactor contexts there are (a controller counts its host-paced buffers per reactor). */
    int reactorCount() {
        return reactors.size();
    }

    /** How many requests had to wait for a pool buffer, over all reactors (read racily: for tests and stats). */
    public long bufferWaits() {
        return connections.bufferWaits();
    }

    /** The I/O, connection and reactor statistics ({@link TargetStats#snapshot()}). */
    public TargetStats stats() {
        return stats;
    }

    /** The largest data transfer of one command: the pool buffer size, a power of two (MDTS). */
    public int maxTransfer() {
        return maxTransfer;
    }

    /** Identify MDTS: log2(maxTransfer / 4 KiB). */
    public int mdts() {
        return mdts;
    }

    // ---------------------------------------------------------------- model

    public List<Port> ports() {
        return ports;
    }

    public Port port(int portId) {
        return ports.stream().filter(p -> p.portId() == portId).findFirst().orElse(null);
    }

    public Subsystem subsystem(String nqn) {
        return Nqn.isDiscovery(nqn) ? discovery : subsystems.get(nqn);
    }

    public List<Subsystem> subsystems() {
        return List.copyOf(subsystems.values());
    }

    public Subsystem discoverySubsystem() {
        return discovery;
    }

    /** The subsystem a Connect on {@code port} may reach: one the port exports, or discovery (every port). */
    Subsystem subsystemFor(String nqn, Port port) {
        Subsystem s = subsystem(nqn);
        if (s == null || (!s.isDiscovery() && !port.exports(s))) {
            return null;
        }
        return s;
    }

    /** The discovery log for {@code c}'s host: itself on this port, then every port x subsystem it may reach. */
    MemorySegment discoveryLog(Controller c, QueuePair q, Arena arena) {
        List<Object[]> entries = new ArrayList<>();
        entries.add(new Object[] {q.port, discovery, DiscoveryLogEntry.SUBTYPE_CURRENT_DISCOVERY});
        for (Port p : ports) {
            for (Subsystem s : p.subsystems()) {
                if (s.allows(c.hostnqn())) {
                    entries.add(new Object[] {p, s, DiscoveryLogEntry.SUBTYPE_NVME});
                }
            }
        }
        List<TargetConfig.ReferralConfig> referrals = q.port.referrals(); // as nvmet: the port the host asked through
        MemorySegment log = arena.allocate(DiscoveryLogPage.length(entries.size() + referrals.size()));
        for (int i = 0; i < referrals.size(); i++) {
            TargetConfig.ReferralConfig ref = referrals.get(i);
            MemorySegment e = log.asSlice(DiscoveryLogPage.entryOffset(entries.size() + i), DiscoveryLogPage.ENTRY_SIZE);
            DiscoveryLogEntry.trtype(e, Transports.trtypeCode(ref.trtype()));
            DiscoveryLogEntry.adrfam(e, ref.adrfam().equals("ipv6") ? DiscoveryLogEntry.ADRFAM_IPV6 : DiscoveryLogEntry.ADRFAM_IPV4);
            DiscoveryLogEntry.subtype(e, DiscoveryLogEntry.SUBTYPE_REFERRAL);
            DiscoveryLogEntry.treq(e, DiscoveryLogEntry.TREQ_DISABLE_SQFLOW);
            DiscoveryLogEntry.portid(e, ref.portId());
            DiscoveryLogEntry.cntlid(e, DiscoveryLogEntry.CNTLID_DYNAMIC);
            DiscoveryLogEntry.asqsz(e, Controller.ADMIN_QUEUE_DEPTH);
            DiscoveryLogEntry.trsvcid(e, ref.trsvcid());
            DiscoveryLogEntry.subnqn(e, Nqn.DISCOVERY);
            DiscoveryLogEntry.traddr(e, ref.traddr());
        }
        int total = entries.size() + referrals.size();
        DiscoveryLogPage.genctr(log, genctr.get());
        DiscoveryLogPage.numrec(log, total);
        DiscoveryLogPage.recfmt(log, 0);
        for (int i = 0; i < entries.size(); i++) {
            Port p = (Port) entries.get(i)[0];
            Subsystem s = (Subsystem) entries.get(i)[1];
            MemorySegment e = log.asSlice(DiscoveryLogPage.entryOffset(i), DiscoveryLogPage.ENTRY_SIZE);
            DiscoveryLogEntry.trtype(e, p.transport().trtype());
            DiscoveryLogEntry.adrfam(e, p.adrfam().equals("ipv6") ? DiscoveryLogEntry.ADRFAM_IPV6 : DiscoveryLogEntry.ADRFAM_IPV4);
            DiscoveryLogEntry.subtype(e, (Integer) entries.get(i)[2]);
            // bits 1:0: the secure channel (TLS) the port requires or offers, as nvmet's addr_treq; bit 2: SQ flow
            // control may be disabled. TSAS: sectype TLS 1.3 where TLS is offered
            int secure = switch (p.tls()) {
                case NONE -> DiscoveryLogEntry.TREQ_NOT_SPECIFIED;
                case NOT_REQUIRED -> DiscoveryLogEntry.TREQ_NOT_REQUIRED;
                case REQUIRED -> DiscoveryLogEntry.TREQ_REQUIRED;
            };
            DiscoveryLogEntry.treq(e, DiscoveryLogEntry.TREQ_DISABLE_SQFLOW | secure);
            if (p.tls().offered()) {
                DiscoveryLogEntry.tcpSectype(e, DiscoveryLogEntry.TCP_SECTYPE_TLS13);
            }
            DiscoveryLogEntry.portid(e, p.portId());
            DiscoveryLogEntry.cntlid(e, DiscoveryLogEntry.CNTLID_DYNAMIC);
            DiscoveryLogEntry.asqsz(e, Controller.ADMIN_QUEUE_DEPTH);
            DiscoveryLogEntry.trsvcid(e, Integer.toString(p.boundPort()));
            DiscoveryLogEntry.subnqn(e, s.nqn());
            DiscoveryLogEntry.traddr(e, p.wildcard() ? q.transport.localAddress() : p.traddr());
        }
        return log;
    }

    // ---------------------------------------------------------------- live reconfiguration

    /*
     * Each change below runs under one lock (one change at a time; the I/O path never takes it), checks everything
     * it can before it touches anything, then changes the model copy-on-write (hosts' commands read the old or the
     * new map, never a half-made one) and keeps config() in step. A refused change throws ConfigException (JSON
     * path + problem) or IllegalArgumentException and leaves the target as it was.
     */

    /**
     * The configuration the running model is: the start one with every change since applied. Lock-free (a volatile
     * read): the Connect path reads host settings (DH-HMAC-CHAP secrets) here on a reactor thread.
     */
    public TargetConfig config() {
        return running;
    }

    /** The discovery log's generation counter: starts at 1, one more for every change hosts may see. */
    public long discoveryGeneration() {
        return genctr.get();
    }

    /** Adds an NVM subsystem, opening its namespaces' devices; no port exports it until linked. */
    public void addSubsystem(TargetConfig.SubsystemConfig sc) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            if (subsystem(sc.nqn()) != null || running.subsystems().stream().anyMatch(x -> x.nqn().equals(sc.nqn()))) {
                throw new IllegalArgumentException("subsystem " + sc.nqn() + " exists already");
            }
            TargetConfig next = withHosts(running.withSubsystem(sc), sc.allowedHosts());
            String at = checked(next, "$.subsystems[" + (next.subsystems().size() - 1) + "]");
            List<int[]> opened = new ArrayList<>();
            Subsystem s;
            try {
                s = newSubsystem(sc, at, opened);
            } catch (IOException | RuntimeException e) {
                release(opened);
                throw e;
            }
            putSubsystem(s);
            running = next;
            changed("added subsystem " + sc.nqn());
        }
    }

    /**
     * Removes a subsystem: every port stops exporting it, its controllers are torn down (their I/O in flight
     * completes first), its namespaces' devices are drained and closed.
     */
    public void removeSubsystem(String nqn) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(nqn);
            try {
                dropSubsystem(s); // throws only after the subsystem is gone: a device that would not close
            } finally {
                running = running.withoutSubsystem(nqn);
                changed("removed subsystem " + nqn);
            }
        }
    }

    /**
     * Adds a namespace to a running subsystem: opens its device (unless the processors have it open already),
     * registers it with every reactor, then makes it visible; every controller of the subsystem gets the
     * Namespace Attribute Changed event and the NSID in its Changed Namespace List.
     */
    public void addNamespace(String subnqn, TargetConfig.NamespaceConfig nc) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(subnqn);
            int i = indexOfSubsystem(running, subnqn);
            // the configuration, not the model: a namespace disabled at start without its device is only there
            if (running.subsystems().get(i).namespaces().stream().anyMatch(n -> n.nsid() == nc.nsid())) {
                throw new ConfigException(null, "$.subsystems[" + i + "].namespaces", subnqn
                        + " already has namespace " + Integer.toUnsignedString(nc.nsid()));
            }
            TargetConfig next = running.withNamespace(subnqn, nc);
            checked(next, "$.subsystems[" + i + "]");
            String at = "$.subsystems[" + i + "].namespaces[" + (next.subsystems().get(i).namespaces().size() - 1) + "]";
            Namespace ns = newNamespace(subnqn, nc, at, new ArrayList<>());
            if (ns != null) {
                s.addNamespace(ns);
            }
            running = next;
            changed("added namespace " + Integer.toUnsignedString(nc.nsid()) + " (" + nc.path() + ") to " + subnqn);
        }
    }

    /**
     * Removes a namespace: from now on commands for it complete with Invalid Namespace; those already on their way
     * to the device complete (with their result, or Invalid Namespace if they had not reached it yet); once they
     * have, its device is closed, unless another namespace uses it. Every controller of the subsystem hears of it
     * as for {@link #addNamespace}. Returns once the device is drained.
     */
    public void removeNamespace(String subnqn, int nsid) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(subnqn);
            boolean configured = running.subsystems().get(indexOfSubsystem(running, subnqn)).namespaces().stream()
                    .anyMatch(n -> n.nsid() == nsid);
            if (!configured) {
                throw new IllegalArgumentException(subnqn + " has no namespace " + Integer.toUnsignedString(nsid));
            }
            try {
                if (s.namespaces().containsKey(nsid)) {
                    Namespace ns = s.removeNamespace(nsid);
                    releaseDevices(ns); // throws only after the namespace is gone: a device that would not close
                }
            } finally {
                running = running.withoutNamespace(subnqn, nsid);
                changed("removed namespace " + Integer.toUnsignedString(nsid) + " from " + subnqn);
            }
        }
    }

    /**
     * Enables or disables a namespace ({@link Subsystem#setNamespaceEnabled}): its device stays open; the
     * controllers hear of it.
     */
    public void setNamespaceEnabled(String subnqn, int nsid, boolean enabled) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(subnqn);
            TargetConfig.SubsystemConfig sc = running.subsystems().get(indexOfSubsystem(running, subnqn));
            TargetConfig.NamespaceConfig nc = sc.namespaces().stream().filter(n -> n.nsid() == nsid).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(subnqn + " has no namespace "
                            + Integer.toUnsignedString(nsid)));
            TargetConfig.NamespaceConfig changedNs = nc.withEnabled(enabled);
            if (!s.namespaces().containsKey(nsid)) {
                // disabled at start with its device absent: enabling it opens the device now
                running = running.withoutNamespace(subnqn, nsid);
                try {
                    addNamespace(subnqn, changedNs);
                } catch (IOException | RuntimeException e) {
                    running = running.withNamespace(subnqn, nc);
                    throw e;
                }
                return;
            }
            s.setNamespaceEnabled(nsid, enabled);
            running = running.withoutNamespace(subnqn, nsid).withNamespace(subnqn, changedNs);
        }
    }

    /** Lets {@code hostnqn} connect to the subsystem (from its next Connect). */
    public void addAllowedHost(String subnqn, String hostnqn) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(subnqn);
            Nqn.validate(hostnqn);
            Set<String> hosts = new java.util.LinkedHashSet<>(s.allowedHosts());
            if (!hosts.add(hostnqn)) {
                return;
            }
            setHosts(s, hosts);
            changed("allowed host " + hostnqn + " on " + subnqn);
        }
    }

    /**
     * Stops {@code hostnqn} connecting to the subsystem. As nvmet, access is checked at Connect only: the host's
     * controllers that exist keep working until they disconnect.
     */
    public void removeAllowedHost(String subnqn, String hostnqn) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(subnqn);
            Set<String> hosts = new java.util.LinkedHashSet<>(s.allowedHosts());
            if (!hosts.remove(hostnqn)) {
                throw new IllegalArgumentException(hostnqn + " is not an allowed host of " + subnqn);
            }
            setHosts(s, hosts);
            changed("no longer allowed host " + hostnqn + " on " + subnqn);
        }
    }

    /** allow_any_host: checked at Connect only, as nvmet (connected hosts stay). */
    public void setAllowAnyHost(String subnqn, boolean allow) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Subsystem s = requireSubsystem(subnqn);
            if (s.allowAnyHost() == allow) {
                return;
            }
            s.allowAnyHost(allow);
            TargetConfig.SubsystemConfig sc = running.subsystems().get(indexOfSubsystem(running, subnqn));
            running = running.withSubsystem(sc.withAllowAnyHost(allow));
            changed((allow ? "any host may connect to " : "only allowed hosts may connect to ") + subnqn);
        }
    }

    /** Starts listening on a new port, exporting the subsystems it names. */
    public void addPort(TargetConfig.PortConfig pc) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            if (port(pc.portId()) != null) {
                throw new IllegalArgumentException("port " + pc.portId() + " exists already");
            }
            TargetConfig next = running.withPort(pc);
            String at = checked(next, "$.ports[" + (next.ports().size() - 1) + "]");
            Port p = openPort(pc, at);
            installPort(p);
            running = next;
            changed("added " + p);
        }
    }

    /**
     * Stops listening on a port and tears down the controllers whose admin queue came through it (nvmet
     * {@code nvmet_port_del_ctrls}); other ports' controllers stay.
     */
    public void removePort(int portId) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Port p = requirePort(portId);
            try {
                dropPort(p); // throws only after the port is gone: a listener that would not close
            } finally {
                running = running.withoutPort(portId);
                changed("removed " + p);
            }
        }
    }

    /** Exports a subsystem through a port too. */
    public void addPortSubsystem(int portId, String subnqn) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Port p = requirePort(portId);
            Subsystem s = requireSubsystem(subnqn);
            if (p.exports(s)) {
                return;
            }
            p.export(s, true);
            running = running.withPort(withLink(portConfig(portId), subnqn, true));
            changed("port " + portId + " exports " + subnqn);
        }
    }

    /** Stops exporting a subsystem through a port; its controllers that came through that port are torn down. */
    public void removePortSubsystem(int portId, String subnqn) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            Port p = requirePort(portId);
            Subsystem s = requireSubsystem(subnqn);
            if (!p.exports(s)) {
                throw new IllegalArgumentException("port " + portId + " does not export " + subnqn);
            }
            unlink(p, s);
            running = running.withPort(withLink(portConfig(portId), subnqn, false));
            changed("port " + portId + " no longer exports " + subnqn);
        }
    }

    /**
     * Sets the ANA state of group {@code grpid} on a port (what SPDK's {@code nvmf_subsystem_listener_set_ana_state}
     * does): I/O on that port to the group's namespaces completes with the state's path-related status from now on
     * (inaccessible, persistent loss, change) or runs again (optimized, non-optimized); the ANA log's change count
     * goes up and every controller whose admin queue came through the port gets the ANA change event (nvmet
     * {@code nvmet_port_send_ana_event}). Returns false when the group was in that state already.
     */
    public boolean setAnaState(int portId, int grpid, io.sanport.nvme.AnaState state) {
        synchronized (reconfigure) {
            requireOpen();
            Port p = requirePort(portId);
            if (grpid < 1 || grpid > AnaGroup.MAX_GRPID) {
                throw new IllegalArgumentException("ANA group " + Integer.toUnsignedString(grpid) + " is outside 1.."
                        + AnaGroup.MAX_GRPID);
            }
            java.util.Objects.requireNonNull(state, "state");
            TargetConfig.PortConfig pc = portConfig(portId);
            boolean changed = changeAna(p, grpid, state);
            running = running.withPort(pc.withAnaState(grpid, state));
            if (changed) {
                LOG.log(System.Logger.Level.INFO, "ANA group " + grpid + " on " + p + " is now " + state);
            }
            return changed;
        }
    }

    /** The ANA log's change count: one more for every state change of a (port, group) since the start. */
    public long anaChangeCount() {
        return anaChgcnt.get();
    }

    private boolean changeAna(Port p, int grpid, io.sanport.nvme.AnaState state) {
        if (p.anaGroup(grpid) != null && p.anaGroup(grpid).state() == state) {
            return false;
        }
        p.anaState(grpid, state, anaChgcnt.incrementAndGet());
        List<Subsystem> all = new ArrayList<>(subsystems.values());
        for (Subsystem s : all) {
            for (Controller c : s.controllers()) {
                if (c.port() == p) {
                    c.anaChanged();
                }
            }
        }
        return true;
    }

    /** Brings a kept port's ANA states to what {@code pc} says (a reload); the lines say what changed. */
    private List<String> reconcileAna(Port p, TargetConfig.PortConfig pc) {
        List<String> lines = new ArrayList<>();
        Map<Integer, io.sanport.nvme.AnaState> want = new java.util.TreeMap<>();
        want.put(AnaGroup.DEFAULT_GRPID, io.sanport.nvme.AnaState.OPTIMIZED);
        for (TargetConfig.AnaGroupConfig g : pc.anaGroups()) {
            want.put(g.grpid(), g.state());
        }
        for (AnaGroup g : p.anaGroups()) {
            want.putIfAbsent(g.grpid(), io.sanport.nvme.AnaState.INACCESSIBLE); // dropped from the config
        }
        for (Map.Entry<Integer, io.sanport.nvme.AnaState> e : want.entrySet()) {
            if (changeAna(p, e.getKey(), e.getValue())) {
                lines.add("ANA group " + e.getKey() + " on port " + p.portId() + " is now " + e.getValue());
            }
        }
        return lines;
    }

    /**
     * Makes the running target what {@code next} describes, touching only what differs (what {@code sanport
     * reload} does): subsystems, namespaces, ports, port links, allowed hosts and allow_any_host are added,
     * removed or changed; hosts connected to subsystems the difference does not touch keep their controllers.
     * Everything is checked first, new devices are opened and new ports bound before anything changes: a refused
     * config ({@link ConfigException} naming the JSON path) leaves the target as it was. A subsystem's serial or
     * model cannot change while it runs (remove it and add it again). The {@code "sanport"} limits take effect
     * at the next start only. Returns the changes made, one line each, in the order made (empty: nothing
     * differed).
     */
    public List<String> apply(TargetConfig next) throws IOException {
        synchronized (reconfigure) {
            requireOpen();
            return new Reload(running, TargetConfig.validate(next)).run();
        }
    }

    /** One {@link #apply}: the difference, its checks and resources first, then the changes. */
    private final class Reload {
        final TargetConfig old;
        final TargetConfig next;
        final List<String> changes = new ArrayList<>();
        final List<int[]> opened = new ArrayList<>();
        final List<Port> bound = new ArrayList<>();
        /** Namespaces changing buffered_io on the same device, by subsystem: reopened after the old one is gone. */
        final Map<String, List<TargetConfig.NamespaceConfig>> reopen = new LinkedHashMap<>();
        /** Namespaces {@link #reopenNamespace} could not add back, by subsystem: absent from the new running config. */
        final Map<String, List<Integer>> lost = new LinkedHashMap<>();

        Reload(TargetConfig old, TargetConfig next) {
            this.old = old;
            this.next = next;
        }

        List<String> run() throws IOException {
            Map<String, TargetConfig.SubsystemConfig> oldSubs = new LinkedHashMap<>();
            old.subsystems().forEach(s -> oldSubs.put(s.nqn(), s));
            Map<Integer, TargetConfig.PortConfig> oldPorts = new LinkedHashMap<>();
            old.ports().forEach(p -> oldPorts.put(p.portId(), p));
            Set<String> nextSubs = new java.util.HashSet<>();
            next.subsystems().forEach(s -> nextSubs.add(s.nqn()));
            Set<Integer> nextPorts = new java.util.HashSet<>();
            next.ports().forEach(p -> nextPorts.add(p.portId()));
            Set<String> reopening = reopeningPaths(oldSubs);

            // 1. checks and resources: nothing visible changes here
            Map<String, Subsystem> newSubs = new LinkedHashMap<>();
            Map<String, List<Namespace>> newNs = new LinkedHashMap<>();
            List<Port> newPorts = new ArrayList<>();
            List<Integer> replacedPorts = new ArrayList<>();
            try {
                for (int i = 0; i < next.subsystems().size(); i++) {
                    TargetConfig.SubsystemConfig sc = next.subsystems().get(i);
                    String at = "$.subsystems[" + i + "]";
                    TargetConfig.SubsystemConfig was = oldSubs.get(sc.nqn());
                    if (was == null) {
                        for (int j = 0; j < sc.namespaces().size(); j++) {
                            if (reopening.contains(sc.namespaces().get(j).path())) {
                                throw new ConfigException(null, at + ".namespaces[" + j + "].device.path",
                                        sc.namespaces().get(j).path() + " changes buffered_io in this reload, so it"
                                        + " is closed and opened again: add the new subsystem in a reload of its own");
                            }
                        }
                        Subsystem s = newSubsystem(sc, at, opened);
                        newSubs.put(sc.nqn(), s);
                        pending.addAll(s.namespaces().values());
                        continue;
                    }
                    if (!was.serial().equals(sc.serial())) {
                        throw new ConfigException(null, at + ".attr.serial", "the serial of a running subsystem cannot"
                                + " change (" + was.serial() + "): remove the subsystem and add it again");
                    }
                    if (!was.model().equals(sc.model())) {
                        throw new ConfigException(null, at + ".attr.model", "the model of a running subsystem cannot"
                                + " change (" + was.model() + "): remove the subsystem and add it again");
                    }
                    if (was.cntlidMin() != sc.cntlidMin() || was.cntlidMax() != sc.cntlidMax()) {
                        throw new ConfigException(null, at + ".attr.cntlid_min", "the controller ID range of a running"
                                + " subsystem cannot change (" + was.cntlidMin() + ".." + was.cntlidMax()
                                + "): remove the subsystem and add it again");
                    }
                    Subsystem s = subsystems.get(sc.nqn());
                    List<Namespace> added = new ArrayList<>();
                    for (int j = 0; j < sc.namespaces().size(); j++) {
                        TargetConfig.NamespaceConfig nc = sc.namespaces().get(j);
                        TargetConfig.NamespaceConfig before = namespace(was, nc.nsid());
                        if (before != null && sameDevice(before, nc) && s.namespaces().containsKey(nc.nsid())) {
                            continue; // same namespace; maybe enabled or disabled
                        }
                        if (before != null && before.equals(nc) && !s.namespaces().containsKey(nc.nsid())) {
                            continue; // disabled, its device absent since the start: as it was
                        }
                        if (modeChange(before, nc) && s.namespaces().containsKey(nc.nsid())) {
                            BlockDevice d = s.namespaces().get(nc.nsid()).device();
                            if (!d.pageCacheChoice()) {
                                throw noPageCache(at + ".namespaces[" + j + "]", nc, d);
                            }
                        }
                        if (reopening.contains(nc.path())) {
                            // the device's fd (O_EXCL for a block device) must close before it opens in the new
                            // mode: this namespace and any new one on the path are added after the removals
                            reopen.computeIfAbsent(sc.nqn(), k -> new ArrayList<>()).add(nc);
                            continue;
                        }
                        Namespace ns = newNamespace(sc.nqn(), nc, at + ".namespaces[" + j + "]", opened);
                        if (ns != null) {
                            added.add(ns);
                            pending.add(ns);
                        }
                    }
                    newNs.put(sc.nqn(), added);
                }
                for (int i = 0; i < next.ports().size(); i++) {
                    TargetConfig.PortConfig pc = next.ports().get(i);
                    TargetConfig.PortConfig was = oldPorts.get(pc.portId());
                    if (was != null && sameAddress(was, pc)) {
                        continue;
                    }
                    if (was != null) {
                        replacedPorts.add(pc.portId());
                    }
                    newPorts.add(openPortUnbound(pc, "$.ports[" + i + "]"));
                }
                // bind the new ports, but those on an address a port going away holds (bound after it went)
                for (Port p : newPorts) {
                    if (!addressHeldByLeaving(p, nextPorts, replacedPorts)) {
                        bind(p);
                        bound.add(p);
                    }
                }
            } catch (IOException | RuntimeException e) {
                pending.clear();
                rollback(e);
                throw e;
            }
            try {
                return change(oldSubs, nextSubs, nextPorts, newSubs, newNs, newPorts, replacedPorts);
            } finally {
                pending.clear();
            }
        }

        /**
         * Adds back a namespace removed above for its new buffered_io, its device opened in the new mode. The old fd
         * closes at its last reference (a ring may drop it a moment later), so a busy device is tried again for 2 s;
         * a failure is a change line: the namespace stays removed, as after a failed open of a new path.
         */
        private void reopenNamespace(Subsystem s, TargetConfig.NamespaceConfig nc) {
            String nsid = Integer.toUnsignedString(nc.nsid());
            for (int attempt = 1; ; attempt++) {
                List<int[]> mine = new ArrayList<>();
                try {
                    Namespace ns = newNamespace(s.nqn(), nc, "namespace " + nsid + " of " + s.nqn(), mine);
                    if (ns == null) {
                        return; // disabled, its device absent: as for a disabled namespace at start
                    }
                    s.addNamespace(ns);
                    changes.add("added namespace " + nsid + " (" + ns.path() + ") to " + s.nqn()
                            + (nc.bufferedIo() ? " through the page cache (buffered_io)" : " with O_DIRECT")
                            + (ns.enabled() ? "" : ", disabled"));
                    return;
                } catch (IOException | RuntimeException e) {
                    release(mine);
                    if (attempt >= 20) {
                        lose(s, nc, e.getMessage());
                        LOG.log(System.Logger.Level.ERROR, "reload: " + e.getMessage());
                        return;
                    }
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    lose(s, nc, "interrupted");
                    return;
                }
            }
        }

        /** A namespace not added back: absent from the new running config, and a change line saying so. */
        private void lose(Subsystem s, TargetConfig.NamespaceConfig nc, String why) {
            lost.computeIfAbsent(s.nqn(), k -> new ArrayList<>()).add(nc.nsid());
            changes.add("error: namespace " + Integer.toUnsignedString(nc.nsid()) + " of " + s.nqn()
                    + " not added back: " + why);
        }

        private List<String> change(Map<String, TargetConfig.SubsystemConfig> oldSubs, Set<String> nextSubs,
                                    Set<Integer> nextPorts, Map<String, Subsystem> newSubs,
                                    Map<String, List<Namespace>> newNs, List<Port> newPorts,
                                    List<Integer> replacedPorts) throws IOException {
            // 2. the changes, removals first
            for (Port p : ports) {
                if (p.implicit()) {
                    continue;
                }
                if (!nextPorts.contains(p.portId()) || replacedPorts.contains(p.portId())) {
                    changes.add("removed " + p);
                    try {
                        dropPort(p);
                    } catch (IOException e) {
                        changes.add("error: " + e.getMessage()); // the port is gone all the same
                        LOG.log(System.Logger.Level.ERROR, "reload: " + e.getMessage());
                    }
                    continue;
                }
                TargetConfig.PortConfig pc = portConfigIn(next, p.portId());
                for (Subsystem s : p.subsystems()) {
                    if (!pc.subsystems().contains(s.nqn())) {
                        unlink(p, s);
                        changes.add("port " + p.portId() + " no longer exports " + s.nqn());
                    }
                }
            }
            for (Subsystem s : List.copyOf(subsystems.values())) {
                if (!nextSubs.contains(s.nqn())) {
                    changes.add("removed subsystem " + s.nqn());
                    try {
                        dropSubsystem(s);
                    } catch (IOException e) {
                        changes.add("error: " + e.getMessage()); // the subsystem is gone all the same
                        LOG.log(System.Logger.Level.ERROR, "reload: " + e.getMessage());
                    }
                }
            }
            for (TargetConfig.SubsystemConfig sc : next.subsystems()) {
                TargetConfig.SubsystemConfig was = oldSubs.get(sc.nqn());
                Subsystem s = subsystems.get(sc.nqn());
                if (was == null || s == null) {
                    continue;
                }
                for (Namespace ns : List.copyOf(s.namespaces().values())) {
                    TargetConfig.NamespaceConfig now = namespace(sc, ns.nsid());
                    TargetConfig.NamespaceConfig before = namespace(was, ns.nsid());
                    if (now == null || before == null || !sameDevice(before, now)) {
                        s.removeNamespace(ns.nsid());
                        changes.add("removed namespace " + Integer.toUnsignedString(ns.nsid()) + " (" + ns.path()
                                + ") from " + sc.nqn());
                        try {
                            releaseDevices(ns);
                        } catch (IOException e) {
                            changes.add("error: " + e.getMessage()); // the namespace is gone all the same
                            LOG.log(System.Logger.Level.ERROR, "reload: " + e.getMessage());
                        }
                    }
                }
                if (was.allowAnyHost() != sc.allowAnyHost()) {
                    s.allowAnyHost(sc.allowAnyHost());
                    changes.add((sc.allowAnyHost() ? "any host may connect to " : "only allowed hosts may connect to ")
                            + sc.nqn());
                }
                if (!Set.copyOf(was.allowedHosts()).equals(Set.copyOf(sc.allowedHosts()))) {
                    for (String h : sc.allowedHosts()) {
                        if (!was.allowedHosts().contains(h)) changes.add("allowed host " + h + " on " + sc.nqn());
                    }
                    for (String h : was.allowedHosts()) {
                        if (!sc.allowedHosts().contains(h)) changes.add("no longer allowed host " + h + " on " + sc.nqn());
                    }
                    s.allowedHosts(Set.copyOf(sc.allowedHosts()));
                }
            }
            for (Subsystem s : newSubs.values()) {
                putSubsystem(s);
                changes.add("added subsystem " + s.nqn());
            }
            for (TargetConfig.SubsystemConfig sc : next.subsystems()) {
                Subsystem s = subsystems.get(sc.nqn());
                for (Namespace ns : newNs.getOrDefault(sc.nqn(), List.of())) {
                    s.addNamespace(ns);
                    changes.add("added namespace " + Integer.toUnsignedString(ns.nsid()) + " (" + ns.path() + ") to "
                            + sc.nqn() + (ns.enabled() ? "" : ", disabled"));
                }
                for (TargetConfig.NamespaceConfig nc : reopen.getOrDefault(sc.nqn(), List.of())) {
                    reopenNamespace(s, nc);
                }
                TargetConfig.SubsystemConfig was = oldSubs.get(sc.nqn());
                if (was == null) {
                    continue;
                }
                for (TargetConfig.NamespaceConfig nc : sc.namespaces()) {
                    Namespace ns = s.namespaces().get(nc.nsid());
                    if (ns != null && ns.enabled() != nc.enabled()) {
                        s.setNamespaceEnabled(nc.nsid(), nc.enabled());
                        changes.add((nc.enabled() ? "enabled" : "disabled") + " namespace "
                                + Integer.toUnsignedString(nc.nsid()) + " of " + sc.nqn());
                    }
                }
            }
            for (Port p : ports) {
                if (p.implicit() || !nextPorts.contains(p.portId())) {
                    continue;
                }
                for (String nqn : portConfigIn(next, p.portId()).subsystems()) {
                    Subsystem s = subsystems.get(nqn);
                    if (!p.exports(s)) {
                        p.export(s, true);
                        changes.add("port " + p.portId() + " exports " + nqn);
                    }
                }
            }
            for (Port p : ports) {
                if (p.implicit() || !nextPorts.contains(p.portId()) || newPorts.contains(p)) {
                    continue;
                }
                TargetConfig.PortConfig pc = portConfigIn(next, p.portId());
                for (String line : reconcileAna(p, pc)) {
                    changes.add(line);
                }
                if (!p.referrals().equals(pc.referrals())) {
                    p.referrals(pc.referrals());
                    changes.add("port " + p.portId() + " refers to " + pc.referrals().size() + " discovery controllers");
                }
            }
            for (Port p : newPorts) {
                for (String nqn : portConfigIn(next, p.portId()).subsystems()) {
                    p.export(subsystems.get(nqn), true);
                }
                if (!bound.contains(p)) {
                    bind(p); // its address was held by a port removed above: nothing left to roll back to
                }
                installPort(p);
                changes.add("added " + p);
            }
            if (!old.limits().equals(next.limits())) {
                changes.add("$.sanport limits not applied: they take effect at the next start");
            }
            for (TargetConfig.HostConfig h : next.hosts()) {
                TargetConfig.HostConfig was = old.hosts().stream().filter(x -> x.nqn().equals(h.nqn())).findFirst().orElse(null);
                if (was != null && !TargetConfig.DhchapConfig.same(was.dhchap(), h.dhchap())) {
                    // never the secrets: only that they changed, and when they apply
                    changes.add("DH-HMAC-CHAP settings of host " + h.nqn() + " changed (from its next Connect or re-authentication)");
                }
                if (was != null && !TlsKey.same(was.tlsKey(), h.tlsKey())) {
                    changes.add("TLS PSK of host " + h.nqn() + " changed (from its next TLS handshake; sessions up stay)");
                }
            }
            // a namespace not added back is absent: the next reload adds it, nvmf_subsystem_add_ns may take its NSID
            TargetConfig now = next;
            for (Map.Entry<String, List<Integer>> e : lost.entrySet()) {
                for (int nsid : e.getValue()) {
                    now = now.withoutNamespace(e.getKey(), nsid);
                }
            }
            running = now;
            if (!changes.isEmpty()) {
                genctr.incrementAndGet();
                notifyDiscovery();
                for (String c : changes) {
                    LOG.log(System.Logger.Level.INFO, "reload: " + c);
                }
            }
            return List.copyOf(changes);
        }

        /**
         * The paths of the namespaces of running subsystems whose buffered_io changes (with their device open): the
         * old fd closes before the new one opens, so every namespace this reload puts on such a path waits for that.
         */
        private Set<String> reopeningPaths(Map<String, TargetConfig.SubsystemConfig> oldSubs) {
            Set<String> paths = new java.util.HashSet<>();
            for (TargetConfig.SubsystemConfig sc : next.subsystems()) {
                TargetConfig.SubsystemConfig was = oldSubs.get(sc.nqn());
                Subsystem s = subsystems.get(sc.nqn());
                if (was == null || s == null) {
                    continue;
                }
                for (TargetConfig.NamespaceConfig nc : sc.namespaces()) {
                    if (modeChange(namespace(was, nc.nsid()), nc) && s.namespaces().containsKey(nc.nsid())) {
                        paths.add(nc.path());
                    }
                }
            }
            return paths;
        }

        private void rollback(Exception e) {
            for (Port p : bound) {
                try {
                    p.listener().close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            release(opened);
        }
    }

    private static TargetConfig.NamespaceConfig namespace(TargetConfig.SubsystemConfig sc, int nsid) {
        return sc.namespaces().stream().filter(n -> n.nsid() == nsid).findFirst().orElse(null);
    }

    /** The same namespace but perhaps for its enable flag: changing anything else replaces it. */
    private static boolean sameDevice(TargetConfig.NamespaceConfig a, TargetConfig.NamespaceConfig b) {
        return a.path().equals(b.path()) && java.util.Objects.equals(a.uuid(), b.uuid())
                && java.util.Objects.equals(a.nguid(), b.nguid()) && a.anaGrpId() == b.anaGrpId()
                && a.shared() == b.shared() && a.bufferedIo() == b.bufferedIo();
    }

    /** A namespace whose device stays on its path but changes page-cache mode: it reopens once the old fd is closed. */
    private static boolean modeChange(TargetConfig.NamespaceConfig before, TargetConfig.NamespaceConfig now) {
        return before != null && before.path().equals(now.path()) && before.bufferedIo() != now.bufferedIo();
    }

    private static boolean sameAddress(TargetConfig.PortConfig a, TargetConfig.PortConfig b) {
        return a.trtype().equals(b.trtype()) && a.adrfam().equals(b.adrfam()) && a.traddr().equals(b.traddr())
                && a.trsvcid().equals(b.trsvcid());
    }

    private boolean addressHeldByLeaving(Port p, Set<Integer> nextPorts, List<Integer> replaced) {
        for (Port o : ports) {
            boolean leaving = !nextPorts.contains(o.portId()) || replaced.contains(o.portId());
            if (leaving && !o.implicit() && o.transport() == p.transport() && o.traddr().equals(p.traddr())
                    && o.trsvcid().equals(p.trsvcid()) && !p.trsvcid().equals("0")) {
                return true;
            }
        }
        return false;
    }

    private static TargetConfig.PortConfig portConfigIn(TargetConfig c, int portId) {
        return c.ports().stream().filter(p -> p.portId() == portId).findFirst().orElseThrow();
    }

    /**
     * The configured TLS PSK of host {@code hostNqn} (null: none), for a handshake on a TLS port; whether the host
     * may use subsystem {@code subNqn} is the Connect's check, as without TLS.
     */
    public TlsKey tlsKey(String hostNqn, String subNqn) {
        for (TargetConfig.HostConfig h : running.hosts()) {
            if (h.nqn().equals(hostNqn)) {
                return h.tlsKey();
            }
        }
        return null;
    }

    private TargetConfig.PortConfig portConfig(int portId) {
        return portConfigIn(running, portId);
    }

    private static TargetConfig.PortConfig withLink(TargetConfig.PortConfig pc, String nqn, boolean linked) {
        List<String> subs = new ArrayList<>(pc.subsystems());
        subs.remove(nqn);
        if (linked) subs.add(nqn);
        return pc.withSubsystems(subs);
    }

    private static int indexOfSubsystem(TargetConfig c, String nqn) {
        for (int i = 0; i < c.subsystems().size(); i++) {
            if (c.subsystems().get(i).nqn().equals(nqn)) return i;
        }
        throw new IllegalArgumentException("no subsystem " + nqn);
    }

    /** {@code c} with the host NQNs the subsystem names added to $.hosts, so that validation finds them. */
    private static TargetConfig withHosts(TargetConfig c, List<String> hosts) {
        List<TargetConfig.HostConfig> all = new ArrayList<>(c.hosts());
        for (String h : hosts) {
            if (all.stream().noneMatch(x -> x.nqn().equals(h))) all.add(new TargetConfig.HostConfig(h));
        }
        return new TargetConfig(all, c.ports(), c.subsystems(), c.limits());
    }

    /** Validates {@code next}; returns {@code at} for messages. */
    private static String checked(TargetConfig next, String at) throws ConfigException {
        TargetConfig.validate(next);
        return at;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the target is shut down");
        }
    }

    private Subsystem requireSubsystem(String nqn) {
        Subsystem s = subsystems.get(nqn);
        if (s == null) {
            throw new IllegalArgumentException("no subsystem " + nqn);
        }
        return s;
    }

    private Port requirePort(int portId) {
        Port p = port(portId);
        if (p == null || p.implicit()) {
            throw new IllegalArgumentException("no port " + portId);
        }
        return p;
    }

    private void setHosts(Subsystem s, Set<String> hosts) {
        s.allowedHosts(hosts);
        TargetConfig.SubsystemConfig sc = running.subsystems().get(indexOfSubsystem(running, s.nqn()));
        running = withHosts(running.withSubsystem(sc.withAllowedHosts(List.copyOf(hosts))), List.copyOf(hosts));
    }

    private void putSubsystem(Subsystem s) {
        Map<String, Subsystem> next = new LinkedHashMap<>(subsystems);
        next.put(s.nqn(), s);
        subsystems = java.util.Collections.unmodifiableMap(next);
    }

    /** Unexports, tears down the controllers, drains and closes the namespaces, forgets the subsystem. */
    private void dropSubsystem(Subsystem s) throws IOException {
        for (Port p : ports) {
            p.export(s, false);
        }
        Map<String, Subsystem> next = new LinkedHashMap<>(subsystems);
        next.remove(s.nqn());
        subsystems = java.util.Collections.unmodifiableMap(next);
        for (Controller c : s.controllers()) {
            c.teardown("subsystem " + s.nqn() + " removed");
        }
        IOException failure = null;
        for (Namespace ns : List.copyOf(s.namespaces().values())) {
            s.removeNamespace(ns.nsid());
            try {
                releaseDevices(ns);
            } catch (IOException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /** The port stops exporting {@code s}; controllers of {@code s} whose admin queue came through it end. */
    private void unlink(Port p, Subsystem s) {
        p.export(s, false);
        for (Controller c : s.controllers()) {
            if (c.port() == p) {
                c.teardown(p + " no longer exports " + s.nqn());
            }
        }
    }

    private void dropPort(Port p) throws IOException {
        List<Port> next = new ArrayList<>(ports);
        next.remove(p);
        ports = List.copyOf(next);
        p.remove();
        RemoteTransport.Listener l = p.listener();
        try {
            if (l != null) l.close();
        } catch (Exception e) {
            throw new IOException("closing " + p + ": " + e.getMessage(), e);
        } finally {
            List<Subsystem> all = new ArrayList<>(subsystems.values());
            all.add(discovery);
            for (Subsystem s : all) {
                p.export(s, false);
                for (Controller c : s.controllers()) {
                    if (c.port() == p) {
                        c.teardown(p + " removed");
                    }
                }
            }
        }
        LOG.log(System.Logger.Level.INFO, "stopped listening on " + p);
    }

    /** A port for {@code pc}, exporting its subsystems, listening. */
    private Port openPort(TargetConfig.PortConfig pc, String at) throws IOException {
        Port p = openPortUnbound(pc, at);
        for (String nqn : pc.subsystems()) {
            p.export(subsystems.get(nqn), true);
        }
        bind(p);
        return p;
    }

    private Port openPortUnbound(TargetConfig.PortConfig pc, String at) throws ConfigException {
        RemoteTransport transport = Transports.find(pc.trtype());
        if (transport == null) {
            throw new ConfigException(null, at + ".addr.trtype", "no " + pc.trtype()
                    + " transport on the class path (found: " + String.join(", ", Transports.types()) + ")");
        }
        if (port(pc.portId()) != null && port(pc.portId()).implicit()) {
            throw new ConfigException(null, at + ".portid", "portid " + pc.portId()
                    + " is the discovery port sanport added itself");
        }
        Port p = new Port(pc.portId(), transport, pc.adrfam(), pc.traddr(), pc.trsvcid(), List.of(), false, pc.tls());
        configurePaths(p, pc);
        stats.register(p);
        return p;
    }

    private void bind(Port p) throws IOException {
        try {
            p.listener(p.transport().listen(p, this));
            LOG.log(System.Logger.Level.INFO, "listening on " + p);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + p.transport().type() + " " + p.traddr() + ":"
                    + p.trsvcid() + " (port " + p.portId() + "): " + e.getMessage(), e);
        }
    }

    private void installPort(Port p) {
        List<Port> next = new ArrayList<>(ports);
        next.add(p);
        ports = List.copyOf(next);
    }

    /**
     * Drains and closes the devices of a removed namespace that no other namespace uses, in every processor.
     * Blocks until their I/O in flight is done.
     */
    private void releaseDevices(Namespace removed) throws IOException {
        int[] index = removed.deviceIndexes();
        List<int[]> unused = new ArrayList<>();
        for (int p = 0; p < index.length; p++) {
            boolean used = false;
            for (Namespace ns : pending) {
                if (ns.deviceIndexes()[p] == index[p]) {
                    used = true;
                }
            }
            for (Subsystem s : subsystems.values()) {
                for (Namespace ns : s.namespaces().values()) {
                    if (ns != removed && !ns.removed() && ns.deviceIndexes()[p] == index[p]) {
                        used = true;
                    }
                }
            }
            if (!used) {
                unused.add(new int[] {p, index[p]});
            }
        }
        IOException failure = null;
        for (int[] pi : unused) {
            try {
                processors.get(pi[0]).removeDevice(pi[1]);
            } catch (IOException | RuntimeException e) {
                if (failure == null) failure = new IOException("closing " + removed.path() + ": " + e.getMessage(), e);
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /** Takes devices a failed change had added back out of their processors (closing them). */
    private void release(List<int[]> opened) {
        for (int[] pi : opened) {
            try {
                processors.get(pi[0]).removeDevice(pi[1]);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "undoing a refused change: " + e.getMessage());
            }
        }
        opened.clear();
    }

    /** A change hosts may see: the discovery log's generation goes up, discovery controllers get the event. */
    private void changed(String what) {
        LOG.log(System.Logger.Level.INFO, "reconfigured: " + what);
        genctr.incrementAndGet();
        notifyDiscovery();
    }

    private void notifyDiscovery() {
        for (Controller c : discovery.controllers()) {
            c.discoveryChanged();
        }
    }

    // ---------------------------------------------------------------- keep-alive and shutdown

    private void checkKeepAlive() {
        long now = System.nanoTime();
        try {
            for (Controller c : discovery.controllers()) {
                c.checkKeepAlive(now);
            }
            for (Subsystem s : subsystems.values()) {
                for (Controller c : s.controllers()) {
                    c.checkKeepAlive(now);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "keep-alive check", e);
        }
    }

    /**
     * Graceful shutdown: stops accepting, tears every controller and connection down (their device I/O in
     * flight completes first; a command is only acknowledged after its write completed), then flushes every
     * namespace's device, so no acknowledged write is lost. The I/O processors stay the caller's.
     */
    @Override
    public void close() throws IOException {
        synchronized (reconfigure) { // waits for a change under way; none starts after
            if (closed) {
                return;
            }
            closed = true;
        }
        IOException failure = new IOException("shutting the target down");
        for (Port p : ports) {
            try {
                if (p.listener() != null) p.listener().close();
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
        keepAlive.shutdownNow();
        List<Subsystem> all = new ArrayList<>(subsystems.values());
        all.add(discovery);
        for (Subsystem s : all) {
            for (Controller c : s.controllers()) {
                c.teardown("target shutting down", DisconnectReason.SHUTDOWN);
            }
        }
        Set<QueuePair> queues = connections.queues();
        for (QueuePair q : queues) {
            q.endReason(DisconnectReason.SHUTDOWN);
            q.disconnect();
        }
        long deadline = System.nanoTime() + options.shutdownTimeoutMillis() * 1_000_000L;
        while (!queues.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!queues.isEmpty()) {
            failure.addSuppressed(new IOException(queues.size() + " queues still busy after "
                    + options.shutdownTimeoutMillis() + " ms: " + queues));
        }
        flushDevices(failure);
        if (owned != null) {
            try {
                owned.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }

    /**
     * Flushes every writable device through every reactor's ring: each ring drives its own registration of the
     * device (a processor's own descriptor, whose writeback errors only its own fsync reports).
     */
    private void flushDevices(IOException failure) {
        List<Namespace> nss = new ArrayList<>();
        for (Subsystem s : subsystems.values()) {
            for (Namespace n : s.namespaces().values()) {
                if (n.writeFailure() != null) {
                    LOG.log(System.Logger.Level.ERROR, n + " of " + s + " refused writes since " + n.writeFailure()
                            + ": data acknowledged before that may be lost");
                }
                if (!n.readOnly() && nss.stream().noneMatch(o -> o.device() == n.device())) {
                    nss.add(n);
                }
            }
        }
        if (nss.isEmpty()) {
            return;
        }
        CountDownLatch done = new CountDownLatch(nss.size() * reactors.size());
        for (ReactorContext ctx : reactors) {
            for (Namespace ns : nss) {
                IoRequest io = new IoRequest(r -> {
                    if (!r.succeeded()) {
                        failure.addSuppressed(new IOException("flush at shutdown on " + ctx.reactor.name() + ": "
                                + r.describe(ns.device())));
                    }
                    done.countDown();
                }).flush(ns.deviceIndex(ctx.processor));
                try {
                    ctx.reactor.execute(() -> ctx.reactor.submit(io));
                } catch (RuntimeException e) {
                    failure.addSuppressed(e);
                    done.countDown();
                }
            }
        }
        try {
            if (!done.await(options.shutdownTimeoutMillis() + 1000, TimeUnit.MILLISECONDS)) {
                failure.addSuppressed(new IOException("flushing the devices at shutdown timed out"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean closed() {
        return closed;
    }
}
