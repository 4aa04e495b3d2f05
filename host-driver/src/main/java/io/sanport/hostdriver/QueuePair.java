package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.FabricsCommand;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One submission/completion queue pair of a controller, bound for its whole life to one transport queue and
 * one reactor: every request it runs goes from the wire to the disk and back on that reactor's thread. Before
 * its Connect it has one request slot (for the Connect); the Connect sizes it to SQSIZE + 1 entries.
 */
public final class QueuePair {
    private static final System.Logger LOG = System.getLogger("sanport.target");

    final Target target;
    final Port port;
    final ReactorContext context;
    final RemoteQueue transport;
    final LocalTransport local;
    final HostShare host; // its host address's share of the reactor's buffers (null: the transport has no address)
    private final Arena arena;
    private Request[] slots;
    private int[] free;
    private int freeTop;
    private int outstanding;
    private int qid = -1;
    private int sqsize;
    private int sqhd;
    private boolean sqFlowDisabled;
    private Controller controller;
    private QueueAuth auth; // DH-HMAC-CHAP of this queue; null when its controller does not authenticate
    private boolean closing;
    private boolean failed; // an exception escaped the core on this queue: its transport is told to disconnect
    private Runnable whenIdle;
    private final IoCounters portStats; // this reactor's counters of its port
    private volatile DisconnectReason endReason; // the first reason given for its end (null: the host's)

    QueuePair(Target target, Port port, ReactorContext context, RemoteQueue transport, LocalTransport local) {
        this.target = target;
        this.port = port;
        this.context = context;
        this.transport = transport;
        this.local = local;
        this.host = context.joinHost(transport.hostAddress());
        this.portStats = openedOn(context, port);
        this.arena = Arena.ofConfined();
        this.slots = new Request[] {new Request(this, 0, arena.allocate(SubmissionQueueEntry.SIZE, 8))};
        this.free = new int[] {0};
        this.freeTop = 1;
    }

    /**
     * This reactor's counters of {@code port}'s stats slot, with this queue counted opened there. A queue made
     * after its port was removed (a TLS handshake that outlived the port) counts nowhere: the port's slot may be
     * another port's by then. Pairs with {@link TargetStats#register(Port)}, which reuses a removed port's slot
     * only when its queues opened and closed balance: with a full fence here (between the count and the
     * removed() load) and one there (between removed() and the sum), either this queue sees the removal or that
     * check sees this queue. A volatile load alone orders neither side's plain or opaque accesses that way.
     */
    private static IoCounters openedOn(ReactorContext context, Port port) {
        IoCounters c = context.stats.port(port != null ? port.statsSlot : -1);
        c.v[IoCounters.QUEUES_OPENED]++;
        if (port != null) {
            java.lang.invoke.VarHandle.fullFence();
            if (port.removed()) {
                c.v[IoCounters.QUEUES_OPENED]--;
                c = context.stats.port(-1);
                c.v[IoCounters.QUEUES_OPENED]++;
            }
        }
        return c;
    }

    public Reactor reactor() { return context.reactor; }
    public Port port() { return port; }
    public Target target() { return target; }
    /** -1 until the Connect. */
    public int qid() { return qid; }
    /** 0-based size from the Connect. */
    public int sqsize() { return sqsize; }
    public Controller controller() { return controller; }
    QueueAuth auth() { return auth; }
    public int capacity() { return slots.length; }
    public int outstanding() { return outstanding; }
    public Request request(int tag) { return slots[tag]; }
    public boolean closing() { return closing; }
    /** The host's end of this queue's connection ({@link RemoteQueue#peer}). */
    public String peer() { return transport.peer(); }
    /** The TLS PSK identity's host and subsystem NQNs ({@link RemoteQueue#tlsIdentity}), null without TLS. */
    String[] tlsIdentity() { return transport.tlsIdentity(); }

    /** Whether this queue is going: closed by its transport, or failed and waiting for that. */
    boolean ending() { return closing || failed; }

    /** SQHD for the next CQE: 0xFFFF when the host disabled SQ flow control at Connect. */
    public int sqhd() {
        return sqFlowDisabled ? CompletionQueueEntry.SQHD_DISABLED : sqhd;
    }

    /** Whether the host disabled SQ flow control (Connect CATTR bit 2): C2HData may then carry SUCCESS. */
    public boolean sqFlowDisabled() { return sqFlowDisabled; }

    /** A free slot for a new SQE, or null when the host has more commands outstanding than its queue holds. */
    public Request acquire() {
        if (freeTop == 0 || closing || failed) {
            return null;
        }
        Request r = slots[free[--freeTop]];
        r.reset();
        r.state = Request.State.NEW;
        r.startedAt = context.reactor.clock(); // the loop's clock: read once per round, not per command
        outstanding++;
        portStats.v[IoCounters.OUTSTANDING]++;
        return r;
    }

    /** Runs a request whose SQE (and in-capsule length) the transport has filled. */
    public void start(Request r) {
        if (qid >= 0 && !sqFlowDisabled) {
            sqhd = sqhd == sqsize ? 0 : sqhd + 1;
        }
        Controller c = controller;
        if (c != null) {
            c.activity();
        }
        process(r);
    }

    /**
     * The transport has all the host's data for {@code r}: from its receive path, or from inside
     * {@link RemoteQueue#receiveData} when the data was in hand (in-capsule). Called while the core is on the
     * stack, {@code r} runs right after the core returns, in order, in the same loop iteration; else now.
     */
    public void dataReceived(Request r) {
        if (r.state == Request.State.TRANSFERRING_FROM_HOST) {
            r.state = Request.State.READY_TO_EXECUTE;
            context.enter();
            try {
                boolean quotaFreed = context.endHostPaced(r);
                context.runSoon(this, r.resume);
                if (quotaFreed) {
                    context.wakeWaiters(); // a write that waited for the host-paced quota may take a buffer
                }
            } finally {
                context.exit();
            }
        }
    }

    /**
     * Runs {@code task} on this reactor now, or, when the core is on the stack (the transport was called from
     * it), right after the core returns and before the reactor polls again (a paused parser resumes there).
     */
    public void runSoon(Runnable task) {
        context.runSoon(this, task);
    }

    /** The transport failed to move data for {@code r} (data digest error): complete it with {@code code}. */
    public void dataFailed(Request r, int code) {
        r.fail(code, 0xFFFF);
        context.enter();
        try {
            if (context.endHostPaced(r)) {
                context.wakeWaiters();
            }
            complete(r);
        } catch (RuntimeException e) {
            fault(r, e);
        } finally {
            context.exit();
        }
    }

    /** Advances {@code r} as one core call: transports it calls into queue behind it ({@link #runSoon}). */
    void process(Request r) {
        context.enter();
        try {
            if (!failed) {
                advance(r);
            }
        } catch (RuntimeException e) {
            fault(r, e);
        } finally {
            context.exit();
        }
    }

    /**
     * An exception escaped the core while it handled {@code r} (null: a task of this queue): a bug or a state
     * no check foresaw. It ends this queue only, as a protocol error would (nvmet's {@code nvmet_tcp_fatal_error}):
     * the transport disconnects and later closes the queue, which frees what is left. Never rethrown: the
     * reactor serves every other queue on it.
     */
    void fault(Request r, RuntimeException e) {
        if (r != null) {
            r.inDevice = false; // no I/O of r is on the ring: its submit threw, or its completion was being handled
        }
        if (failed || closing) {
            LOG.log(System.Logger.Level.DEBUG, () -> this + ": another failure while it goes", e);
            return;
        }
        failed = true;
        endReason(DisconnectReason.FAULT);
        LOG.log(System.Logger.Level.ERROR, this + " of host " + (controller != null ? controller.hostnqn() : "(before Connect)")
                + " via " + transport + ": " + (r != null ? r : "a queued task") + " threw; ending this queue only", e);
        try {
            transport.disconnect();
        } catch (RuntimeException again) {
            LOG.log(System.Logger.Level.ERROR, this + ": its transport failed to disconnect; closing the queue here", again);
            close(() -> { });
        }
    }

    /** Advances {@code r} until its state stops changing (SPDK's {@code nvmf_rdma_request_process}). */
    private void advance(Request r) {
        Request.State before;
        do {
            before = r.state;
            switch (r.state) {
                case NEW -> {
                    int code = parse(r);
                    if (code != Status.SUCCESS) {
                        r.status = code;
                        complete(r);
                    } else if (r.dataLength > 0) {
                        r.state = Request.State.NEED_BUFFER;
                    } else {
                        r.state = Request.State.READY_TO_EXECUTE;
                    }
                }
                case NEED_BUFFER -> {
                    if (!takeBuffer(r)) {
                        return; // parked: the reactor context restarts it when a buffer is released
                    }
                    if (r.hostToController) {
                        r.state = Request.State.TRANSFERRING_FROM_HOST;
                        transport.receiveData(r);
                    } else {
                        r.state = Request.State.READY_TO_EXECUTE;
                    }
                }
                case READY_TO_EXECUTE -> {
                    r.state = Request.State.EXECUTING;
                    execute(r);
                }
                case TRANSFERRING_FROM_HOST, EXECUTING, TRANSFERRING_TO_HOST, COMPLETING, FREE -> { }
            }
        } while (r.state != before);
    }

    private boolean takeBuffer(Request r) {
        BufferPool pool = context.pool();
        if (r.dataLength > pool.bufferSize()) {
            throw new IllegalStateException(r + ": " + r.dataLength + " bytes passed the MDTS check");
        }
        // host-paced: the host decides when this buffer's data comes (R2T + H2CData, RDMA READ), so it counts
        // against the reactor's, the controller's and the host's quotas until the data is in; a read's buffer goes
        // back once the host has taken the data, so it counts against its host's share until then
        boolean paced = r.hostToController && r.inCapsuleLength < r.dataLength;
        boolean allowed = paced ? context.hostPacedAllowed(r) : r.hostToController || context.hostAllows(r);
        boolean mayTake = (r.woken || !context.anyWaiting()) && allowed;
        r.woken = false;
        int index = mayTake ? pool.acquire() : -1;
        if (index < 0) {
            if (paced || !allowed) {
                context.parkHostPaced(r); // waits for its quota without holding up the others
            } else {
                context.park(r);
            }
            return false;
        }
        r.bufferIndex = index;
        r.buffer = pool.buffer(index);
        if (paced) {
            context.startHostPaced(r);
        } else if (!r.hostToController) {
            context.startHostHeld(r);
        }
        return true;
    }

    /** Every check before any data moves; returns the status code, with the field's offset in the request. */
    private int parse(Request r) {
        MemorySegment sqe = r.sqe;
        int flags = SubmissionQueueEntry.flags(sqe);
        if ((flags & SubmissionQueueEntry.FLAGS_FUSE_MASK) != 0
                || (flags & SubmissionQueueEntry.FLAGS_PSDT_MASK) != SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_FLAGS;
            return Status.INVALID_FIELD;
        }
        int code = transport.mapData(r);
        if (code != Status.SUCCESS) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_DPTR;
            return code;
        }
        int opcode = r.opcode();
        if (controller == null) {
            code = Fabrics.parseConnect(r);
        } else if (auth != null && !auth.authenticated() && !Fabrics.allowedBeforeAuthentication(r)) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
            code = Status.AUTH_REQUIRED;
        } else if (opcode == AdminOpcode.FABRICS) {
            code = Fabrics.parse(r, qid);
        } else if (qid == 0) {
            code = Admin.parse(r, controller);
        } else {
            code = Io.parse(r, controller);
        }
        if (code == Status.SUCCESS && r.inCapsuleLength > 0 && !r.hostToController) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_DPTR;
            return Status.INVALID_FIELD; // nvmet: in-capsule data on a read-direction command
        }
        return code;
    }

    private void execute(Request r) {
        int opcode = r.opcode();
        if (opcode == FabricsCommand.OPCODE) {
            Fabrics.execute(r);
        } else if (qid == 0) {
            Admin.execute(r, controller);
        } else {
            Io.execute(r, controller);
        }
    }

    /** The Local Transport finished {@code r}'s device I/O with {@code status}. */
    void ioComplete(Request r, int status) {
        context.enter();
        try {
            if (qid == 0) {
                controller.shutdownFlushed(r, status); // the admin queue's only device I/O
            } else {
                Io.ioComplete(r, controller, status);
            }
        } catch (RuntimeException e) {
            fault(r, e);
        } finally {
            context.exit();
        }
    }

    /** The command is done: log an error, then hand the completion (and data) to the transport. */
    void complete(Request r) {
        if (r.status != Status.SUCCESS && controller != null) {
            controller.logError(r, qid);
        }
        if (qid > 0 && r.opcode() != FabricsCommand.OPCODE) {
            count(r);
        }
        r.state = r.sendsData() ? Request.State.TRANSFERRING_TO_HOST : Request.State.COMPLETING;
        if (closing || failed) {
            release(r);
            return;
        }
        // a response without data needs no buffer: give it back now, not when the host has read the response
        // (one that never reads its socket would keep every command's buffer)
        boolean early = r.state == Request.State.COMPLETING && r.bufferIndex >= 0;
        if (early) {
            freeBuffer(r);
        }
        transport.sendResponse(r);
        if (early) {
            context.wakeWaiters();
        }
    }

    /**
     * Counts an I/O command as it completes, on its port, its namespace and its controller (plain stores: this
     * reactor's arrays). Its latency runs from the loop round that took its SQE to the round that completes it
     * ({@link io.sanport.iop.Reactor#clock}): both ends read the round's clock, late by at most that round's work.
     */
    private void count(Request r) {
        long nanos = context.reactor.clock() - r.startedAt;
        portStats.completed(r, nanos);
        if (r.ns != null && !r.ns.removed()) { // a removed namespace's slot may count another one now
            context.stats.namespace(r.ns.statsSlot).completed(r, nanos);
        }
        Controller c = controller;
        if (c != null && r.status == Status.SUCCESS) {
            int opcode = r.opcode();
            if (opcode == IoOpcode.READ || opcode == IoOpcode.WRITE) {
                c.ioDone(context.index, r, opcode == IoOpcode.WRITE);
            }
        }
    }

    /**
     * Records why this queue ends, for the metrics; the first reason given wins (a queue torn down for a
     * protocol error is not counted again as a host disconnect). Any thread.
     */
    public void endReason(DisconnectReason reason) {
        if (endReason == null) {
            endReason = reason;
        }
    }

    /** The transport sent a C2HTermReq with {@code fes} and ends this queue for a protocol error. Reactor thread. */
    public void termReqSent(int fes) {
        portStats.v[IoCounters.TERM_REQS + (fes & 7)]++;
        endReason(DisconnectReason.PROTOCOL_ERROR);
    }

    /** The transport is done with {@code r} (its completion is sent, or the queue is gone): the slot is free. */
    public void release(Request r) {
        if (r.state == Request.State.FREE) {
            return;
        }
        context.enter();
        try {
            free(r);
        } catch (RuntimeException e) {
            fault(null, e);
        } finally {
            context.exit();
        }
    }

    /**
     * {@code r} (an AER) is held until an event, which may take hours: the port's outstanding commands (a gauge of
     * the queue depth hosts keep) leave it out from now on. Reactor thread.
     */
    void held(Request r) {
        if (!r.held) {
            r.held = true;
            portStats.v[IoCounters.OUTSTANDING]--;
        }
    }

    /** Completes a request held outside any core call (an AER an event completes), guarded like every entry. */
    void completeHeld(Request r) {
        context.enter();
        try {
            complete(r);
        } catch (RuntimeException e) {
            fault(r, e);
        } finally {
            context.exit();
        }
    }

    private void freeBuffer(Request r) {
        context.endHostPaced(r);
        if (r.bufferIndex >= 0) {
            context.pool().release(r.bufferIndex);
            r.bufferIndex = -1;
            r.buffer = null;
        }
    }

    private void free(Request r) {
        if (r.endsController) {
            r.endsController = false;
            Controller c = controller;
            if (c != null) {
                c.teardown("DH-HMAC-CHAP authentication failed", DisconnectReason.PROTOCOL_ERROR);
            }
        }
        freeBuffer(r);
        r.state = Request.State.FREE;
        free[freeTop++] = r.tag;
        outstanding--;
        if (!r.held) {
            portStats.v[IoCounters.OUTSTANDING]--;
        }
        if (closing && outstanding == 0) {
            idle();
        }
        context.wakeWaiters();
    }

    /** Binds this queue to its controller after a successful Connect with {@code entries} slots (the Connection Manager sizes it). */
    void install(Controller c, int qid, int sqsize, boolean sqFlowDisabled, int entries) {
        this.controller = c;
        this.qid = qid;
        this.sqsize = sqsize;
        this.sqFlowDisabled = sqFlowDisabled;
        this.sqhd = 0;
        this.auth = c.dhchap() != null ? new QueueAuth(this, c) : null;
        Request[] grown = new Request[entries];
        grown[0] = slots[0];
        MemorySegment sqes = arena.allocate(SubmissionQueueEntry.SIZE * (entries - 1), 64);
        int[] grownFree = new int[entries];
        int top = 0;
        for (int i = entries - 1; i >= 1; i--) {
            grown[i] = new Request(this, i, sqes.asSlice((i - 1) * SubmissionQueueEntry.SIZE, SubmissionQueueEntry.SIZE));
            grownFree[top++] = i;
        }
        if (slots[0].state == Request.State.FREE) {
            grownFree[top++] = 0;
        }
        slots = grown;
        free = grownFree;
        freeTop = top;
        transport.install(entries);
    }

    /**
     * The transport's connection is gone and its own ring operations are finished: fail what waits, let the
     * device I/O in flight finish, then run {@code whenIdle} (the transport frees its buffers there).
     */
    public void close(Runnable whenIdle) {
        if (closing) {
            return;
        }
        closing = true;
        this.whenIdle = whenIdle;
        Controller c = controller;
        if (c != null) {
            try {
                c.queueClosed(this);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, this + ": tearing its controller down", e);
            }
        }
        for (Request r : slots) {
            switch (r.state) {
                case NEED_BUFFER -> {
                    context.unpark(r);
                    release(r);
                }
                case READY_TO_EXECUTE -> {
                    context.cancel(r.resume);
                    release(r);
                }
                case NEW, TRANSFERRING_FROM_HOST, TRANSFERRING_TO_HOST, COMPLETING -> release(r);
                case EXECUTING -> {
                    if (!r.inDevice) {
                        release(r); // a held AER
                    }
                }
                case FREE -> { }
            }
        }
        if (outstanding == 0) {
            idle();
        }
    }

    private void idle() {
        Runnable run = whenIdle;
        whenIdle = null;
        if (run != null) {
            DisconnectReason why = endReason;
            portStats.v[IoCounters.QUEUES_CLOSED]++;
            portStats.v[IoCounters.DISCONNECTS + (why != null ? why : DisconnectReason.HOST).ordinal()]++;
            context.leaveHost(host);
            arena.close();
            target.connections().queueGone(this);
            try {
                run.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing a queue", e);
            }
        }
    }

    /** Asks the transport to tear this queue down; any thread. */
    void disconnect() {
        transport.disconnect();
    }

    @Override
    public String toString() {
        return (controller != null ? "controller " + controller.cntlid() + " " : "") + "queue " + qid + " on "
                + context.reactor.name();
    }
}
