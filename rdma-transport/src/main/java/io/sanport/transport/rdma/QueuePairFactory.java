package io.sanport.transport.rdma;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpInitAttr;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.iop.Reactor;
import io.sanport.nvme.rdma.RdmaCmReject;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Makes the QP of an admitted connection (nvmet's {@code nvmet_rdma_create_queue_ib}): picks the next reactor,
 * opens the device and that reactor's CQ/SRQ on it on first use, sizes the send queue and the RDMA READ depth
 * within the device's limits and the reactor's CQ budget, creates an RC QP on that CQ and SRQ, and builds its
 * {@link RdmaQueue} on the reactor thread. Owns the devices; conductor thread only.
 */
final class QueuePairFactory implements CmConductor.QueueMaker {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    private static final java.util.concurrent.atomic.AtomicBoolean NO_INLINE_TOLD = new java.util.concurrent.atomic.AtomicBoolean();

    /** Why a connection cannot have a QP: the {@code nvme_rdma_cm_status} to reject it with, and words for the log. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String why) {
            super(why, null, false, false);
            this.status = status;
        }
    }

    private final Target target;
    private final Port port;
    private final RdmaStats stats;
    private final Consumer<RdmaQueue> freed;
    private final Map<Long, RdmaDevice> devices = new HashMap<>();

    /** {@code freed} takes each queue back once it is quiesced, on its reactor, to destroy QP and cm_id. */
    QueuePairFactory(Target target, Port port, RdmaStats stats, Consumer<RdmaQueue> freed) {
        this.target = target;
        this.port = port;
        this.stats = stats;
        this.freed = freed;
    }

    /**
     * A queue for cm_id {@code id} as {@code req} asks, registered on its reactor, not accepted yet.
     *
     * @param initiatorDepth  what RDMA CM reports of the host's responder resources (our ORD)
     */
    @Override
    public RdmaQueue create(MemorySegment id, CmConnectRequest req, long handle, int initiatorDepth,
                            int responderResources, String local, String peer, PendingQueues pending) throws Refused {
        MemorySegment context = RdmaCmId.verbs(id);
        RdmaDevice device = devices.get(context.address());
        Reactor reactor = target.nextReactor();
        RdmaReactor rr;
        try {
            if (device == null) {
                device = new RdmaDevice(context, stats, target::memory, ControlVerbs.NATIVE);
                devices.put(context.address(), device);
            }
            rr = device.reactor(reactor);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "RDMA resources for " + reactor.name() + ": " + e.getMessage());
            throw new Refused(RdmaCmReject.NO_RSC, e.getMessage());
        }
        // our RDMA READ depth (ORD): what the host lets us have outstanding against it (its responder resources,
        // which RDMA CM reports to the passive side as initiator_depth), within what the device allows
        int ord = Math.min(initiatorDepth > 0 ? initiatorDepth : responderResources, device.maxQpInitRdAtom);
        if (ord <= 0) {
            throw new Refused(RdmaCmReject.INVALID_IRD, "the host allows no RDMA READ");
        }
        int capacity = req.entries() + RdmaQueue.SPARE;
        // one data WR + one response SEND per request at most, plus slack for a response after its request's
        // flush; a parked request waits for credits anyway
        int sendDepth = Math.min(2 * capacity + 2, device.maxQpWr);
        if (!pending.makeRoom(rr, sendDepth, System.nanoTime())) {
            throw new Refused(RdmaCmReject.NO_RSC, "queues without a Connect hold their share of the CQ of "
                    + reactor.name() + " (" + pending.held(rr) + " of " + rr.cqEntriesForQueues() + " entries)");
        }
        if (!rr.reserve(sendDepth)) {
            throw new Refused(RdmaCmReject.NO_RSC, "the CQ of " + reactor.name() + " is full");
        }
        boolean qpMade = false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment init = arena.allocate(IbvQpInitAttr.LAYOUT);
            IbvQpInitAttr.send_cq(init, rr.cq);
            IbvQpInitAttr.recv_cq(init, rr.cq);
            IbvQpInitAttr.srq(init, rr.srq);
            IbvQpInitAttr.qp_type(init, Ibverbs.IBV_QPT_RC);
            IbvQpInitAttr.sq_sig_all(init, 0);
            // the 16-byte response SENDs inline: the provider copies it into the WQE at the post, so the device
            // (for SoftRoCE the kernel) never looks up the response region's key; a device without inline
            // data gets a QP without
            IbvQpInitAttr.cap(init, sendDepth, 0, 1, 1, RdmaCommand.RESPONSE_SIZE);
            try {
                Rdmacm.rdma_create_qp(id, device.pd, init);
            } catch (ErrnoException e) {
                if (NO_INLINE_TOLD.compareAndSet(false, true)) {
                    LOG.log(System.Logger.Level.INFO, "a queue pair with " + RdmaCommand.RESPONSE_SIZE
                            + " bytes of inline data was refused (" + e.getMessage() + "): responses go by reference");
                }
                IbvQpInitAttr.cap(init, sendDepth, 0, 1, 1, 0);
                Rdmacm.rdma_create_qp(id, device.pd, init);
            }
            qpMade = true;
            int granted = Math.min(IbvQpInitAttr.max_send_wr(init), sendDepth);
            boolean inlineResponse = IbvQpInitAttr.max_inline_data(init) >= RdmaCommand.RESPONSE_SIZE;
            MemorySegment qp = IbvQp.of(RdmaCmId.qp(id));
            int qpNum = IbvQp.qp_num(qp);
            RdmaCmId.context(id, MemorySegment.ofAddress(handle));
            return reactor.call(r -> {
                try {
                    return new RdmaQueue(freed, rr, target, port, id, handle, qp, qpNum, req.qid(), capacity,
                            granted, ord, inlineResponse, local, peer, stats);
                } catch (ErrnoException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "setting up queue " + req.qid() + " from " + peer + ": " + e);
            rr.unreserve(sendDepth);
            if (qpMade) {
                Rdmacm.rdma_destroy_qp(id);
            }
            throw new Refused(RdmaCmReject.NO_RSC, String.valueOf(e.getMessage()));
        }
    }

    /** {@code q} is quiesced and freed by its reactor: its QP and cm_id go, and its CQ entries come back. */
    @Override
    public void destroy(RdmaQueue q) {
        Rdmacm.rdma_destroy_qp(q.id);
        try {
            Rdmacm.rdma_destroy_id(q.id);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, q + ": rdma_destroy_id: " + e.getMessage());
        }
        q.rr.unreserve(q.sendDepth);
    }

    /** After the last queue: the devices, their reactors' CQs, SRQs and memory regions. */
    void close() {
        for (RdmaDevice d : devices.values()) {
            d.close();
        }
        devices.clear();
    }
}
