package io.sanport.hostdriver;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.IoRequest;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.Nqn;
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
 * well-known discovery subsystem, and the controllers hosts create. The configuration is immutable once
 * started (namespaces can be disabled and re-enabled, which hosts learn through an AER).
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
    private final Map<String, Subsystem> subsystems;
    private final List<Port> ports;
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
                devices.add(BlockDevices.open(path));
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

    private Map<String, Subsystem> buildSubsystems(TargetConfig config) throws ConfigException {
        Map<String, Subsystem> map = new LinkedHashMap<>();
        for (int i = 0; i < config.subsystems().size(); i++) {
            TargetConfig.SubsystemConfig sc = config.subsystems().get(i);
            Map<Integer, Namespace> namespaces = new HashMap<>();
            for (int j = 0; j < sc.namespaces().size(); j++) {
                TargetConfig.NamespaceConfig nc = sc.namespaces().get(j);
                String at = "$.subsystems[" + i + "].namespaces[" + j + "].device.path";
                int[] index = new int[processors.size()];
                BlockDevice device = null;
                for (int p = 0; p < processors.size(); p++) {
                    index[p] = indexOf(processors.get(p), nc.path());
                    if (index[p] < 0) {
                        device = null;
                        break;
                    }
                    device = processors.get(p).devices().get(index[p]);
                }
                if (device == null) {
                    if (!nc.enabled()) {
                        continue;
                    }
                    throw new ConfigException(null, at, nc.path() + " is not open in the I/O processor"
                            + (processors.size() > 1 ? "s" : "") + " (open it with the devices you start them with)");
                }
                if (Integer.bitCount(device.logicalBlockSize()) != 1 || device.logicalBlockSize() > 4096
                        || device.logicalBlockSize() < 512) {
                    throw new ConfigException(null, at, nc.path() + " has a logical block size of "
                            + device.logicalBlockSize() + " bytes; NVMe-oF hosts take 512..4096");
                }
                UUID uuid = nc.uuid() != null ? nc.uuid()
                        : UUID.nameUUIDFromBytes((sc.nqn() + "/" + Integer.toUnsignedString(nc.nsid())).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                byte[] nguid;
                if (nc.nguid() != null) {
                    nguid = TargetConfig.nguidBytes(nc.nguid());
                } else {
                    nguid = new byte[16];
                    io.sanport.nvme.Wire.setUuid(MemorySegment.ofArray(nguid), 0, uuid);
                }
                namespaces.put(nc.nsid(), new Namespace(nc.nsid(), uuid, nguid, device, index, nc.enabled()));
            }
            map.put(sc.nqn(), new Subsystem(sc.nqn(), Subsystem.Type.NVM, sc.serial(), sc.model(), sc.allowAnyHost(),
                    Set.copyOf(sc.allowedHosts()), namespaces));
        }
        return map;
    }

    private static int indexOf(IoProcessor p, String path) {
        List<BlockDevice> devices = p.devices();
        for (int i = 0; i < devices.size(); i++) {
            if (devices.get(i).name().equals(path)) {
                return i;
            }
        }
        if (path.startsWith("ram:")) {
            return -1;
        }
        Path wanted = Path.of(path).toAbsolutePath().normalize();
        for (int i = 0; i < devices.size(); i++) {
            String name = devices.get(i).name();
            if (!name.startsWith("ram:") && Path.of(name).toAbsolutePath().normalize().equals(wanted)) {
                return i;
            }
        }
        return -1;
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
            list.add(new Port(pc.portId(), transport, pc.adrfam(), pc.traddr(), pc.trsvcid(), exported));
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
                    extra.add(new Port(++maxId, p.transport(), p.adrfam(), p.traddr(), want, List.of()));
                }
            }
            list.addAll(extra);
        }
        return List.copyOf(list);
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
        MemorySegment log = arena.allocate(DiscoveryLogPage.length(entries.size()));
        DiscoveryLogPage.genctr(log, 1);
        DiscoveryLogPage.numrec(log, entries.size());
        DiscoveryLogPage.recfmt(log, 0);
        for (int i = 0; i < entries.size(); i++) {
            Port p = (Port) entries.get(i)[0];
            Subsystem s = (Subsystem) entries.get(i)[1];
            MemorySegment e = log.asSlice(DiscoveryLogPage.entryOffset(i), DiscoveryLogPage.ENTRY_SIZE);
            DiscoveryLogEntry.trtype(e, p.transport().trtype());
            DiscoveryLogEntry.adrfam(e, p.adrfam().equals("ipv6") ? DiscoveryLogEntry.ADRFAM_IPV6 : DiscoveryLogEntry.ADRFAM_IPV4);
            DiscoveryLogEntry.subtype(e, (Integer) entries.get(i)[2]);
            // bits 1:0 stay 0 on TCP (libnvme would ask a 6.1 kernel for TLS); bit 2: SQ flow control may be disabled
            DiscoveryLogEntry.treq(e, DiscoveryLogEntry.TREQ_DISABLE_SQFLOW);
            DiscoveryLogEntry.portid(e, p.portId());
            DiscoveryLogEntry.cntlid(e, DiscoveryLogEntry.CNTLID_DYNAMIC);
            DiscoveryLogEntry.asqsz(e, Controller.ADMIN_QUEUE_DEPTH);
            DiscoveryLogEntry.trsvcid(e, Integer.toString(p.boundPort()));
            DiscoveryLogEntry.subnqn(e, s.nqn());
            DiscoveryLogEntry.traddr(e, p.wildcard() ? q.transport.localAddress() : p.traddr());
        }
        return log;
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
        if (closed) {
            return;
        }
        closed = true;
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
