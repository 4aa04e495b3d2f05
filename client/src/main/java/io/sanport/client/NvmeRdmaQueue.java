package io.sanport.client;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvDeviceAttr;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.IbvQpInitAttr;
import io.sanport.bindings.verbs.IbvRecvWr;
import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.IbvWc;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.bindings.verbs.Verbs;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.rdma.RdmaCmReject;
import io.sanport.nvme.rdma.RdmaCmRequest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U64;
import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * One NVMe/RDMA queue pair, host side (nvmeof.md §6; Linux {@code drivers/nvme/host/rdma.c}): an RC QP reached
 * through the RDMA CM with the {@code nvme_rdma_cm_req} private data, its own PD and CQ, and one completion thread
 * that sleeps on the CQ's completion channel.
 * <p>
 * Memory: one registered pool per queue holds, per slot, the 64-byte SQE plus an 8 KiB data area, and the
 * {@code size} 16-byte receive buffers for CQEs (preposted; the target's response SEND must be exactly one CQE).
 * A command is one signaled SEND of its SQE. Its data moves:
 * <ul>
 * <li>writes up to the target's in-capsule limit (IOCCSZ x 16 - 64; I/O queues only, as Linux): copied behind the
 *     SQE, SGL Data Block / Offset (0x01);</li>
 * <li>other transfers up to 8 KiB: bounced through the slot's data area, keyed SGL (0x40) with the pool's rkey —
 *     no registration, no MR cache churn for the admin queue's 1-4 KiB Connect/Identify/log buffers;</li>
 * <li>larger transfers: zero-copy from the caller's buffer, keyed SGL (0x40) with the rkey of a long-lived MR from
 *     the queue's {@link MemoryRegionCache} (registered on first use, reused by range).</li>
 * </ul>
 * No FRWR, hence never subtype 0xF: the target answers with a plain SEND, and a SEND_WITH_INVALIDATE (which would
 * invalidate one of our long-lived keys) is a protocol error that ends the queue, as "bogus remote invalidation"
 * does in Linux. Hot path: no allocation per command (slots, WRs, SGEs and buffers are preallocated; a cache hit
 * is a scan).
 * <p>
 * Failure: any error moves the QP to ERR (via {@code rdma_disconnect}); the completion thread drains the flushed
 * work requests and only then fails every command in flight, so no RDMA WRITE can land in a buffer whose command
 * has already completed.
 */
public final class NvmeRdmaQueue extends NvmeQueue {
    /** Per-slot registered data area: in-capsule writes and bounced small transfers. */
    static final int SMALL_DATA = Capsule.IN_CAPSULE_DATA;
    static final int CAPSULE = (int) SubmissionQueueEntry.SIZE + SMALL_DATA;
    private static final int CQE_SIZE = (int) CompletionQueueEntry.SIZE;
    private static final int RESOLVE_TIMEOUT_MILLIS = 3000;
    private static final int WC_BATCH = 16;
    private static final long RECV_TAG = 1L << 32;
    private static final long SEND_TAG = 2L << 32;
    /** {@code enum ib_cm_rej_reason}: the target's own reject, with nvme_rdma_cm_rej private data. */
    private static final int IB_CM_REJ_CONSUMER_DEFINED = 28;
    private static final int IB_CM_REJ_INVALID_SERVICE_ID = 8;

    private final int qid;
    final int size;
    private final InetSocketAddress peer;
    private final Arena arena = Arena.ofShared();
    private final MemoryRegionCache.Region[] regions;
    private final boolean[] bounced;
    private final MemorySegment[] sendWrs;
    private final MemorySegment[] sendSges;
    private final MemorySegment[] badSends;
    /** [size capsules of {@link #CAPSULE} bytes][size receive buffers of 16 bytes], registered as {@link #poolMr}. */
    private final MemorySegment pool;
    private final long recvBase;
    private final LinkedBlockingQueue<RdmaCmEvents.Event> cmEvents = new LinkedBlockingQueue<>();

    private RdmaCmEvents cm;
    private MemorySegment id;
    private Verbs verbs;
    private MemorySegment pd;
    private MemorySegment compChannel;
    private MemorySegment cq;
    private boolean qpCreated;
    /** The id's QP, looked up once: a reinterpreted segment per post would allocate on the hot path. */
    private MemorySegment qp;
    private MemorySegment poolMr;
    private int poolLkey;
    private int poolRkey;
    private MemoryRegionCache mrCache;

    // completion thread only (and the opener before it starts)
    private final MemorySegment recvWr;
    private final MemorySegment recvSge;
    private final MemorySegment badRecv;
    private final MemorySegment wc;
    private int postedRecvs;

    private final AtomicInteger outstandingSends = new AtomicInteger();
    private final AtomicLong payloadBytesCopied = new AtomicLong();
    private volatile long inCapsuleMax;
    private Thread completer;
    private final Object failLock = new Object();
    private volatile NvmeTransportException failure;
    private volatile boolean established;
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
        regions = new MemoryRegionCache.Region[size];
        bounced = new boolean[size];
        sendWrs = new MemorySegment[size];
        sendSges = new MemorySegment[size];
        badSends = new MemorySegment[size];
        pool = arena.allocate((long) size * CAPSULE + (long) size * CQE_SIZE, 4096);
        recvBase = (long) size * CAPSULE;
        for (int i = 0; i < size; i++) {
            slots[i] = new CommandSlot(i, arena);
            sendWrs[i] = arena.allocate(IbvSendWr.LAYOUT);
            sendSges[i] = arena.allocate(IbvSge.LAYOUT);
            badSends[i] = arena.allocate(ADDRESS);
        }
        for (int i = size - 1; i >= 0; i--) {
            pushFree(slots[i]);
        }
        recvWr = arena.allocate(IbvRecvWr.LAYOUT);
        recvSge = arena.allocate(IbvSge.LAYOUT);
        badRecv = arena.allocate(ADDRESS);
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
        if (!(ip instanceof Inet4Address)) {
            throw new IOException(peer + ": NVMe/RDMA here takes IPv4 addresses only");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        cm = RdmaCmEvents.get();
        id = Rdmacm.rdma_create_id(cm.channel(), MemorySegment.NULL, Rdmacm.RDMA_PS_TCP);
        cm.listen(id, this::cmEvent);
        MemorySegment sin = arena.allocate(SockaddrIn.LAYOUT);
        SockaddrIn.sin_family(sin, Libc.AF_INET);
        SockaddrIn.sin_port(sin, peer.getPort());
        SockaddrIn.sin_addr(sin, ip.getAddress());
        Rdmacm.rdma_resolve_addr(id, MemorySegment.NULL, sin, RESOLVE_TIMEOUT_MILLIS);
        await(Rdmacm.RDMA_CM_EVENT_ADDR_RESOLVED, deadline, "address resolution");

        MemorySegment context = RdmaCmId.verbs(id);
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
        Rdmacm.rdma_create_qp(id, pd, init);
        qpCreated = true;
        qp = IbvQp.of(RdmaCmId.qp(id));
        poolMr = Ibverbs.ibv_reg_mr(pd, pool, Ibverbs.IBV_ACCESS_LOCAL_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ
                | Ibverbs.IBV_ACCESS_REMOTE_WRITE);
        poolLkey = IbvMr.lkey(poolMr);
        poolRkey = IbvMr.rkey(poolMr);
        mrCache = new MemoryRegionCache(pd);
        for (int i = 0; i < size; i++) {
            IbvSendWr.sg_list(sendWrs[i], 0, sendSges[i], 1);
            IbvSendWr.opcode(sendWrs[i], 0, Ibverbs.IBV_WR_SEND);
            IbvSendWr.send_flags(sendWrs[i], 0, Ibverbs.IBV_SEND_SIGNALED);
            IbvSendWr.wr_id(sendWrs[i], 0, SEND_TAG | i);
        }
        // all receives before the connect: the first completion can follow the first SEND at once
        for (int i = 0; i < size; i++) {
            postRecv(i);
        }

        Rdmacm.rdma_resolve_route(id, RESOLVE_TIMEOUT_MILLIS);
        await(Rdmacm.RDMA_CM_EVENT_ROUTE_RESOLVED, deadline, "route resolution");

        MemorySegment request = arena.allocate(RdmaCmRequest.LAYOUT);
        RdmaCmRequest.set(request, qid, size, size - 1, 0);
        MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
        RdmaConnParam.private_data(param, 0, request);
        // as nvme_rdma_route_resolved: we never RDMA READ (initiator depth 0); the target READs our write data
        RdmaConnParam.responder_resources(param, 0, Math.min(255, IbvDeviceAttr.max_qp_rd_atom(attr)));
        RdmaConnParam.initiator_depth(param, 0, 0);
        RdmaConnParam.flow_control(param, 0, 1);
        RdmaConnParam.retry_count(param, 0, 7);
        RdmaConnParam.rnr_retry_count(param, 0, 7);
        Rdmacm.rdma_connect(id, param);
        RdmaCmEvents.Event e = await(Rdmacm.RDMA_CM_EVENT_ESTABLISHED, deadline, "connect");
        established = true;

        if (verbs.ibv_req_notify_cq(cq, 0) != 0) {
            throw new IOException(this + ": ibv_req_notify_cq failed");
        }
        completer = Thread.ofPlatform().daemon().name("nvme-rdma-q" + qid + "-" + peer.getHostString())
                .start(this::completionLoop);
    }

    private RdmaCmEvents.Event await(int wanted, long deadline, String what) throws IOException {
        RdmaCmEvents.Event e;
        try {
            e = cmEvents.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(this + ": interrupted during " + what);
        }
        if (e == null) {
            throw new NvmeTransportException(this + ": " + what + " timed out");
        }
        if (e.type() == wanted) {
            return e;
        }
        if (e.type() == Rdmacm.RDMA_CM_EVENT_REJECTED) {
            if (e.status() != IB_CM_REJ_CONSUMER_DEFINED) {
                // the CM itself refused: its private data is not an nvme_rdma_cm_rej
                throw new NvmeTransportException(this + ": connect rejected by the RDMA CM (reason " + e.status()
                        + (e.status() == IB_CM_REJ_INVALID_SERVICE_ID ? ", invalid service ID: nothing listens on that port" : "")
                        + ")");
            }
            int sts = RdmaCmReject.stsOf(MemorySegment.ofArray(e.privateData()));
            throw new NvmeTransportException(this + ": connect rejected by the target: NVMe/RDMA status "
                    + (sts < 0 ? "none" : "0x" + Integer.toHexString(sts)) + ", " + RdmaCmReject.describe(sts));
        }
        throw new NvmeTransportException(this + ": " + what + " failed: " + e.name() + " (status " + e.status()
                + (e.status() < 0 ? ", " + Errno.describe(-e.status()) : "") + ")");
    }

    /** On the CM thread: everything goes to the connecting thread; after ESTABLISHED a disconnect ends the queue. */
    private void cmEvent(RdmaCmEvents.Event e) {
        if (!established) {
            cmEvents.offer(e);
            return;
        }
        switch (e.type()) {
            case Rdmacm.RDMA_CM_EVENT_DISCONNECTED, Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL,
                 Rdmacm.RDMA_CM_EVENT_ADDR_CHANGE, Rdmacm.RDMA_CM_EVENT_TIMEWAIT_EXIT ->
                    fail(new NvmeTransportException(this + ": " + e.name()));
            default -> { }
        }
    }

    // ---- NvmeQueue ----

    @Override
    int qid() {
        return qid;
    }

    @Override
    void inCapsuleMax(long bytes) {
        // Linux: never on the admin queue; and never more than our per-slot area
        inCapsuleMax = qid == 0 ? 0 : Math.min(bytes, SMALL_DATA);
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
        return payloadBytesCopied.get();
    }

    /** ibv_reg_mr calls for callers' buffers so far (the MR cache's misses). */
    long registrations() {
        return mrCache == null ? 0 : mrCache.registrations();
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
        long capsule = (long) i * CAPSULE;
        MemorySegment.copy(slot.sqe, 0, pool, capsule, SubmissionQueueEntry.SIZE);
        long dptr = capsule + SubmissionQueueEntry.OFFSET_DPTR;
        long length = slot.dataLength;
        int sendLength = (int) SubmissionQueueEntry.SIZE;
        bounced[i] = false;
        regions[i] = null;
        if (length == 0) {
            SglDescriptor.setKeyed(pool, dptr, 0, 0, 0, SglDescriptor.ID_KEYED);
        } else if (length > SglDescriptor.KEYED_MAX_LENGTH) {
            complete(slot, CommandSlot.PREPARED, 0, 0, new NvmeTransportException(slot.name + ": " + length
                    + " bytes exceed a keyed SGL descriptor's 24-bit length"));
            return;
        } else if (slot.hostToController && length <= inCapsuleMax) {
            MemorySegment.copy(slot.data, 0, pool, capsule + SubmissionQueueEntry.SIZE, length);
            payloadBytesCopied.addAndGet(length);
            SglDescriptor.set(pool, dptr, 0, length, SglDescriptor.ID_DATA_OFFSET);
            slot.inCapsule = true;
            sendLength += (int) length;
        } else if (length <= SMALL_DATA) {
            long area = capsule + SubmissionQueueEntry.SIZE;
            if (slot.hostToController) {
                MemorySegment.copy(slot.data, 0, pool, area, length);
                payloadBytesCopied.addAndGet(length);
            }
            bounced[i] = true;
            SglDescriptor.setKeyed(pool, dptr, pool.address() + area, (int) length, poolRkey, SglDescriptor.ID_KEYED);
        } else {
            MemoryRegionCache.Region r;
            try {
                r = mrCache.acquire(slot.data);
            } catch (ErrnoException e) {
                complete(slot, CommandSlot.PREPARED, 0, 0, new NvmeTransportException(slot.name + ": registering "
                        + length + " bytes at 0x" + Long.toHexString(slot.dataAddress) + ": " + e.getMessage(), e));
                return;
            }
            regions[i] = r;
            SglDescriptor.setKeyed(pool, dptr, slot.dataAddress, (int) length, r.rkey, SglDescriptor.ID_KEYED);
        }
        IbvSge.set(sendSges[i], 0, pool.address() + capsule, sendLength, poolLkey);
        if (!slot.transition(CommandSlot.PREPARED, CommandSlot.IN_FLIGHT)) {
            throw new IllegalStateException(slot.name + ": submitted twice or not acquired (state " + slot.state() + ")");
        }
        outstandingSends.incrementAndGet();
        int rc = verbs.ibv_post_send(qp, sendWrs[i], badSends[i]);
        if (rc != 0) {
            outstandingSends.decrementAndGet();
            fail(new NvmeTransportException(this + ": ibv_post_send: " + Errno.describe(Math.abs(rc))));
        }
        if (stopped) {
            // the completion thread has already swept: nobody else will complete this one
            failInFlight(slot);
        }
    }

    // ---- completion side: the completion thread ----

    private void postRecv(int index) throws NvmeTransportException {
        IbvSge.set(recvSge, 0, pool.address() + recvBase + (long) index * CQE_SIZE, CQE_SIZE, poolLkey);
        IbvRecvWr.wr_id(recvWr, 0, RECV_TAG | index);
        IbvRecvWr.sg_list(recvWr, 0, recvSge, 1);
        int rc = verbs.ibv_post_recv(qp, recvWr, badRecv);
        if (rc != 0) {
            throw new NvmeTransportException(this + ": ibv_post_recv: " + Errno.describe(Math.abs(rc)));
        }
        postedRecvs++;
    }

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
                if (failure != null && postedRecvs == 0 && outstandingSends.get() == 0) {
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
        if ((wrId & RECV_TAG) != 0) {
            postedRecvs--;
            if (status != Ibverbs.IBV_WC_SUCCESS) {
                wcError("receive", status, at);
                return;
            }
            receive(index, at);
        } else {
            outstandingSends.decrementAndGet();
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

    private void receive(int index, long at) {
        long cqe = recvBase + (long) index * CQE_SIZE;
        if (IbvWc.byte_len(wc, at) != CQE_SIZE) {
            fail(new NvmeTransportException(this + ": response of " + IbvWc.byte_len(wc, at)
                    + " bytes, a CQE is exactly 16 (nvmeof.md §6.2)"));
            return;
        }
        if ((IbvWc.wc_flags(wc, at) & Ibverbs.IBV_WC_WITH_INV) != 0) {
            fail(new NvmeTransportException(this + ": bogus remote invalidation of rkey 0x"
                    + Integer.toHexString(IbvWc.invalidated_rkey(wc, at)) + ": this host never asks for it (SGL 0x40)"));
            return;
        }
        long result = pool.get(U64, cqe + CompletionQueueEntry.OFFSET_DW0);
        int cid = Short.toUnsignedInt(pool.get(U16, cqe + CompletionQueueEntry.OFFSET_CID));
        int statusWord = Short.toUnsignedInt(pool.get(U16, cqe + CompletionQueueEntry.OFFSET_STATUS)) & ~Status.PHASE;
        if (failure == null) {
            try {
                postRecv(index);
            } catch (NvmeTransportException e) {
                fail(e);
            }
        }
        CommandSlot slot = slots[cid & CommandSlot.INDEX_MASK];
        if ((cid & CommandSlot.INDEX_MASK) >= size || slot.cid != cid || slot.state() != CommandSlot.IN_FLIGHT) {
            fail(new NvmeTransportException(this + ": completion for CID " + cid + ", which is not in flight"));
            return;
        }
        int i = slot.index;
        if (bounced[i] && !slot.hostToController && Status.isSuccess(statusWord)) {
            MemorySegment.copy(pool, (long) i * CAPSULE + SubmissionQueueEntry.SIZE, slot.data, 0, slot.dataLength);
            payloadBytesCopied.addAndGet(slot.dataLength);
        }
        complete(slot, CommandSlot.IN_FLIGHT, statusWord, result, null);
    }

    private void releaseRegion(int i) {
        MemoryRegionCache.Region r = regions[i];
        if (r != null) {
            regions[i] = null;
            mrCache.release(r);
        }
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
        releaseRegion(slot.index);
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
            Rdmacm.rdma_disconnect(id);
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
        if (cm != null && id != null) {
            cm.forget(id);
        }
        if (qpCreated) {
            Rdmacm.rdma_destroy_qp(id);
        }
        quietly(() -> { if (cq != null) Ibverbs.ibv_destroy_cq(cq); });
        quietly(() -> { if (compChannel != null) Ibverbs.ibv_destroy_comp_channel(compChannel); });
        if (mrCache != null) {
            mrCache.close();
        }
        quietly(() -> { if (poolMr != null) Ibverbs.ibv_dereg_mr(poolMr); });
        quietly(() -> { if (pd != null) Ibverbs.ibv_dealloc_pd(pd); });
        quietly(() -> { if (id != null) Rdmacm.rdma_destroy_id(id); });
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
