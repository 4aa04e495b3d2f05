package io.sanport.transport.rdma;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.rdmacm.RdmaCmEvent;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.hostdriver.DisconnectReason;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.RateLimitedLog;
import io.sanport.nvme.rdma.RdmaCmReject;
import io.sanport.nvme.rdma.RdmaCmReply;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

/**
 * The RDMA CM events of one port and its connections (nvmet's {@code nvmet_rdma_cm_handler}). A CONNECT_REQUEST
 * is checked ({@link CmConnectRequest}) and refused with an {@code nvme_rdma_cm_rej}, or given a QP by the
 * {@link QueuePairFactory} and accepted with an {@code nvme_rdma_cm_rep}. ESTABLISHED hands the queue to the core
 * on its reactor; DISCONNECTED is answered with rdma_disconnect (as nvmet) and the queue torn down there. Once a
 * queue is quiesced its reactor hands it back and its QP and cm_id are destroyed here, where no event of them
 * can be in hand. The target's queues, established or not, are capped in total and per host address
 * ({@link RdmaConnections}, shared by its ports); those whose host has not sent a fabrics Connect yet are limited
 * per host address and in CQ entries, and ended after the Connect timeout ({@link PendingQueues}, run by
 * {@link #tick}). Refusals are logged at most once a second. An event whose handling throws ends its own queue;
 * the thread serves every connection of the port. Conductor thread only.
 */
final class CmConductor {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    /** Any host can make us refuse at will: one line a second for the whole target at most. */
    private static final RateLimitedLog REFUSALS = new RateLimitedLog(LOG, 1000);

    /** What makes the QP and queue of an admitted connection, and destroys them once quiesced ({@link QueuePairFactory}). */
    interface QueueMaker {
        /**
         * A queue for cm_id {@code id} as {@code req} asks, registered on its reactor, not accepted yet; its send
         * queue's CQ entries must fit the share of queues without a Connect ({@link PendingQueues#makeRoom}).
         */
        RdmaQueue create(MemorySegment id, CmConnectRequest req, long handle, int initiatorDepth,
                         int responderResources, String local, String peer, PendingQueues pending)
                throws QueuePairFactory.Refused;

        /** {@code q} is quiesced and freed by its reactor: its QP and cm_id go, its CQ entries come back. */
        void destroy(RdmaQueue q);
    }

    private final Port port;
    private final RdmaStats stats;
    private final QueueMaker factory;
    private final ControlVerbs cm;
    private final RdmaStatsFile statsFile;
    private final Map<Long, RdmaQueue> queues = new HashMap<>();
    private final PendingQueues pending;
    private final RdmaConnections connections;
    private long nextHandle = 1;
    private boolean listening = true;

    /**
     * {@code connections}: the target's queue count, shared by its RDMA ports; {@code cm}: the RDMA CM calls
     * ({@link ControlVerbs#NATIVE}, or a fake provider's in tests).
     */
    CmConductor(Port port, RdmaStats stats, QueueMaker factory, RdmaStatsFile statsFile,
                PendingQueues.Limits limits, RdmaConnections connections, ControlVerbs cm) {
        this.pending = new PendingQueues(limits);
        this.connections = connections;
        this.cm = cm;
        this.port = port;
        this.stats = stats;
        this.factory = factory;
        this.statsFile = statsFile;
    }

    /** The conductor's clock (every poll timeout at least): queues without a Connect past their timeout go. */
    void tick(long now) {
        pending.expire(now);
    }

    /** No listening id and no queue left: the conductor may stop. */
    boolean done() {
        return !listening && queues.isEmpty();
    }

    /** The listening id is gone: queues the core does not know yet (not established) end here, the core ends the others. */
    void stopListening() {
        listening = false;
        for (RdmaQueue q : queues.values()) {
            try {
                q.reactor.execute(() -> q.run(() -> {
                    if (!q.isEstablished()) q.shutdown();
                }));
            } catch (RejectedExecutionException e) {
                // its reactor is closing
            }
        }
    }

    /** Copies what it needs out of the event, acknowledges it (rdma_destroy_id waits for that), then acts. */
    void handle(MemorySegment event) {
        int type = RdmaCmEvent.event(event);
        MemorySegment id = RdmaCmEvent.id(event);
        if (type == Rdmacm.RDMA_CM_EVENT_CONNECT_REQUEST) {
            MemorySegment pd = RdmaCmEvent.private_data(event);
            byte[] data = new byte[(int) Math.min(pd.byteSize(), 64)];
            MemorySegment.copy(pd, ValueLayout.JAVA_BYTE, 0, data, 0, data.length);
            int initiatorDepth = RdmaConnParam.initiator_depth(event, RdmaCmEvent.PARAM_CONN);
            int responderResources = RdmaConnParam.responder_resources(event, RdmaCmEvent.PARAM_CONN);
            ack(event);
            connectRequest(id, MemorySegment.ofArray(data), initiatorDepth, responderResources);
            return;
        }
        RdmaQueue q = queues.get(RdmaCmId.context(id).address());
        ack(event);
        try {
            connectionEvent(type, id, q);
        } catch (RuntimeException e) {
            // the CM thread serves every connection of the port: one event that fails ends its queue only
            LOG.log(System.Logger.Level.WARNING, (q != null ? q.toString() : "an NVMe/RDMA connection") + ": "
                    + Rdmacm.eventName(type) + " failed; disconnecting", e);
            onReactor(q, q == null ? null : () -> q.cmGone(DisconnectReason.FAULT));
        }
    }

    private void connectionEvent(int type, MemorySegment id, RdmaQueue q) {
        switch (type) {
            case Rdmacm.RDMA_CM_EVENT_ESTABLISHED -> onReactor(q, q == null ? null : q::established);
            case Rdmacm.RDMA_CM_EVENT_DISCONNECTED -> {
                if (q != null) {
                    try {
                        cm.rdma_disconnect(id); // answer the host's DREQ, as nvmet does
                    } catch (ErrnoException e) {
                        // we disconnected first
                    }
                    // the host's end, as TCP's: said at debug only
                    LOG.log(System.Logger.Level.DEBUG, () -> q + ": " + Rdmacm.eventName(type));
                    onReactor(q, () -> q.cmGone(DisconnectReason.HOST));
                }
            }
            case Rdmacm.RDMA_CM_EVENT_REJECTED, Rdmacm.RDMA_CM_EVENT_CONNECT_ERROR, Rdmacm.RDMA_CM_EVENT_UNREACHABLE,
                 Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL, Rdmacm.RDMA_CM_EVENT_ADDR_CHANGE -> {
                if (q != null) {
                    DisconnectReason why = reason(type);
                    LOG.log(System.Logger.Level.INFO, q + ": " + Rdmacm.eventName(type) + " ("
                            + meaning(type) + "); disconnecting this queue (" + why.label() + ")");
                    onReactor(q, () -> q.cmGone(why));
                }
            }
            default -> { } // TIMEWAIT_EXIT and the like
        }
    }

    /**
     * Why a queue ends on an RDMA CM event, as TCP's reasons: the host refusing our accept is a protocol error,
     * an establishment that never completed a timeout; the rest (DISCONNECTED, the device or address going) is
     * the connection found gone.
     */
    static DisconnectReason reason(int type) {
        return switch (type) {
            case Rdmacm.RDMA_CM_EVENT_REJECTED -> DisconnectReason.PROTOCOL_ERROR;
            case Rdmacm.RDMA_CM_EVENT_CONNECT_ERROR, Rdmacm.RDMA_CM_EVENT_UNREACHABLE -> DisconnectReason.TIMEOUT;
            default -> DisconnectReason.HOST;
        };
    }

    /** What an event that ends a connection means on this (passive) side, for its log line. */
    private static String meaning(int type) {
        return switch (type) {
            case Rdmacm.RDMA_CM_EVENT_REJECTED -> "the host rejected the accept";
            case Rdmacm.RDMA_CM_EVENT_CONNECT_ERROR -> "the connection could not be established";
            case Rdmacm.RDMA_CM_EVENT_UNREACHABLE -> "the host did not answer the accept";
            case Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL -> "the RDMA device was removed";
            case Rdmacm.RDMA_CM_EVENT_ADDR_CHANGE -> "the port's address moved to another device";
            default -> "event " + type;
        };
    }

    private void connectRequest(MemorySegment id, MemorySegment data, int initiatorDepth, int responderResources) {
        String peer = address(RdmaCmId.dst_sin(id));
        CmConnectRequest req = CmConnectRequest.check(data);
        if (req.status() != 0) {
            reject(id, peer, req.status(), "qid " + req.qid() + " hsqsize " + req.hsqsize() + " hrqsize " + req.hrqsize());
            return;
        }
        if (!listening) {
            reject(id, peer, RdmaCmReject.NO_RSC, "the port is closing");
            return;
        }
        if (!pending.admits(peer)) {
            reject(id, peer, RdmaCmReject.NO_RSC, pending.pending(peer) + " queues from this address have not sent"
                    + " their Connect yet (limit " + pending.limits().maxPendingPerHost() + ")");
            return;
        }
        String full = connections.admit(peer);
        if (full != null) {
            reject(id, peer, RdmaCmReject.NO_RSC, full);
            return;
        }
        long handle = nextHandle++;
        RdmaQueue q;
        try {
            q = factory.create(id, req, handle, initiatorDepth, responderResources, address(RdmaCmId.src_sin(id)), peer,
                    pending);
        } catch (QueuePairFactory.Refused | RuntimeException e) {
            connections.release(peer);
            reject(id, peer, e instanceof QueuePairFactory.Refused r ? r.status : RdmaCmReject.NO_RSC, e.getMessage());
            return;
        }
        queues.put(handle, q);
        pending.add(q, System.nanoTime());
        stats.connections.incrementAndGet();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rep = arena.allocate(RdmaCmReply.LAYOUT);
            RdmaCmReply.set(rep, req.hsqsize() + 1);
            MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
            RdmaConnParam.private_data(param, 0, rep);
            RdmaConnParam.initiator_depth(param, 0, q.readDepth);
            RdmaConnParam.responder_resources(param, 0, 0); // the host never RDMA READs from us
            RdmaConnParam.flow_control(param, 0, 1);
            RdmaConnParam.rnr_retry_count(param, 0, 7);
            cm.rdma_accept(id, param);
        } catch (ErrnoException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "accepting queue " + req.qid() + " from " + peer + ": " + e);
            onReactor(q, q::shutdown); // destroyed through the usual path
        }
    }

    private void reject(MemorySegment id, String peer, int status, String why) {
        REFUSALS.warn(() -> "refused an NVMe/RDMA connection from " + peer + ": " + RdmaCmReject.describe(status)
                + " (" + why + ")");
        stats.rejected.incrementAndGet();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rej = arena.allocate(RdmaCmReject.LAYOUT);
            RdmaCmReject.set(rej, status);
            cm.rdma_reject(id, rej);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "rdma_reject: " + e.getMessage());
        }
        try {
            cm.rdma_destroy_id(id);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "rdma_destroy_id: " + e.getMessage());
        }
    }

    /** {@code q} is quiesced: its QP and cm_id go. */
    void destroy(RdmaQueue q) {
        try {
            factory.destroy(q);
        } finally {
            pending.remove(q);
            if (queues.remove(q.handle) != null) { // forgotten whatever happened, or the conductor never ends
                connections.release(q.peer());
            }
            statsFile.write();
        }
    }

    /** Runs {@code task} on {@code q}'s reactor; what it throws ends {@code q} only. */
    private static void onReactor(RdmaQueue q, Runnable task) {
        if (q == null) {
            return;
        }
        try {
            q.reactor.execute(() -> q.run(task));
        } catch (RejectedExecutionException e) {
            // the reactor is closing: the queue goes with it
        }
    }

    private void ack(MemorySegment event) {
        try {
            cm.rdma_ack_cm_event(event);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "rdma_ack_cm_event: " + e.getMessage());
        }
    }

    private static String address(MemorySegment sin) {
        byte[] a = SockaddrIn.sin_addr(sin);
        return (a[0] & 255) + "." + (a[1] & 255) + "." + (a[2] & 255) + "." + (a[3] & 255);
    }

    @Override
    public String toString() {
        return "nvme-rdma CM conductor " + port;
    }
}
