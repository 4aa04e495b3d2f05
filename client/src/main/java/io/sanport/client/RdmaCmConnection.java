package io.sanport.client;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.nvme.rdma.RdmaCmReject;
import io.sanport.nvme.rdma.RdmaCmRequest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The RDMA CM side of one {@link NvmeRdmaQueue} (nvmeof.md §6.6; Linux {@code nvme_rdma_cm_handler}): its cm_id on
 * the process's shared event channel ({@link RdmaCmEvents}), address and route resolution, the connect carrying the
 * {@code nvme_rdma_cm_req} private data, and a reject reported with its {@code nvme_rdma_cm_rej} status in words.
 * Until ESTABLISHED every event goes to the connecting thread; after it, a disconnect ends the queue.
 */
final class RdmaCmConnection {
    private static final int RESOLVE_TIMEOUT_MILLIS = 3000;
    /** {@code enum ib_cm_rej_reason}: the target's own reject, with nvme_rdma_cm_rej private data. */
    private static final int IB_CM_REJ_CONSUMER_DEFINED = 28;
    private static final int IB_CM_REJ_INVALID_SERVICE_ID = 8;

    private final NvmeRdmaQueue queue;
    private final LinkedBlockingQueue<RdmaCmEvents.Event> events = new LinkedBlockingQueue<>();
    private RdmaCmEvents cm;
    private MemorySegment id;
    private volatile boolean established;

    RdmaCmConnection(NvmeRdmaQueue queue) {
        this.queue = queue;
    }

    /** The cm_id, null before {@link #resolveAddress}. */
    MemorySegment id() {
        return id;
    }

    /** Creates the cm_id and resolves {@code peer} to the RDMA device that reaches it; returns its verbs context. */
    MemorySegment resolveAddress(InetSocketAddress peer, Inet4Address ip, Arena arena, long deadline) throws IOException {
        cm = RdmaCmEvents.get();
        id = Rdmacm.rdma_create_id(cm.channel(), MemorySegment.NULL, Rdmacm.RDMA_PS_TCP);
        cm.listen(id, this::event);
        MemorySegment sin = arena.allocate(SockaddrIn.LAYOUT);
        SockaddrIn.sin_family(sin, Libc.AF_INET);
        SockaddrIn.sin_port(sin, peer.getPort());
        SockaddrIn.sin_addr(sin, ip.getAddress());
        Rdmacm.rdma_resolve_addr(id, MemorySegment.NULL, sin, RESOLVE_TIMEOUT_MILLIS);
        await(Rdmacm.RDMA_CM_EVENT_ADDR_RESOLVED, deadline, "address resolution");
        return RdmaCmId.verbs(id);
    }

    void resolveRoute(long deadline) throws IOException {
        Rdmacm.rdma_resolve_route(id, RESOLVE_TIMEOUT_MILLIS);
        await(Rdmacm.RDMA_CM_EVENT_ROUTE_RESOLVED, deadline, "route resolution");
    }

    /**
     * Connects queue {@code qid} with HRQSIZE = size and HSQSIZE = size - 1 (the QP exists, its receives are posted)
     * and waits for ESTABLISHED.
     */
    void connect(int qid, int size, int responderResources, Arena arena, long deadline) throws IOException {
        MemorySegment request = arena.allocate(RdmaCmRequest.LAYOUT);
        RdmaCmRequest.set(request, qid, size, size - 1, 0);
        MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
        RdmaConnParam.private_data(param, 0, request);
        // as nvme_rdma_route_resolved: we never RDMA READ (initiator depth 0); the target READs our write data
        RdmaConnParam.responder_resources(param, 0, responderResources);
        RdmaConnParam.initiator_depth(param, 0, 0);
        RdmaConnParam.flow_control(param, 0, 1);
        RdmaConnParam.retry_count(param, 0, 7);
        RdmaConnParam.rnr_retry_count(param, 0, 7);
        Rdmacm.rdma_connect(id, param);
        await(Rdmacm.RDMA_CM_EVENT_ESTABLISHED, deadline, "connect");
        established = true;
    }

    /** DREQ to the target; the QP goes to ERR. */
    void disconnect() throws ErrnoException {
        Rdmacm.rdma_disconnect(id);
    }

    /** Stops routing the id's events to this queue (before the id is destroyed). */
    void forget() {
        if (cm != null && id != null) {
            cm.forget(id);
        }
    }

    void destroyQp() {
        Rdmacm.rdma_destroy_qp(id);
    }

    void destroyId() throws ErrnoException {
        if (id != null) {
            Rdmacm.rdma_destroy_id(id);
        }
    }

    private void await(int wanted, long deadline, String what) throws IOException {
        RdmaCmEvents.Event e;
        try {
            e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(queue + ": interrupted during " + what);
        }
        if (e == null) {
            throw new NvmeTransportException(queue + ": " + what + " timed out");
        }
        if (e.type() == wanted) {
            return;
        }
        if (e.type() == Rdmacm.RDMA_CM_EVENT_REJECTED) {
            if (e.status() != IB_CM_REJ_CONSUMER_DEFINED) {
                // the CM itself refused: its private data is not an nvme_rdma_cm_rej
                throw new NvmeTransportException(queue + ": connect rejected by the RDMA CM (reason " + e.status()
                        + (e.status() == IB_CM_REJ_INVALID_SERVICE_ID ? ", invalid service ID: nothing listens on that port" : "")
                        + ")");
            }
            int sts = RdmaCmReject.stsOf(MemorySegment.ofArray(e.privateData()));
            throw new NvmeTransportException(queue + ": connect rejected by the target: NVMe/RDMA status "
                    + (sts < 0 ? "none" : "0x" + Integer.toHexString(sts)) + ", " + RdmaCmReject.describe(sts));
        }
        throw new NvmeTransportException(queue + ": " + what + " failed: " + e.name() + " (status " + e.status()
                + (e.status() < 0 ? ", " + Errno.describe(-e.status()) : "") + ")");
    }

    /** On the CM thread: everything goes to the connecting thread; after ESTABLISHED a disconnect ends the queue. */
    private void event(RdmaCmEvents.Event e) {
        if (!established) {
            events.offer(e);
            return;
        }
        switch (e.type()) {
            case Rdmacm.RDMA_CM_EVENT_DISCONNECTED, Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL,
                 Rdmacm.RDMA_CM_EVENT_ADDR_CHANGE, Rdmacm.RDMA_CM_EVENT_TIMEWAIT_EXIT ->
                    queue.fail(new NvmeTransportException(queue + ": " + e.name()));
            default -> { }
        }
    }
}
