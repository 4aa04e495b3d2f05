package io.sanport.client;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvDeviceAttr;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.IbvQpInitAttr;
import io.sanport.bindings.verbs.IbvWc;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.bindings.verbs.Verbs;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U64;

/**
 * One NVMe/RDMA queue pair, host side (nvmeof.md §6; Linux {@code drivers/nvme/host/rdma.c}): an RC QP reached
 * through the RDMA CM with the {@code nvme_rdma_cm_req} private data ({@link RdmaCmConnection}), its own PD and CQ,
 * and one completion thread that sleeps on the CQ's completion channel.
 * <p>
 * A command is one signaled SEND of its capsule from the queue's registered {@link RdmaCapsulePool}, its data
 * described by the {@link RdmaDataMapper} (in capsule, bounced through the pool, or zero-copy with a long-lived MR
 * from the {@link MemoryRegionCache}). The target answers with a plain SEND of one CQE into a preposted receive
 * buffer; a SEND_WITH_INVALIDATE (which would invalidate one of our long-lived keys) is a protocol error that ends
 * the queue, as "bogus remote invalidation" does in Linux. Hot path: no allocation per command (slots, WRs, SGEs
 * and buffers are preallocated; a cache hit is a scan).
 * <p>
 * Failure: any error moves the QP to ERR (via {@code rdma_disconnect}); the completion thread drains the flushed
 * work requests and only then fails every command in flight, so no RDMA WRITE can land in a buffer whose command
 * has already completed.
 */
public final class NvmeRdmaQueue extends NvmeQueue {
    private static final int WC_BATCH = 16;

    private final int qid;
    final int size;
    private final InetSocketAddress peer;
    private final Arena arena = Arena.ofShared();
    private final RdmaCmConnection connection = new RdmaCmConnection(this);
    private final RdmaCapsulePool capsules;
    private final RdmaDataMapper data;

    private Verbs verbs;
    private MemorySegment pd;
    private MemorySegment compChannel;
    private MemorySegment cq;
    private boolean qpCreated;
    /** The id's QP, looked up once: a reinterpreted segment per post would allocate on the hot path. */
    private MemorySegment qp;

    /** Work completions, completion thread only. */
    private final MemorySegment wc;
    private Thread completer;
    private final Object failLock = new Object();
    private volatile NvmeTransportException failure;
    private volatile boolean stopped;
    private volatile boolean destroyed;

    private NvmeRdmaQueue(InetSocketAddress peer, int qid, int size) {
        if (size < 2 || size > CommandSlot.MAX_SLOTS) {
            throw new IllegalArgumentException("queue size " + size + " out of 2.." + CommandSlot.MAX_SLOTS);
        }
        super(size, "completion");
        this.peer = peer;
        this.qid = qid;
        this.size = size;
        capsules = new RdmaCapsulePool(this, arena, size);
        data = new RdmaDataMapper(capsules, size);
        for (int i = 0; i < size; i++) {
            slots[i] = new CommandSlot(i, arena);
        }
        for (int i = size - 1; i >= 0; i--) {
            pushFree(slots[i]);
        }
        wc = arena.allocate(IbvWc.LAYOUT.byteSize() * WC_BATCH, 8);
    }

    /**
     * Connects queue {@code qid} of {@code size} entries to the NVMe/RDMA target at {@code address} (nvmeof.md
     * §6.6): resolve address and route (3 s each), PD, CQ, QP, receives posted, {@code rdma_connect} with
     * HRQSIZE = size and HSQSIZE = size - 1; a reject is reported with its NVMe/RDMA status in words.
     */
    public static NvmeRdmaQueue open(InetSocketAddress address, int qid, int size, int timeoutMillis) throws IOException {
        NvmeRdmaQueue q = new NvmeRdmaQueue(address, qid, size);
        try {
            q.connect(timeoutMillis);
            return q;
        } catch (IOException | RuntimeException | Error e) {
            q.destroy();
            throw e;
        }
    }

    private void connect(int timeoutMillis) throws IOException {
        String unavailable = Rdmacm.unavailableReason();
        if (unavailable != null) {
            throw new IOException("NVMe/RDMA needs librdmacm: " + unavailable);
        }
        InetAddress ip = peer.getAddress();
        if (!(ip instanceof Inet4Address ip4)) {
            throw new IOException(peer + ": NVMe/RDMA here takes IPv4 addresses only");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        MemorySegment context = connection.resolveAddress(peer, ip4, arena, deadline);
        verbs = Verbs.of(context);
        MemorySegment attr = arena.allocate(IbvDeviceAttr.LAYOUT);
        Ibverbs.ibv_query_device(context, attr);
        pd = Ibverbs.ibv_alloc_pd(context);
        compChannel = Ibverbs.ibv_create_comp_channel(context);
        // every command: one SEND; a slot may be reused before its SEND's completion is polled, hence 2x
        int sendDepth = 2 * size + 1;
        cq = Ibverbs.ibv_create_cq(context, sendDepth + size, MemorySegment.NULL, compChannel, 0);
        MemorySegment init = arena.allocate(IbvQpInitAttr.LAYOUT);
        IbvQpInitAttr.send_cq(init, cq);
        IbvQpInitAttr.recv_cq(init, cq);
        IbvQpInitAttr.cap(init, sendDepth, size, 1, 1, 0);
        IbvQpInitAttr.qp_type(init, Ibverbs.IBV_QPT_RC);
        Rdmacm.rdma_create_qp(connection.id(), pd, init);
        qpCreated = true;
        qp = IbvQp.of(RdmaCmId.qp(connection.id()));
        capsules.register(pd, verbs, qp);
        data.open(pd);
        // all receives before the connect: the first completion can follow the first SEND at once
        for (int i = 0; i < size; i++) {
            capsules.postRecv(i);
        }

        connection.resolveRoute(deadline);
        connection.connect(qid, size, Math.min(255, IbvDeviceAttr.max_qp_rd_atom(attr)), arena, deadline);

        if (verbs.ibv_req_notify_cq(cq, 0) != 0) {
            throw new IOException(this + ": ibv_req_notify_cq failed");
        }
        completer = Thread.ofPlatform().daemon().name("nvme-rdma-q" + qid + "-" + peer.getHostString())
                .start(this::completionLoop);
    }

    // ---- NvmeQueue ----

    @Override
    int qid() {
        return qid;
    }

    @Override
    void inCapsuleMax(long bytes) {
        // Linux: never on the admin queue; and never more than our per-slot area
        data.inCapsuleMax(qid == 0 ? 0 : Math.min(bytes, RdmaCapsulePool.SMALL_DATA));
    }

    @Override
    boolean isFailed() {
        return failure != null;
    }

    @Override
    NvmeTransportException failure() {
        return failure;
    }

    @Override
    long payloadBytesCopied() {
        return data.payloadBytesCopied();
    }

    @Override
    Thread completionThread() {
        return completer;
    }

    @Override
    void timedOut(CommandSlot slot, long timeoutMillis) {
        // the completion thread fails it once the QP has drained
        fail(new NvmeTransportException(slot.name + " (cid " + slot.cid + ") on " + this
                + ": no completion within " + timeoutMillis + " ms"));
    }

    // ---- send side: any thread ----

    @Override
    void send(CommandSlot slot) {
        NvmeTransportException failed = failure;
        if (failed != null) {
            complete(slot, CommandSlot.PREPARED, 0, 0, failed);
            return;
        }
        int i = slot.index;
        MemorySegment.copy(slot.sqe, 0, capsules.pool, RdmaCapsulePool.capsule(i), SubmissionQueueEntry.SIZE);
        int sendLength;
        try {
            sendLength = data.map(slot);
        } catch (NvmeTransportException e) {
            complete(slot, CommandSlot.PREPARED, 0, 0, e);
            return;
        }
        capsules.sendLength(i, sendLength);
        if (!slot.transition(CommandSlot.PREPARED, CommandSlot.IN_FLIGHT)) {
            throw new IllegalStateException(slot.name + ": submitted twice or not acquired (state " + slot.state() + ")");
        }
        int rc = capsules.postSend(i);
        if (rc != 0) {
            fail(new NvmeTransportException(this + ": ibv_post_send: " + Errno.describe(Math.abs(rc))));
        }
        if (stopped) {
            // the completion thread has already swept: nobody else will complete this one
            failInFlight(slot);
        }
    }

    // ---- completion side: the completion thread ----

    private void completionLoop() {
        boolean armed = true;
        try {
            while (true) {
                int n = verbs.ibv_poll_cq(cq, WC_BATCH, wc);
                if (n < 0) {
                    throw new NvmeTransportException(this + ": ibv_poll_cq returned " + n);
                }
                for (int k = 0; k < n; k++) {
                    handle(k * IbvWc.SIZE);
                }
                if (n > 0) {
                    continue;
                }
                // quiesced: the QP is in ERR and every work request came back
                if (failure != null && capsules.drained()) {
                    break;
                }
                if (!armed) {
                    if (verbs.ibv_req_notify_cq(cq, 0) != 0) {
                        throw new NvmeTransportException(this + ": ibv_req_notify_cq failed");
                    }
                    armed = true;
                    continue; // poll once more: a completion may have come before the arming
                }
                Ibverbs.ibv_get_cq_event(compChannel);
                Ibverbs.ibv_ack_cq_events(cq, 1);
                armed = false;
            }
        } catch (Throwable t) {
            fail(t instanceof NvmeTransportException e ? e
                    : new NvmeTransportException(this + ": completion thread: " + t, t));
        } finally {
            stopped = true;
            NvmeTransportException cause = failure;
            failInFlight(cause != null ? cause : new NvmeTransportException(this + " stopped"));
        }
    }

    private void handle(long at) {
        long wrId = IbvWc.wr_id(wc, at);
        int status = IbvWc.status(wc, at);
        int index = (int) wrId;
        if ((wrId & RdmaCapsulePool.RECV_TAG) != 0) {
            capsules.recvCompleted();
            if (status != Ibverbs.IBV_WC_SUCCESS) {
                wcError("receive", status, at);
                return;
            }
            receive(index, at);
        } else {
            capsules.sendCompleted();
            if (status != Ibverbs.IBV_WC_SUCCESS) {
                wcError("SEND of " + slots[index].name, status, at);
            }
        }
    }

    private void wcError(String what, int status, long at) {
        if (status == Ibverbs.IBV_WC_WR_FLUSH_ERR && failure != null) {
            return; // expected while the QP drains after a failure
        }
        fail(new NvmeTransportException(this + ": " + what + " completed with " + Ibverbs.ibv_wc_status_str(status)
                + " (vendor_err 0x" + Integer.toHexString(IbvWc.vendor_err(wc, at)) + ")"));
    }

    /** A response: one CQE in receive buffer {@code index}, which is reposted at once. */
    private void receive(int index, long at) {
        if (IbvWc.byte_len(wc, at) != RdmaCapsulePool.CQE_SIZE) {
            fail(new NvmeTransportException(this + ": response of " + IbvWc.byte_len(wc, at)
                    + " bytes, a CQE is exactly 16 (nvmeof.md §6.2)"));
            return;
        }
        if ((IbvWc.wc_flags(wc, at) & Ibverbs.IBV_WC_WITH_INV) != 0) {
            fail(new NvmeTransportException(this + ": bogus remote invalidation of rkey 0x"
                    + Integer.toHexString(IbvWc.invalidated_rkey(wc, at)) + ": this host never asks for it (SGL 0x40)"));
            return;
        }
        MemorySegment pool = capsules.pool;
        long cqe = capsules.response(index);
        long result = pool.get(U64, cqe + CompletionQueueEntry.OFFSET_DW0);
        int cid = Short.toUnsignedInt(pool.get(U16, cqe + CompletionQueueEntry.OFFSET_CID));
        int statusWord = Short.toUnsignedInt(pool.get(U16, cqe + CompletionQueueEntry.OFFSET_STATUS)) & ~Status.PHASE;
        if (failure == null) {
            try {
                capsules.postRecv(index);
            } catch (NvmeTransportException e) {
                fail(e);
            }
        }
        int slotIndex = cid & CommandSlot.INDEX_MASK;
        CommandSlot slot = slotIndex < size ? slots[slotIndex] : null;
        if (slot == null || slot.cid != cid || slot.state() != CommandSlot.IN_FLIGHT) {
            fail(new NvmeTransportException(this + ": completion for CID " + cid + ", which is not in flight"));
            return;
        }
        data.unmap(slot, statusWord);
        complete(slot, CommandSlot.IN_FLIGHT, statusWord, result, null);
    }

    /** A command the completion thread can no longer complete: the sweep is over. */
    private void failInFlight(CommandSlot slot) {
        if (slot.state() == CommandSlot.IN_FLIGHT) {
            NvmeTransportException cause = failure;
            complete(slot, CommandSlot.IN_FLIGHT, 0, 0, cause != null ? cause : new NvmeTransportException(this + " stopped"));
        }
    }

    /** The slot's long-lived MR (a larger transfer's) goes back to the cache as the command completes. */
    @Override
    void completing(CommandSlot slot) {
        data.release(slot);
    }

    // ---- teardown ----

    @Override
    void fail(NvmeTransportException cause) {
        synchronized (failLock) {
            if (failure != null) {
                return;
            }
            failure = cause;
        }
        toError();
    }

    /** QP to ERR: posted work requests flush back, the target can no longer touch our memory. */
    private void toError() {
        if (!qpCreated || destroyed) {
            return;
        }
        try {
            connection.disconnect();
        } catch (ErrnoException e) {
            // not connected (yet, or any more): move the QP ourselves
        }
        try {
            MemorySegment attr = Arena.ofAuto().allocate(IbvQpAttr.LAYOUT);
            IbvQpAttr.qp_state(attr, Ibverbs.IBV_QPS_ERR);
            Ibverbs.ibv_modify_qp(qp, attr, Ibverbs.IBV_QP_STATE);
        } catch (ErrnoException e) {
            // already in ERR
        }
    }

    /** Disconnects (DREQ to the target), drains, then frees QP, CQ, MRs, PD and the CM id. */
    @Override
    public void close() {
        fail(new NvmeTransportException("queue " + qid + " of " + peer + " was closed by the host"));
        destroy();
    }

    private synchronized void destroy() {
        if (destroyed) {
            return;
        }
        if (completer != null && Thread.currentThread() != completer) {
            try {
                completer.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (completer.isAlive()) {
                // a verbs call could still touch these resources: leak them rather than crash
                System.err.println(this + ": completion thread did not drain in 10 s; its resources are leaked");
                return;
            }
        }
        destroyed = true;
        connection.forget();
        if (qpCreated) {
            connection.destroyQp();
        }
        quietly(() -> { if (cq != null) Ibverbs.ibv_destroy_cq(cq); });
        quietly(() -> { if (compChannel != null) Ibverbs.ibv_destroy_comp_channel(compChannel); });
        data.close();
        quietly(capsules::deregister);
        quietly(() -> { if (pd != null) Ibverbs.ibv_dealloc_pd(pd); });
        quietly(connection::destroyId);
        arena.close();
    }

    private interface Step {
        void run() throws ErrnoException;
    }

    private void quietly(Step step) {
        try {
            step.run();
        } catch (ErrnoException | RuntimeException e) {
            System.err.println(this + ": teardown: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "NvmeRdmaQueue[" + peer.getHostString() + ":" + peer.getPort() + " qid " + qid + ", " + size + " entries]";
    }
}
