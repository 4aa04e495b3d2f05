package io.sanport.transport.rdma;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.iop.Reactor;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.QueuePair;
import io.sanport.hostdriver.Request;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One NVMe/RDMA queue = one RC QP on its reactor's CQ and SRQ (nvmet's {@code nvmet_rdma_queue}). Per request
 * slot it keeps the keyed SGL (address, key, invalidate), the receive buffer it holds, two send WRs (data +
 * response) with their SGEs and a 16-byte response buffer, all preallocated for HSQSIZE + 1 + spare slots when
 * the host connects: nothing is allocated per I/O.
 *
 * <p>Data: in-capsule data is copied from the receive buffer into the request's pool buffer (counted); keyed
 * data moves by RDMA READ into the pool buffer (host writes) and by RDMA WRITE from it, chained in one
 * {@code ibv_post_send} with the SEND of the completion (host reads). The completion goes as
 * SEND_WITH_INVALIDATE(key) when the host asked (keyed SGL subtype 0xF). Send-queue and RDMA READ credits
 * (initiator depth) are counted; a request that finds none waits in a FIFO, it is never failed.
 *
 * <p>Teardown: the QP goes to ERR (rdma_disconnect, as nvmet), every posted WR comes back flushed, then the core
 * quiesces the requests ({@link QueuePair#close}); after it, the QP and the cm_id are destroyed by the conductor.
 * Reactor thread only, except {@link #disconnect}.
 */
final class RdmaQueue implements RemoteQueue {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    /** Request slots beyond HSQSIZE + 1, as the core's (a completion reaches the host before our SEND completes). */
    static final int SPARE = 4;
    private static final int EARLY_MAX = 8;
    private static final long WR = IbvSendWr.SIZE;
    private static final long SGE = IbvSge.SIZE;
    private static final int CQE = (int) CompletionQueueEntry.SIZE;

    private final Consumer<RdmaQueue> onFreed;
    final RdmaReactor rr;
    final Reactor reactor;
    final Target target;
    final Port port;
    final MemorySegment id;
    final long handle;
    final MemorySegment qp;
    final int qpNum;
    final int cmQid;
    final int capacity;
    final int sendDepth;
    final int readDepth;
    private final String localAddress;
    private final String peer;
    private final RdmaStats stats;
    private final RdmaStats.Counters counters;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment wrs;
    private final MemorySegment[] dataWr;
    private final MemorySegment[] sendWr;
    private final MemorySegment[] dataSge;
    private final MemorySegment[] respSge;
    private final MemorySegment[] response;
    private final MemorySegment responseMr;
    private final int responseLkey;
    private final MemorySegment badWr;
    private final RdmaSgl sgl = new RdmaSgl();

    // per request slot
    private final int[] recvOf;
    private final int[] recvLength;
    private final int[] inOffset;
    private final long[] remoteAddress;
    private final int[] rkey;
    private final boolean[] invalidate;
    private final int[] waitNext;

    private int slot = -1;
    private QueuePair queue;
    private int sqFree;
    private int readFree;
    private int outstanding;      // WRs posted, completion not seen yet
    private int readHead = -1, readTail = -1;
    private int sendHead = -1, sendTail = -1;
    private final int[] early = new int[EARLY_MAX];
    private final int[] earlyLength = new int[EARLY_MAX];
    private int earlyCount;
    private boolean established;
    private boolean closing;
    private boolean drained;
    private boolean freed;
    private long capsules;

    /** Made on the reactor thread by the conductor, after rdma_create_qp and before rdma_accept. */
    RdmaQueue(Consumer<RdmaQueue> onFreed, RdmaReactor rr, Target target, Port port, MemorySegment id, long handle,
              MemorySegment qp, int qpNum, int cmQid, int capacity, int sendDepth, int readDepth,
              String localAddress, String peer, RdmaStats stats) throws ErrnoException {
        this.onFreed = onFreed;
        this.rr = rr;
        this.reactor = rr.reactor;
        this.target = target;
        this.port = port;
        this.id = id;
        this.handle = handle;
        this.qp = qp;
        this.qpNum = qpNum;
        this.cmQid = cmQid;
        this.capacity = capacity;
        this.sendDepth = sendDepth;
        this.readDepth = readDepth;
        this.localAddress = localAddress;
        this.peer = peer;
        this.stats = stats;
        this.counters = rr.counters;
        this.sqFree = sendDepth;
        this.readFree = readDepth;
        wrs = arena.allocate(2 * WR * capacity, 8);
        MemorySegment sges = arena.allocate(2 * SGE * capacity, 8);
        MemorySegment responses = arena.allocate((long) CQE * capacity, 64);
        dataWr = new MemorySegment[capacity];
        sendWr = new MemorySegment[capacity];
        dataSge = new MemorySegment[capacity];
        respSge = new MemorySegment[capacity];
        response = new MemorySegment[capacity];
        for (int t = 0; t < capacity; t++) {
            dataWr[t] = wrs.asSlice(2 * WR * t, WR);
            sendWr[t] = wrs.asSlice(2 * WR * t + WR, WR);
            dataSge[t] = sges.asSlice(2 * SGE * t, SGE);
            respSge[t] = sges.asSlice(2 * SGE * t + SGE, SGE);
            response[t] = responses.asSlice((long) CQE * t, CQE);
        }
        responseMr = rr.device.control.ibv_reg_mr(rr.device.pd, responses, Ibverbs.IBV_ACCESS_LOCAL_WRITE);
        responseLkey = IbvMr.lkey(responseMr);
        badWr = arena.allocate(ValueLayout.ADDRESS);
        recvOf = new int[capacity];
        recvLength = new int[capacity];
        inOffset = new int[capacity];
        remoteAddress = new long[capacity];
        rkey = new int[capacity];
        invalidate = new boolean[capacity];
        waitNext = new int[capacity];
        java.util.Arrays.fill(recvOf, -1);
        slot = rr.register(this);
        if (slot < 0) {
            rr.device.control.ibv_dereg_mr(responseMr);
            arena.close();
            throw new ErrnoException("registering a queue on " + reactor.name(), null, Errno.ENOMEM);
        }
    }

    private long wrId(int kind, int tag) {
        return (long) kind << 56 | (long) slot << 32 | (tag & 0xFFFFFFFFL);
    }

    // ---------------------------------------------------------------- from the conductor (via the reactor)

    /** RDMA CM says ESTABLISHED: the core gets its queue, and capsules that came before it run now (as nvmet). */
    void established() {
        if (closing) {
            return;
        }
        established = true;
        try {
            queue = target.newQueue(port, reactor, this);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, this + ": " + e.getMessage());
            shutdown();
            return;
        }
        for (int i = 0; i < earlyCount && !closing; i++) {
            received(early[i], earlyLength[i]);
        }
        earlyCount = 0;
    }

    boolean isEstablished() {
        return established;
    }

    /** The connection is gone (DISCONNECTED, an error event) or must go. */
    void cmGone() {
        shutdown();
    }

    // ---------------------------------------------------------------- receive

    /** A capsule arrived in receive buffer {@code index} ({@code length} bytes). */
    void received(int index, int length) {
        capsules++;
        counters.capsules++;
        if (closing) {
            rr.repost(index);
            return;
        }
        if (length < SubmissionQueueEntry.SIZE) {
            rr.repost(index);
            protocolError("a capsule of " + length + " bytes, shorter than an SQE");
            return;
        }
        if (!established) {
            if (earlyCount == EARLY_MAX) {
                rr.repost(index);
                protocolError("more than " + EARLY_MAX + " capsules before the connection was established");
                return;
            }
            early[earlyCount] = index;
            earlyLength[earlyCount++] = length;
            return;
        }
        Request r = queue.acquire();
        if (r == null) {
            rr.repost(index);
            protocolError("more commands outstanding than the queue holds (" + queue.capacity() + ")");
            return;
        }
        int tag = r.tag();
        MemorySegment.copy(rr.recvBuffer(index), 0, r.sqe(), 0, SubmissionQueueEntry.SIZE);
        if (queue.qid() < 0 && r.opcode() == FabricsCommand.OPCODE
                && FabricsCommand.fctype(r.sqe()) == FabricsCommand.FCTYPE_CONNECT
                && ConnectCommand.qid(r.sqe()) != cmQid) {
            // the QP was sized for the queue the RDMA CM request named: a Connect for another one is a lie
            queue.release(r);
            rr.repost(index);
            protocolError("Connect for queue " + ConnectCommand.qid(r.sqe()) + " on the QP of queue " + cmQid);
            return;
        }
        int extra = length - (int) SubmissionQueueEntry.SIZE;
        recvLength[tag] = extra;
        invalidate[tag] = false;
        if (extra > 0) {
            recvOf[tag] = index;
        } else {
            recvOf[tag] = -1;
            rr.repost(index);
        }
        queue.start(r);
        if (recvOf[tag] >= 0 && r.inCapsuleLength() == 0 && r.queue() == queue && !closing
                && r.state() != Request.State.FREE) {
            // the capsule carried bytes the SGL does not use: give the buffer back now
            rr.repost(recvOf[tag]);
            recvOf[tag] = -1;
        }
    }

    @Override
    public int mapData(Request r) {
        int tag = r.tag();
        int code = sgl.map(r.sqe(), recvLength[tag], Capsule.IN_CAPSULE_DATA, target.maxTransfer());
        if (code != Status.SUCCESS) {
            return code;
        }
        r.dataLength(sgl.length);
        r.inCapsuleLength(sgl.inCapsuleLength);
        inOffset[tag] = sgl.inCapsuleOffset;
        remoteAddress[tag] = sgl.remoteAddress;
        rkey[tag] = sgl.key;
        invalidate[tag] = sgl.invalidate;
        return Status.SUCCESS;
    }

    @Override
    public void receiveData(Request r) {
        if (closing) {
            return; // the core releases it when the queue closes
        }
        int tag = r.tag();
        if (r.inCapsuleLength() > 0) {
            int index = recvOf[tag];
            int n = r.inCapsuleLength();
            MemorySegment.copy(rr.recvBuffer(index), SubmissionQueueEntry.SIZE + inOffset[tag], r.buffer(), 0, n);
            counters.inCapsuleBytesCopied += n;
            recvOf[tag] = -1;
            rr.repost(index);
            queue.dataReceived(r); // in hand: the core runs it once it returns, no ring round trip
            return;
        }
        if (readHead >= 0 || sqFree < 1 || readFree < 1) {
            counters.parkedForCredits++;
            readTail = park(readHead, readTail, tag);
            if (readHead < 0) readHead = tag;
            return;
        }
        postRead(tag);
    }

    private void postRead(int tag) {
        Request r = queue.request(tag);
        int length = (int) r.dataLength();
        IbvSge.set(dataSge[tag], 0, r.buffer().address(), length, rr.poolLkey);
        MemorySegment wr = dataWr[tag];
        IbvSendWr.wr_id(wr, 0, wrId(RdmaReactor.KIND_READ, tag));
        IbvSendWr.next(wr, 0, MemorySegment.NULL);
        IbvSendWr.sg_list(wr, 0, dataSge[tag], 1);
        IbvSendWr.opcode(wr, 0, Ibverbs.IBV_WR_RDMA_READ);
        IbvSendWr.send_flags(wr, 0, Ibverbs.IBV_SEND_SIGNALED);
        IbvSendWr.rdma(wr, 0, remoteAddress[tag], rkey[tag]);
        int rc = rr.verbs.ibv_post_send(qp, wr, badWr);
        if (rc != 0) {
            LOG.log(System.Logger.Level.WARNING, this + ": posting an RDMA READ: " + Errno.describe(Math.abs(rc)));
            shutdown();
            return;
        }
        sqFree--;
        readFree--;
        outstanding++;
        counters.rdmaReads++;
        counters.rdmaReadBytes += length;
    }

    // ---------------------------------------------------------------- send

    @Override
    public void sendResponse(Request r) {
        int tag = r.tag();
        if (recvOf[tag] >= 0) {
            rr.repost(recvOf[tag]);
            recvOf[tag] = -1;
        }
        if (closing) {
            queue.release(r);
            return;
        }
        int need = r.sendsData() ? 2 : 1;
        if (sendHead >= 0 || sqFree < need) {
            counters.parkedForCredits++;
            sendTail = park(sendHead, sendTail, tag);
            if (sendHead < 0) sendHead = tag;
            return;
        }
        postResponse(r);
    }

    private void postResponse(Request r) {
        int tag = r.tag();
        MemorySegment cqe = response[tag];
        r.fillCompletion(cqe);
        IbvSge.set(respSge[tag], 0, cqe.address(), CQE, responseLkey);
        MemorySegment send = sendWr[tag];
        IbvSendWr.wr_id(send, 0, wrId(RdmaReactor.KIND_SEND, tag));
        IbvSendWr.next(send, 0, MemorySegment.NULL);
        IbvSendWr.sg_list(send, 0, respSge[tag], 1);
        IbvSendWr.send_flags(send, 0, Ibverbs.IBV_SEND_SIGNALED);
        if (invalidate[tag]) {
            // only for a 0x4F descriptor, with its own key: anything else makes the L6.1 host reset (nvmeof.md §6.5)
            IbvSendWr.opcode(send, 0, Ibverbs.IBV_WR_SEND_WITH_INV);
            IbvSendWr.invalidate_rkey(send, 0, rkey[tag]);
            counters.sendsWithInvalidate++;
        } else {
            IbvSendWr.opcode(send, 0, Ibverbs.IBV_WR_SEND);
            IbvSendWr.invalidate_rkey(send, 0, 0);
        }
        MemorySegment first = send;
        int posted = 1;
        if (r.sendsData()) {
            int length = (int) r.dataLength();
            IbvSge.set(dataSge[tag], 0, r.buffer().address(), length, rr.poolLkey);
            MemorySegment data = dataWr[tag];
            IbvSendWr.wr_id(data, 0, wrId(RdmaReactor.KIND_WRITE, tag));
            IbvSendWr.next(data, 0, send); // RC ordering: the host sees the data before the completion
            IbvSendWr.sg_list(data, 0, dataSge[tag], 1);
            IbvSendWr.opcode(data, 0, Ibverbs.IBV_WR_RDMA_WRITE);
            IbvSendWr.send_flags(data, 0, Ibverbs.IBV_SEND_SIGNALED);
            IbvSendWr.rdma(data, 0, remoteAddress[tag], rkey[tag]);
            first = data;
            posted = 2;
            counters.rdmaWrites++;
            counters.rdmaWriteBytes += length;
        }
        int rc = rr.verbs.ibv_post_send(qp, first, badWr);
        if (rc != 0) {
            // a WR before the failed one may have gone: count it so the drain waits for its flush
            if (posted == 2 && badWr.get(ValueLayout.ADDRESS, 0).address() == send.address()) {
                sqFree--;
                outstanding++;
            }
            LOG.log(System.Logger.Level.WARNING, this + ": posting a response: " + Errno.describe(Math.abs(rc)));
            shutdown();
            return;
        }
        sqFree -= posted;
        outstanding += posted;
        counters.sends++;
    }

    /** A send-queue WR completed (or was flushed). */
    void sendCompleted(int kind, int tag, int status, int vendorErr) {
        outstanding--;
        sqFree++;
        if (kind == RdmaReactor.KIND_READ) {
            readFree++;
        }
        if (status != Ibverbs.IBV_WC_SUCCESS) {
            if (status != Ibverbs.IBV_WC_WR_FLUSH_ERR && !closing) {
                LOG.log(System.Logger.Level.WARNING, this + ": " + kindName(kind) + " failed: "
                        + Ibverbs.ibv_wc_status_str(status) + " (vendor_err 0x" + Integer.toHexString(vendorErr) + ")");
            }
            shutdown(); // the QP is in error: nothing more moves on it
            if (outstanding == 0) {
                finishClose();
            }
            return;
        }
        if (!closing && queue != null) {
            Request r = queue.request(tag);
            switch (kind) {
                case RdmaReactor.KIND_READ -> {
                    if (r.state() == Request.State.TRANSFERRING_FROM_HOST) {
                        queue.dataReceived(r);
                    }
                }
                case RdmaReactor.KIND_SEND -> queue.release(r);
                default -> { } // the WRITE: its SEND completes the request
            }
            resume();
        }
        if (closing && outstanding == 0) {
            finishClose();
        }
    }

    /** Starts parked requests while credits last: responses first (they free slots), then RDMA READs. */
    private void resume() {
        while (sendHead >= 0 && !closing) {
            Request r = queue.request(sendHead);
            if (sqFree < (r.sendsData() ? 2 : 1)) {
                break;
            }
            int tag = sendHead;
            sendHead = waitNext[tag];
            if (sendHead < 0) sendTail = -1;
            postResponse(r);
        }
        while (readHead >= 0 && !closing && sqFree >= 1 && readFree >= 1) {
            int tag = readHead;
            readHead = waitNext[tag];
            if (readHead < 0) readTail = -1;
            postRead(tag);
        }
    }

    private int park(int head, int tail, int tag) {
        waitNext[tag] = -1;
        if (tail >= 0) {
            waitNext[tail] = tag;
        }
        return tag;
    }

    @Override
    public void install(int entries) {
        if (entries > capacity) {
            // the Connect asks for more than HSQSIZE in the CM request promised: our buffers are sized by that
            String what = "Connect SQSIZE + 1 + " + SPARE + " = " + entries + " slots exceed HSQSIZE + 1 + " + SPARE
                    + " = " + capacity + " from the RDMA CM request";
            reactor.execute(() -> protocolError(what)); // not from inside the core's Connect
        }
    }

    @Override
    public String localAddress() {
        return localAddress;
    }

    // ---------------------------------------------------------------- teardown

    @Override
    public void disconnect() {
        try {
            reactor.execute(this::shutdown);
        } catch (RejectedExecutionException e) {
            // the reactor is gone, and everything with it
        }
    }

    private void protocolError(String what) {
        LOG.log(System.Logger.Level.WARNING, this + ": protocol violation, disconnecting this queue: " + what);
        stats.protocolErrors.incrementAndGet();
        shutdown();
    }

    /** Moves the QP to ERR (rdma_disconnect, as nvmet does) so every posted WR comes back, then quiesces. */
    void shutdown() {
        if (closing) {
            return;
        }
        closing = true;
        readHead = readTail = sendHead = sendTail = -1;
        try {
            rr.device.control.rdma_disconnect(id);
        } catch (ErrnoException e) {
            // not connected (yet, or any more)
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(IbvQpAttr.LAYOUT);
            IbvQpAttr.qp_state(attr, Ibverbs.IBV_QPS_ERR);
            rr.device.control.ibv_modify_qp(qp, attr, Ibverbs.IBV_QP_STATE);
        } catch (ErrnoException e) {
            // already in ERR
        }
        if (outstanding == 0) {
            finishClose();
        }
    }

    private void finishClose() {
        if (drained) {
            return;
        }
        drained = true;
        rr.drained(this);
        if (queue != null) {
            queue.close(this::free);
        } else {
            free();
        }
    }

    /** The core is done with every request: give back what we hold, then the conductor destroys QP and cm_id. */
    private void free() {
        if (freed) {
            return;
        }
        freed = true;
        for (int t = 0; t < capacity; t++) {
            if (recvOf[t] >= 0) {
                rr.repost(recvOf[t]);
                recvOf[t] = -1;
            }
        }
        for (int i = 0; i < earlyCount; i++) {
            rr.repost(early[i]);
        }
        earlyCount = 0;
        try {
            rr.device.control.ibv_dereg_mr(responseMr);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, this + ": " + e.getMessage());
        }
        rr.unregister(this, slot);
        arena.close();
        LOG.log(System.Logger.Level.DEBUG, () -> this + ": closed after " + capsules + " capsules");
        onFreed.accept(this);
    }

    private static String kindName(int kind) {
        return switch (kind) {
            case RdmaReactor.KIND_READ -> "RDMA READ";
            case RdmaReactor.KIND_WRITE -> "RDMA WRITE";
            case RdmaReactor.KIND_SEND -> "SEND";
            default -> "WR kind " + kind;
        };
    }

    @Override
    public String toString() {
        return "nvme-rdma " + (queue != null ? queue.toString() : "queue " + cmQid + " on " + reactor.name())
                + " QP " + qpNum + " from " + peer;
    }
}
