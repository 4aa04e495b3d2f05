package io.sanport.transport.rdma;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.iop.Reactor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.DisconnectReason;
import io.sanport.hostdriver.QueuePair;
import io.sanport.hostdriver.Request;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One NVMe/RDMA queue = one RC QP on its reactor's CQ and SRQ (nvmet's {@code nvmet_rdma_queue}): the queue's
 * life from the CM request to the QP's destruction, its receives, and the {@link RemoteQueue} the core drives.
 * Per request slot an {@link RdmaCommand} (nvmet's {@code nvmet_rdma_rsp}) holds the core's {@link Request} and
 * all RDMA state of it, made for HSQSIZE + 1 + spare slots when the host connects: nothing is allocated per I/O.
 *
 * <p>Data: in-capsule data is copied from the receive buffer into the request's pool buffer (counted) and handed
 * to the core at once; keyed data moves by RDMA READ and WRITE between the host and the pool buffer, posted by
 * the QP's {@link RdmaSendQueue}, which counts the credits and parks what finds none.
 *
 * <p>Teardown: the QP goes to ERR (rdma_disconnect, as nvmet), every posted WR comes back flushed, then the core
 * quiesces the requests ({@link QueuePair#close}); after it, the QP and the cm_id are destroyed by the conductor.
 * Reactor thread only, except {@link #disconnect}.
 */
final class RdmaQueue implements RemoteQueue, RdmaReactor.Endpoint {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    /** Request slots beyond HSQSIZE + 1, as the core's (a completion reaches the host before our SEND completes). */
    static final int SPARE = 4;
    private static final int EARLY_MAX = 8;

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
    private final MemorySegment responseMr;
    /** By tag: the core's slot {@code t} travels in {@code commands[t]}. */
    private final RdmaCommand[] commands;
    private final RdmaSendQueue sq;

    private int slot = -1;
    private long wrIdBase;
    private QueuePair queue;
    private final int[] early = new int[EARLY_MAX];
    private final int[] earlyLength = new int[EARLY_MAX];
    private int earlyCount;
    private boolean established;
    /** The host's fabrics Connect succeeded (read by the conductor's Connect timeout). */
    private volatile boolean connected;
    private boolean closing;
    private boolean drained;
    private boolean freed;
    private long capsules;

    /** Made on the reactor thread by the conductor, after rdma_create_qp and before rdma_accept. */
    RdmaQueue(Consumer<RdmaQueue> onFreed, RdmaReactor rr, Target target, Port port, MemorySegment id, long handle,
              MemorySegment qp, int qpNum, int cmQid, int capacity, int sendDepth, int readDepth,
              boolean inlineResponse, String localAddress, String peer, RdmaStats stats) throws ErrnoException {
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
        MemorySegment wrs = arena.allocate(RdmaCommand.WRS_SIZE * capacity, 8);
        MemorySegment responses = arena.allocate((long) RdmaCommand.RESPONSE_SIZE * capacity, 64);
        try {
            responseMr = rr.device.control.ibv_reg_mr(rr.device.pd, responses, Ibverbs.IBV_ACCESS_LOCAL_WRITE);
        } catch (ErrnoException | RuntimeException e) {
            arena.close();
            throw e;
        }
        int responseLkey = IbvMr.lkey(responseMr);
        commands = new RdmaCommand[capacity];
        for (int t = 0; t < capacity; t++) {
            commands[t] = new RdmaCommand(t, wrs.asSlice(RdmaCommand.WRS_SIZE * t, RdmaCommand.WRS_SIZE),
                    responses.asSlice((long) RdmaCommand.RESPONSE_SIZE * t, RdmaCommand.RESPONSE_SIZE), responseLkey,
                    inlineResponse);
        }
        sq = new RdmaSendQueue(this, rr, qp, sendDepth, readDepth, arena);
        slot = rr.register(this);
        if (slot < 0) {
            rr.device.control.ibv_dereg_mr(responseMr);
            arena.close();
            throw new ErrnoException("registering a queue on " + reactor.name(), null, Errno.ENOMEM);
        }
        wrIdBase = rr.wrIdBase(slot);
    }

    /** wr_id of this queue's WR of {@code kind} for command {@code tag} ({@link RdmaReactor} dispatches on it). */
    long wrId(int kind, int tag) {
        return (long) kind << 56 | wrIdBase | (tag & 0xFFFFFFFFL);
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
        int n = earlyCount;
        earlyCount = 0; // each is started or given back here, once (free() may run inside the loop)
        for (int i = 0; i < n; i++) {
            if (closing) {
                rr.repost(early[i]); // an earlier one ended the queue
            } else {
                try {
                    command(early[i], earlyLength[i]); // owns the buffer from the call on, also when it throws
                } catch (RuntimeException e) {
                    fault(e);
                }
            }
        }
    }

    boolean isEstablished() {
        return established;
    }

    /** Whether the host's fabrics Connect on this queue succeeded; any thread. */
    boolean connected() {
        return connected;
    }

    @Override
    public String peer() {
        return peer;
    }

    /**
     * The conductor ended this queue for want of a fabrics Connect ({@link PendingQueues}: its timeout passed, or
     * room was needed); it logged why, rate-limited. The queue goes unless its Connect came meanwhile.
     */
    void connectTimedOut() {
        if (connected || closing) {
            return;
        }
        stats.connectTimeouts.incrementAndGet();
        shutdown(DisconnectReason.TIMEOUT);
    }

    /** The connection is gone (DISCONNECTED, an error event) or must go; {@code reason} for the metrics. */
    void cmGone(DisconnectReason reason) {
        shutdown(reason);
    }

    /**
     * A receive of this QP completed in error (not flushed): the QP is in ERR, so the queue ends, logged with
     * the status in words. The reactor has reposted the buffer.
     */
    @Override
    public void receiveFailed(int status) {
        if (closing) {
            return;
        }
        DisconnectReason why = reason(status);
        LOG.log(System.Logger.Level.WARNING, this + ": receive failed: " + Ibverbs.describeWcStatus(status)
                + "; disconnecting this queue (" + why.label() + ")");
        shutdown(why);
    }

    /**
     * What a work completion's error status says about why the queue ends, as TCP's reasons: the host stopped
     * acknowledging (retries exhausted) is a timeout; a key, length or request the host got wrong is a protocol
     * error; the host aborting is its disconnect; anything else is this side's fault.
     */
    static DisconnectReason reason(int status) {
        return switch (status) {
            case Ibverbs.IBV_WC_RETRY_EXC_ERR, Ibverbs.IBV_WC_RNR_RETRY_EXC_ERR, Ibverbs.IBV_WC_RESP_TIMEOUT_ERR ->
                    DisconnectReason.TIMEOUT;
            case Ibverbs.IBV_WC_LOC_LEN_ERR, Ibverbs.IBV_WC_REM_ACCESS_ERR, Ibverbs.IBV_WC_REM_INV_REQ_ERR,
                 Ibverbs.IBV_WC_REM_OP_ERR, Ibverbs.IBV_WC_REM_INV_RD_REQ_ERR, Ibverbs.IBV_WC_BAD_RESP_ERR ->
                    DisconnectReason.PROTOCOL_ERROR;
            case Ibverbs.IBV_WC_REM_ABORT_ERR -> DisconnectReason.HOST; // flushed WRs are filtered out before
            default -> DisconnectReason.FAULT;
        };
    }

    /** Ends the queue (below), {@code why} counted for its disconnect metrics (the first reason given stays). */
    void shutdown(DisconnectReason why) {
        if (queue != null) {
            queue.endReason(why);
        }
        shutdown();
    }

    // ---------------------------------------------------------------- receive

    @Override
    public int qpNum() {
        return qpNum;
    }

    /** A capsule arrived in receive buffer {@code index} ({@code length} bytes). */
    @Override
    public void received(int index, int length) {
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
        command(index, length);
    }

    /**
     * Starts the command whose capsule is in receive buffer {@code index}: a core slot, its RdmaCommand, the SQE.
     * The command holds the buffer from the start, so a teardown gives it back whatever happens after.
     */
    private void command(int index, int length) {
        Request r = queue.acquire();
        if (r == null || r.tag() >= commands.length) {
            if (r != null) queue.release(r);
            rr.repost(index);
            protocolError("more commands outstanding than the queue holds (" + queue.capacity() + ")");
            return;
        }
        RdmaCommand c = commands[r.tag()];
        int extra = length - (int) SubmissionQueueEntry.SIZE;
        c.bind(r, index, extra);
        MemorySegment.copy(rr.recvBuffer(index), 0, r.sqe(), 0, SubmissionQueueEntry.SIZE);
        if (queue.qid() < 0 && r.opcode() == FabricsCommand.OPCODE
                && FabricsCommand.fctype(r.sqe()) == FabricsCommand.FCTYPE_CONNECT
                && ConnectCommand.qid(r.sqe()) != cmQid) {
            // the QP was sized for the queue the RDMA CM request named: a Connect for another one is a lie
            repost(c);
            queue.release(r);
            protocolError("Connect for queue " + ConnectCommand.qid(r.sqe()) + " on the QP of queue " + cmQid);
            return;
        }
        if (extra == 0) {
            repost(c);
        }
        queue.start(r);
        if (c.recvIndex >= 0 && r.inCapsuleLength() == 0 && !closing && r.state() != Request.State.FREE) {
            // the capsule carried bytes the SGL does not use: give the buffer back now
            repost(c);
        }
    }

    private void repost(RdmaCommand c) {
        if (c.recvIndex >= 0) {
            rr.repost(c.recvIndex);
            c.recvIndex = -1;
        }
    }

    @Override
    public int mapData(Request r) {
        RdmaSgl sgl = commands[r.tag()].sgl;
        int code = sgl.map(r.sqe(), commands[r.tag()].inCapsuleBytes, Capsule.IN_CAPSULE_DATA, target.maxTransfer());
        if (code != Status.SUCCESS) {
            return code;
        }
        r.dataLength(sgl.length);
        r.inCapsuleLength(sgl.inCapsuleLength);
        return Status.SUCCESS;
    }

    @Override
    public void receiveData(Request r) {
        if (closing) {
            return; // the core releases it when the queue closes
        }
        RdmaCommand c = commands[r.tag()];
        int n = r.inCapsuleLength();
        if (n > 0) {
            MemorySegment.copy(rr.recvBuffer(c.recvIndex), SubmissionQueueEntry.SIZE + c.sgl.inCapsuleOffset,
                    r.buffer(), 0, n);
            counters.inCapsuleBytesCopied += n;
            repost(c);
            queue.dataReceived(r); // in hand: the core runs it once it returns, no ring round trip
            return;
        }
        sq.read(c);
    }

    @Override
    public void sendResponse(Request r) {
        RdmaCommand c = commands[r.tag()];
        repost(c);
        if (closing) {
            queue.release(r);
            return;
        }
        sq.respond(c);
    }

    /** A send-queue WR completed (or was flushed). */
    @Override
    public void sendCompleted(int kind, int tag, int status, int vendorErr) {
        sq.completed(kind, commands[tag]);
        if (status != Ibverbs.IBV_WC_SUCCESS) {
            if (status != Ibverbs.IBV_WC_WR_FLUSH_ERR && !closing) {
                DisconnectReason why = reason(status);
                LOG.log(System.Logger.Level.WARNING, this + ": " + kindName(kind) + " failed: "
                        + Ibverbs.describeWcStatus(status) + ", vendor_err 0x" + Integer.toHexString(vendorErr)
                        + "; disconnecting this queue (" + why.label() + ")");
                shutdown(why);
            }
            shutdown(); // the QP is in error: nothing more moves on it
            if (sq.outstanding() == 0) {
                finishClose();
            }
            return;
        }
        if (!closing && queue != null) {
            Request r = commands[tag].request;
            switch (kind) {
                case RdmaReactor.KIND_READ -> {
                    if (r.state() == Request.State.TRANSFERRING_FROM_HOST) {
                        queue.dataReceived(r);
                    }
                }
                case RdmaReactor.KIND_SEND -> queue.release(r);
                default -> { } // the WRITE: its SEND completes the request
            }
            sq.resume();
        }
        if (closing && sq.outstanding() == 0) {
            finishClose();
        }
    }

    /** {@code ibv_post_send} refused a WR: the QP cannot go on. */
    void postFailed(String what, int rc) {
        LOG.log(System.Logger.Level.WARNING, this + ": posting " + what + ": " + Errno.describe(Math.abs(rc))
                + "; disconnecting this queue");
        shutdown(DisconnectReason.FAULT);
    }

    /** HSQSIZE + 1 from the RDMA CM request: the commands and send queue were sized for it at accept. */
    @Override
    public int maxQueueSize() {
        return capacity - SPARE;
    }

    @Override
    public void install(int entries) {
        if (entries > capacity) {
            // the core refuses a Connect deeper than maxQueueSize(): reaching here is a bug, not wire input
            throw new IllegalStateException(this + ": " + entries + " slots installed on a queue built for " + capacity);
        }
        connected = true; // the core installs a queue on a successful Connect only
    }

    @Override
    public String localAddress() {
        return localAddress;
    }

    /** The peer's IP as the CM reported it: the key of its per-host buffer quota. */
    @Override
    public String hostAddress() {
        return peer;
    }

    // ---------------------------------------------------------------- teardown

    @Override
    public void disconnect() {
        try {
            reactor.execute(() -> run(this::shutdown));
        } catch (RejectedExecutionException e) {
            // the reactor is gone, and everything with it
        }
    }

    /**
     * Handling this queue's completion or task threw: only this queue ends (QP to ERR, disconnect), logged with
     * its peer; what it holds goes back through the usual teardown.
     */
    @Override
    public void fault(RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, this + ": failed, disconnecting this queue", e);
        stats.queueFaults.incrementAndGet();
        shutdown(DisconnectReason.FAULT);
    }

    /** Runs {@code task} (a CM event, a disconnect) for this queue on its reactor: what it throws ends this queue only. */
    void run(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            fault(e);
        }
    }

    private void protocolError(String what) {
        LOG.log(System.Logger.Level.WARNING, this + ": protocol violation, disconnecting this queue: " + what);
        stats.protocolErrors.incrementAndGet();
        shutdown(DisconnectReason.PROTOCOL_ERROR);
    }

    /** Moves the QP to ERR (rdma_disconnect, as nvmet does) so every posted WR comes back, then quiesces. */
    void shutdown() {
        if (closing) {
            return;
        }
        closing = true;
        sq.flush(); // what was decided before (a refused Connect's response) goes out ahead of the ERR, as it did unbatched
        sq.clear();
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
        if (sq.outstanding() == 0) {
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
        for (RdmaCommand c : commands) {
            repost(c);
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
                + " QP " + qpNum + " from " + (queue != null && queue.controller() != null
                        ? queue.controller().hostnqn() + " at " : "") + peer;
    }
}
