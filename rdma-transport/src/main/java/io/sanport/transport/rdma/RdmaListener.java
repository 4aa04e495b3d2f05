package io.sanport.transport.rdma;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.rdmacm.RdmaCmEvent;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.RdmaEventChannel;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpInitAttr;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.iop.Reactor;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteTransport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A listening RDMA CM id and its conductor thread (nvmet's {@code nvmet_rdma_cm_handler}): every CM event of the
 * port and of its connections is handled here, in order. A CONNECT_REQUEST is checked (the
 * {@code nvme_rdma_cm_req} private data) and refused with the {@code nvme_rdma_cm_rej} status, or given to the
 * next reactor round robin: its QP is made on that reactor's CQ and SRQ, the queue registered on the reactor,
 * and the host accepted with {@code nvme_rdma_cm_rep}. ESTABLISHED hands the queue to the core on its reactor;
 * DISCONNECTED is answered with rdma_disconnect (as nvmet) and the queue torn down there. Once a queue is
 * quiesced its reactor hands it back, and the QP and cm_id are destroyed here, where no event of them can be
 * in hand. The conductor waits on the event channel with poll(2) so that it also runs those teardowns.
 */
final class RdmaListener implements RemoteTransport.Listener {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    private static final int BACKLOG = 128;
    /** The environment variable naming a file the transport's counters are written to (tests, ops). */
    static final String STATS_ENV = "SANPORT_RDMA_STATS";

    private final Port port;
    private final Target target;
    private final RdmaStats stats;
    private final MemorySegment channel;
    private final int channelFd;
    private final MemorySegment listenId;
    private final int boundPort;
    private final Thread conductor;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Path statsFile;
    private volatile boolean closing;

    // conductor thread
    private final Map<Long, RdmaQueue> queues = new HashMap<>();
    private final Map<Long, RdmaDevice> devices = new HashMap<>();
    private long nextHandle = 1;
    private boolean listening = true;

    private RdmaListener(Port port, Target target, RdmaStats stats, MemorySegment channel, MemorySegment listenId,
                         int boundPort) {
        this.port = port;
        this.target = target;
        this.stats = stats;
        this.channel = channel;
        this.channelFd = RdmaEventChannel.fd(channel);
        this.listenId = listenId;
        this.boundPort = boundPort;
        String f = System.getenv(STATS_ENV);
        this.statsFile = f == null || f.isBlank() ? null : Path.of(f);
        this.conductor = new Thread(this::run, "sanport-rdma-cm-" + boundPort);
        conductor.setDaemon(true);
    }

    static RdmaListener open(Port port, Target target, RdmaStats stats) throws IOException {
        String why = Rdmacm.unavailableReason();
        if (why == null) why = Ibverbs.unavailableReason();
        if (why != null) {
            throw new IOException(why);
        }
        if (!port.adrfam().equals("ipv4")) {
            throw new IOException("NVMe/RDMA over " + port.adrfam() + " is not supported yet; use an IPv4 address");
        }
        MemorySegment channel = Rdmacm.rdma_create_event_channel();
        MemorySegment id = null;
        try (Arena arena = Arena.ofConfined()) {
            id = Rdmacm.rdma_create_id(channel, MemorySegment.NULL, Rdmacm.RDMA_PS_TCP);
            MemorySegment addr = arena.allocate(SockaddrIn.LAYOUT);
            SockaddrIn.sin_family(addr, Libc.AF_INET);
            SockaddrIn.sin_port(addr, Integer.parseInt(port.trsvcid()));
            SockaddrIn.sin_addr(addr, InetAddress.getByName(port.traddr()).getAddress());
            Rdmacm.rdma_bind_addr(id, addr);
            Rdmacm.rdma_listen(id, BACKLOG);
            int bound = SockaddrIn.sin_port(RdmaCmId.src_sin(id));
            RdmaListener l = new RdmaListener(port, target, stats, channel, id, bound);
            l.conductor.start();
            return l;
        } catch (IOException | RuntimeException e) {
            try {
                if (id != null) Rdmacm.rdma_destroy_id(id);
            } catch (ErrnoException suppressed) {
                e.addSuppressed(suppressed);
            }
            Rdmacm.rdma_destroy_event_channel(channel);
            throw e;
        }
    }

    @Override
    public int boundPort() {
        return boundPort;
    }

    /**
     * Stops accepting: the listening id goes; queues already connected stay until the core or the host ends
     * them, and the conductor frees the devices after the last one.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            if (!stopped.await(5, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "the RDMA CM listener on " + port + " did not stop in 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** From a reactor: {@code q} is quiesced; destroy its QP and cm_id here. */
    void destroyLater(RdmaQueue q) {
        tasks.add(() -> destroy(q));
    }

    // ---------------------------------------------------------------- the conductor

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4);
            long nextStats = System.nanoTime();
            while (true) {
                if (statsFile != null && System.nanoTime() - nextStats >= 0) {
                    writeStats();
                    nextStats = System.nanoTime() + 1_000_000_000L;
                }
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    t.run();
                }
                if (closing && listening) {
                    stopListening();
                }
                if (!listening && queues.isEmpty()) {
                    break;
                }
                if (!Poll.readable(pollfd, channelFd, 50)) {
                    continue;
                }
                MemorySegment event;
                try {
                    event = Rdmacm.rdma_get_cm_event(channel);
                } catch (ErrnoException e) {
                    LOG.log(System.Logger.Level.WARNING, "rdma_get_cm_event: " + e.getMessage());
                    continue;
                }
                try {
                    handle(event);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "RDMA CM event on " + port, e);
                }
            }
            for (RdmaDevice d : devices.values()) {
                d.close();
            }
            devices.clear();
            Rdmacm.rdma_destroy_event_channel(channel);
            writeStats();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "the RDMA CM conductor of " + port + " stopped", t);
        } finally {
            stopped.countDown();
        }
    }

    private void stopListening() {
        listening = false;
        try {
            Rdmacm.rdma_destroy_id(listenId);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the RDMA CM listener on " + port + ": " + e.getMessage());
        }
        stopped.countDown();
        // queues the core does not know yet (not established) are ended here; the core ends the others
        for (RdmaQueue q : queues.values()) {
            try {
                q.reactor.execute(() -> {
                    if (!q.isEstablished()) q.shutdown();
                });
            } catch (RejectedExecutionException e) {
                // its reactor is closing
            }
        }
    }

    /** Copies what it needs out of the event, acknowledges it (rdma_destroy_id waits for that), then acts. */
    private void handle(MemorySegment event) {
        int type = RdmaCmEvent.event(event);
        MemorySegment id = RdmaCmEvent.id(event);
        if (type == Rdmacm.RDMA_CM_EVENT_CONNECT_REQUEST) {
            MemorySegment pd = RdmaCmEvent.private_data(event);
            byte[] data = new byte[(int) Math.min(pd.byteSize(), 64)];
            MemorySegment.copy(pd, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data, 0, data.length);
            int initiatorDepth = RdmaConnParam.initiator_depth(event, RdmaCmEvent.PARAM_CONN);
            int responderResources = RdmaConnParam.responder_resources(event, RdmaCmEvent.PARAM_CONN);
            ack(event);
            connectRequest(id, MemorySegment.ofArray(data), initiatorDepth, responderResources);
            return;
        }
        RdmaQueue q = queues.get(RdmaCmId.context(id).address());
        ack(event);
        switch (type) {
            case Rdmacm.RDMA_CM_EVENT_ESTABLISHED -> onReactor(q, q == null ? null : q::established);
            case Rdmacm.RDMA_CM_EVENT_DISCONNECTED -> {
                if (q != null) {
                    try {
                        Rdmacm.rdma_disconnect(id); // answer the host's DREQ, as nvmet does
                    } catch (ErrnoException e) {
                        // we disconnected first
                    }
                    onReactor(q, q::cmGone);
                }
            }
            case Rdmacm.RDMA_CM_EVENT_REJECTED, Rdmacm.RDMA_CM_EVENT_CONNECT_ERROR, Rdmacm.RDMA_CM_EVENT_UNREACHABLE,
                 Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL, Rdmacm.RDMA_CM_EVENT_ADDR_CHANGE -> {
                if (q != null) {
                    LOG.log(System.Logger.Level.INFO, q + ": " + Rdmacm.rdma_event_str(type));
                    onReactor(q, q::cmGone);
                }
            }
            default -> { } // TIMEWAIT_EXIT and the like
        }
    }

    private static void onReactor(RdmaQueue q, Runnable task) {
        if (q == null) {
            return;
        }
        try {
            q.reactor.execute(task);
        } catch (RejectedExecutionException e) {
            // the reactor is closing: the queue goes with it
        }
    }

    private void ack(MemorySegment event) {
        try {
            Rdmacm.rdma_ack_cm_event(event);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "rdma_ack_cm_event: " + e.getMessage());
        }
    }

    private void connectRequest(MemorySegment id, MemorySegment data, int initiatorDepth, int responderResources) {
        String peer = address(RdmaCmId.dst_sin(id));
        CmPrivateData.Request req = CmPrivateData.decode(data);
        if (req.status() != 0) {
            reject(id, peer, req.status(), "qid " + req.qid() + " hsqsize " + req.hsqsize() + " hrqsize " + req.hrqsize());
            return;
        }
        if (!listening) {
            reject(id, peer, CmPrivateData.NO_RSC, "the port is closing");
            return;
        }
        MemorySegment context = RdmaCmId.verbs(id);
        RdmaDevice device = devices.get(context.address());
        Reactor reactor = target.nextReactor();
        RdmaReactor rr;
        try {
            if (device == null) {
                device = new RdmaDevice(context, stats);
                devices.put(context.address(), device);
            }
            rr = device.reactor(reactor);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "RDMA resources for " + reactor.name() + ": " + e.getMessage());
            reject(id, peer, CmPrivateData.NO_RSC, e.getMessage());
            return;
        }
        // our RDMA READ depth (ORD): what the host lets us have outstanding against it (its responder resources,
        // which RDMA CM reports to the passive side as initiator_depth), within what the device allows
        int ord = Math.min(initiatorDepth > 0 ? initiatorDepth : responderResources, device.maxQpInitRdAtom);
        if (ord <= 0) {
            reject(id, peer, CmPrivateData.INVALID_IRD, "the host allows no RDMA READ");
            return;
        }
        int capacity = req.entries() + RdmaQueue.SPARE;
        // one data WR + one response SEND per request at most, plus slack for a response after its request's
        // flush; a parked request waits for credits anyway
        int sendDepth = Math.min(2 * capacity + 2, device.maxQpWr);
        if (!rr.reserve(sendDepth)) {
            reject(id, peer, CmPrivateData.NO_RSC, "the CQ of " + reactor.name() + " is full");
            return;
        }
        long handle = nextHandle++;
        boolean qpMade = false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment init = arena.allocate(IbvQpInitAttr.LAYOUT);
            IbvQpInitAttr.send_cq(init, rr.cq);
            IbvQpInitAttr.recv_cq(init, rr.cq);
            IbvQpInitAttr.srq(init, rr.srq);
            IbvQpInitAttr.cap(init, sendDepth, 0, 1, 1, 0);
            IbvQpInitAttr.qp_type(init, Ibverbs.IBV_QPT_RC);
            IbvQpInitAttr.sq_sig_all(init, 0);
            Rdmacm.rdma_create_qp(id, device.pd, init);
            qpMade = true;
            int granted = IbvQpInitAttr.max_send_wr(init);
            MemorySegment qp = IbvQp.of(RdmaCmId.qp(id));
            int qpNum = IbvQp.qp_num(qp);
            RdmaCmId.context(id, MemorySegment.ofAddress(handle));
            String local = address(RdmaCmId.src_sin(id));
            RdmaReactor fr = rr;
            RdmaQueue q = reactor.call(r -> {
                try {
                    return new RdmaQueue(this, fr, target, port, id, handle, qp, qpNum, req.qid(), capacity,
                            Math.min(granted, sendDepth), ord, local, peer, stats);
                } catch (ErrnoException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }).get(10, TimeUnit.SECONDS);
            queues.put(handle, q);
            stats.connections.incrementAndGet();
            MemorySegment rep = arena.allocate(CmPrivateData.REP_SIZE);
            CmPrivateData.encodeReply(rep, req.hsqsize() + 1);
            MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
            RdmaConnParam.private_data(param, 0, rep);
            RdmaConnParam.initiator_depth(param, 0, ord);
            RdmaConnParam.responder_resources(param, 0, 0); // the host never RDMA READs from us
            RdmaConnParam.flow_control(param, 0, 1);
            RdmaConnParam.rnr_retry_count(param, 0, 7);
            try {
                Rdmacm.rdma_accept(id, param);
            } catch (ErrnoException e) {
                LOG.log(System.Logger.Level.WARNING, "accepting queue " + req.qid() + " from " + peer + ": " + e.getMessage());
                onReactor(q, q::shutdown); // destroyed through the usual path
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "setting up queue " + req.qid() + " from " + peer + ": " + e);
            rr.unreserve(sendDepth);
            if (qpMade) {
                Rdmacm.rdma_destroy_qp(id);
            }
            reject(id, peer, CmPrivateData.NO_RSC, e.getMessage());
        }
    }

    private void reject(MemorySegment id, String peer, int status, String why) {
        LOG.log(System.Logger.Level.WARNING, "refusing an NVMe/RDMA connection from " + peer + ": "
                + CmPrivateData.statusName(status) + " (" + why + ")");
        stats.rejected.incrementAndGet();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rej = arena.allocate(CmPrivateData.REJ_SIZE);
            CmPrivateData.encodeReject(rej, status);
            Rdmacm.rdma_reject(id, rej);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "rdma_reject: " + e.getMessage());
        }
        try {
            Rdmacm.rdma_destroy_id(id);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "rdma_destroy_id: " + e.getMessage());
        }
    }

    private void destroy(RdmaQueue q) {
        Rdmacm.rdma_destroy_qp(q.id);
        try {
            Rdmacm.rdma_destroy_id(q.id);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, q + ": rdma_destroy_id: " + e.getMessage());
        }
        q.rr.unreserve(q.sendDepth);
        queues.remove(q.handle);
        writeStats();
    }

    /** The counters, as key=value lines, replaced atomically: read by the VM tests after I/O. */
    private void writeStats() {
        if (statsFile == null) {
            return;
        }
        try {
            Path tmp = statsFile.resolveSibling(statsFile.getFileName() + ".tmp");
            Files.writeString(tmp, stats.toString().replace(' ', '\n') + "\n");
            Files.move(tmp, statsFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "writing " + statsFile + ": " + e.getMessage());
        }
    }

    private static String address(MemorySegment sin) {
        byte[] a = SockaddrIn.sin_addr(sin);
        return (a[0] & 255) + "." + (a[1] & 255) + "." + (a[2] & 255) + "." + (a[3] & 255);
    }

    @Override
    public String toString() {
        return "nvme-rdma listener " + port;
    }
}
