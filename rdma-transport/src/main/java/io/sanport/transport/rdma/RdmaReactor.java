package io.sanport.transport.rdma;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.verbs.IbvCompChannel;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvRecvWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.IbvSrqInitAttr;
import io.sanport.bindings.verbs.IbvWc;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.bindings.verbs.Verbs;
import io.sanport.hostdriver.MemoryRegistry;
import io.sanport.iop.BufferPool;
import io.sanport.iop.MemoryLock;
import io.sanport.iop.Reactor;
import io.sanport.iop.RingOperation;
import io.sanport.iop.SubmissionQueue;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * What one reactor owns on one RDMA device (SPDK's {@code spdk_nvmf_rdma_poller}): a completion channel and one
 * CQ for the sends and receives of all its queues, one SRQ with receive buffers posted for capsules (SQE +
 * in-capsule data), and the memory regions: the reactor's whole {@link BufferPool} region registered once with
 * the PD through the target's {@link MemoryRegistry} ({@link #POOL_ACCESS}), so an RDMA READ lands in the very buffer WRITE_FIXED takes
 * to the disk and READ_FIXED fills the buffer an RDMA WRITE sends.
 *
 * <p>The CQ is driven by the reactor's ring: an IORING_OP_POLL_ADD on the channel fd fires when the armed CQ has a
 * completion; then {@code ibv_get_cq_event} + ack, and drain with {@code ibv_poll_cq} in batches into a
 * preallocated {@code ibv_wc} array, dispatching on {@code wr_id}. The CQ is not re-armed then: while the reactor
 * is busy it is polled again at the end of every loop round ({@link Reactor#atRoundEnd}), after the round's send
 * chains are posted, and armed ({@code ibv_req_notify_cq}, then one more poll) only when the reactor is about to
 * sleep ({@link Reactor#beforeSleep}), and not before {@link #SPIN_NANOS} passed without a completion (unless
 * the last {@link #SPIN_MISSES} spins all ran out empty: then at once, until spinning would have paid again): a busy
 * reactor takes no event, no channel read, no arming system call and no wake-up per batch. Receives consumed are posted back to the SRQ in one chain per round. The poll stays posted only while a
 * queue on this reactor is live, so an idle reactor has nothing of ours in flight and closes at once.
 *
 * <p>Made by the conductor (which posts the receives before any QP exists), then confined to the reactor thread.
 */
final class RdmaReactor {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");

    /**
     * What the reactor hands one QP's work completions to: an {@link RdmaQueue}. A call that throws ends that
     * QP only ({@link #fault}); the reactor and every other QP on it go on. Reactor thread.
     */
    interface Endpoint {
        int qpNum();

        /** A capsule of {@code length} bytes in receive buffer {@code index}: the endpoint owns the buffer now. */
        void received(int index, int length);

        /** A send-queue WR of {@code kind} for command {@code tag} completed (or was flushed). */
        void sendCompleted(int kind, int tag, int status, int vendorErr);

        /** A call above threw {@code e}: end this QP (to ERR, disconnect) and give back what it holds. */
        void fault(RuntimeException e);

        /**
         * One of this QP's receives completed with error {@code status} (not flushed); its buffer is reposted. By
         * default the status is logged in words, as the reactor did before endpoints were told (RdmaQueue also ends
         * its queue).
         */
        default void receiveFailed(int status) {
            LOG.log(System.Logger.Level.WARNING, "QP " + qpNum() + ": receive failed: "
                    + Ibverbs.describeWcStatus(status));
        }
    }

    /**
     * wr_id = kind << 56 | slot generation << 44 | queue slot << 32 | tag (sends), or kind << 56 | receive buffer
     * index (receives). The generation tells a late completion of a queue gone from one of the slot's next queue.
     */
    static final int KIND_RECV = 1;
    static final int KIND_READ = 2;
    static final int KIND_WRITE = 3;
    static final int KIND_SEND = 4;
    static final int MAX_QUEUES = 1 << 12;
    private static final int GENERATION_MASK = 0xFFF;
    /** Work completions taken per ibv_poll_cq. */
    static final int BATCH = 32;
    /** Polls of the CQ at most per loop round while completions keep coming (each after posting what they made). */
    private static final int POLL_ROUNDS = 4;
    /**
     * How long a reactor keeps polling its CQ without sleeping after the last completion it found (busy polling
     * for a short budget, as SPDK's pollers do all the time; 0: arm the CQ and sleep as soon as nothing is left).
     * While a host keeps its queue busy the reactor never sleeps, so no completion waits for a wake-up (a channel
     * event, io_uring task work, an IPI to a sleeping core): that was most of the vm-rdma gap to nvmet-rdma, whose
     * completions run in softirq on the core that saw them. An idle reactor spins at most this long.
     */
    static final long SPIN_NANOS = Long.getLong("sanport.rdma.spinMicros", 200) * 1000;
    /**
     * Spins in a row that ended without a completion after which the reactor stops spinning: a completion that
     * comes later than the budget (an RDMA READ of 128 KiB, the disk) is waited for asleep, and the vCPU the spin
     * would burn runs the softirq work that brings it (SoftRoCE's copies). Spinning resumes as soon as a wake-up
     * comes within the budget of the arming, or a spin catches a completion.
     */
    static final int SPIN_MISSES = Integer.getInteger("sanport.rdma.spinMisses", 4);
    /** Receive buffers per reactor, shared by all its queues (nvmet's default SRQ size is 1024). */
    static final int SRQ_DEPTH = Integer.getInteger("sanport.rdma.srqDepth", 1024);
    /** CQ entries per reactor: the SRQ plus the send queues of the queues it takes. */
    static final int CQ_ENTRIES = Integer.getInteger("sanport.rdma.cqEntries", 16384);
    private static final int POLLIN = 1;
    /**
     * Access of the pool MR: local only. The target posts every RDMA READ (into the pool: LOCAL_WRITE) and WRITE
     * itself, as nvmet does with the device's local DMA lkey; REMOTE_READ/WRITE would let any QP on the PD that
     * guesses the rkey read or overwrite other hosts' in-flight data.
     */
    static final int POOL_ACCESS = Ibverbs.IBV_ACCESS_LOCAL_WRITE;

    final RdmaDevice device;
    final Reactor reactor;
    final RdmaStats.Counters counters;
    final Verbs verbs;
    private final Arena arena = Arena.ofShared(); // made on the conductor, used on the reactor, freed on the conductor
    final MemorySegment channel;
    private final int channelFd;
    final MemorySegment cq;
    final MemorySegment srq;
    private final int srqDepth;
    private final MemorySegment recvArea;
    private final MemorySegment[] recvBuffers;
    private final MemorySegment recvMr;
    private final MemoryRegistry memory;
    final int poolLkey;
    private final MemorySegment recvWrs;
    private final MemorySegment[] recvWr;
    private final MemorySegment wc;
    private final MemorySegment badWr;
    /** CQ entries not promised to a queue's send queue yet; taken by the conductor, given back by the reactor. */
    private final AtomicInteger cqBudget;
    /** The whole CQ budget for send queues: the CQ less the SRQ's receives. */
    private final int cqEntriesForQueues;

    // reactor thread
    private final Endpoint[] queues = new Endpoint[MAX_QUEUES];
    private final int[] generations = new int[MAX_QUEUES];
    private final int[] freeSlots = new int[MAX_QUEUES];
    private int freeTop;
    private int live;                 // queues whose QP is not drained yet: the channel poll stays posted for them
    private Endpoint lastHit;
    private final int[] reposts;
    private int repostCount;
    private boolean draining;
    /** Send queues with a chain to post at the end of this loop round, linked through nextToFlush. */
    private RdmaSendQueue flushHead;
    private boolean roundEndQueued;
    private final Runnable roundEnd = this::roundEnd;
    /** The CQ is polled at the end of every loop round and armed only when the reactor is about to sleep. */
    private boolean polling;
    private boolean sleepHookQueued;
    private long lastFound;           // System.nanoTime() of the last poll that found completions (SPIN_NANOS > 0)
    private boolean emptySinceFound;  // a poll found nothing after the last find: the next find was waited for
    private int spinMisses;           // spins in a row that timed out (SPIN_MISSES)
    private long armedAt;             // System.nanoTime() when the CQ was last armed
    private final BooleanSupplier beforeSleep = this::beforeSleep;
    private final CompletionPoll poll = new CompletionPoll();
    private boolean pollArmed;
    volatile boolean idle = true;     // read by the conductor before it frees us

    private RdmaReactor(RdmaDevice device, Reactor reactor, RdmaStats.Counters counters, MemoryRegistry memory)
            throws IOException {
        this.device = device;
        this.reactor = reactor;
        this.counters = counters;
        this.verbs = device.verbs;
        this.memory = memory;
        MemorySegment ch = null, cq = null, srq = null, rmr = null;
        int lkey = -1;
        try {
            ch = device.control.ibv_create_comp_channel(verbs.context());
            int cqe = Math.min(CQ_ENTRIES, device.maxCqe);
            cq = device.control.ibv_create_cq(verbs.context(), cqe, ch);
            int depth = Math.min(SRQ_DEPTH, device.maxSrqWr - 1);
            MemorySegment attr = arena.allocate(IbvSrqInitAttr.LAYOUT);
            IbvSrqInitAttr.max_wr(attr, depth);
            IbvSrqInitAttr.max_sge(attr, 1);
            srq = device.control.ibv_create_srq(device.pd, attr);
            this.srqDepth = depth;
            this.cqEntriesForQueues = cqe - depth;
            this.cqBudget = new AtomicInteger(cqEntriesForQueues);
            long recvBytes = (long) depth * RdmaTransport.RECV_SIZE;
            this.recvArea = arena.allocate(recvBytes, 4096);
            BufferPool pool = reactor.buffers();
            MemoryLock.ensure(recvBytes + pool.region().byteSize());
            rmr = register(recvArea, Ibverbs.IBV_ACCESS_LOCAL_WRITE, "receive buffers");
            // the pool goes to the PD once, through the core's registry; we only lend the verbs call
            lkey = memory.registerPool(device.pd, POOL_ACCESS, (region, access) -> {
                MemorySegment mr = register(region, access, "the I/O buffers of " + reactor.name());
                return new MemoryRegistry.Registration(IbvMr.lkey(mr), () -> device.control.ibv_dereg_mr(mr));
            });
        } catch (IOException | RuntimeException e) {
            if (lkey != -1) unregisterPool(memory, device);
            destroyQuietly(ch, cq, srq, rmr);
            arena.close();
            throw e;
        }
        this.channel = ch;
        this.channelFd = IbvCompChannel.fd(ch);
        this.cq = cq;
        this.srq = srq;
        this.recvMr = rmr;
        this.poolLkey = lkey;
        int recvLkey = IbvMr.lkey(rmr);
        this.recvBuffers = new MemorySegment[srqDepth];
        this.recvWr = new MemorySegment[srqDepth];
        this.recvWrs = arena.allocate(IbvRecvWr.SIZE * srqDepth, 8);
        MemorySegment sges = arena.allocate(IbvSge.SIZE * srqDepth, 8);
        for (int i = 0; i < srqDepth; i++) {
            recvBuffers[i] = recvArea.asSlice((long) i * RdmaTransport.RECV_SIZE, RdmaTransport.RECV_SIZE);
            MemorySegment sge = sges.asSlice(i * IbvSge.SIZE, IbvSge.SIZE);
            IbvSge.set(sge, 0, recvBuffers[i].address(), RdmaTransport.RECV_SIZE, recvLkey);
            recvWr[i] = recvWrs.asSlice(i * IbvRecvWr.SIZE, IbvRecvWr.SIZE);
            IbvRecvWr.wr_id(recvWr[i], 0, (long) KIND_RECV << 56 | i);
            IbvRecvWr.sg_list(recvWr[i], 0, sge, 1);
            IbvRecvWr.next(recvWr[i], 0, MemorySegment.NULL);
        }
        this.wc = arena.allocate(IbvWc.SIZE * BATCH, 8);
        this.badWr = arena.allocate(ValueLayout.ADDRESS);
        this.reposts = new int[srqDepth];
        for (int i = 0; i < MAX_QUEUES; i++) {
            freeSlots[i] = MAX_QUEUES - 1 - i;
        }
        freeTop = MAX_QUEUES;
        // every receive buffer is posted before the first accept (nvmet: before rdma_accept)
        for (int i = 0; i < srqDepth; i++) {
            reposts[repostCount++] = i;
        }
        flushReposts();
    }

    static RdmaReactor create(RdmaDevice device, Reactor reactor, RdmaStats.Counters counters, MemoryRegistry memory)
            throws IOException {
        return new RdmaReactor(device, reactor, counters, memory);
    }

    private MemorySegment register(MemorySegment region, int access, String what) throws IOException {
        try {
            return device.control.ibv_reg_mr(device.pd, region, access);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOMEM || e.errno() == Errno.EPERM || e.errno() == Errno.EAGAIN) {
                throw new IOException("registering " + what + " with " + device.name + " (ibv_reg_mr, "
                        + (region.byteSize() >> 10) + " KiB): " + e.getMessage() + "; "
                        + MemoryLock.hint(region.byteSize()), e);
            }
            throw e;
        }
    }

    MemorySegment recvBuffer(int index) {
        return recvBuffers[index];
    }

    /** Promises {@code entries} CQ entries to a new queue's send queue; false when the CQ has no room left. */
    boolean reserve(int entries) {
        while (true) {
            int left = cqBudget.get();
            if (left < entries) {
                return false;
            }
            if (cqBudget.compareAndSet(left, left - entries)) {
                return true;
            }
        }
    }

    void unreserve(int entries) {
        cqBudget.addAndGet(entries);
    }

    /** CQ entries the send queues of all queues together may take (the CQ less the SRQ). */
    int cqEntriesForQueues() {
        return cqEntriesForQueues;
    }

    // ---------------------------------------------------------------- reactor thread

    /** Takes {@code q} in: a slot for its wr_ids, and the channel poll is posted if it was not. */
    int register(Endpoint q) {
        if (freeTop == 0) {
            return -1;
        }
        int slot = freeSlots[--freeTop];
        queues[slot] = q;
        generations[slot] = (generations[slot] + 1) & GENERATION_MASK;
        live++;
        idle = false;
        if (!pollArmed) {
            pollArmed = true;
            reactor.submit(poll);
        }
        startPolling(); // polled from this round on; armed, after one more poll, when the reactor would sleep
        return slot;
    }

    /** The high bits of every send wr_id of the queue in {@code slot} now: its generation and slot. */
    long wrIdBase(int slot) {
        return (long) generations[slot] << 44 | (long) slot << 32;
    }

    /** {@code q}'s QP is drained: no completion of it will come; the poll may stop with the last such queue. */
    void drained(Endpoint q) {
        live--;
        if (live == 0 && pollArmed && !reactor.cancel(poll)) {
            pollArmed = false; // it never reached the ring
        }
        updateIdle();
    }

    void unregister(Endpoint q, int slot) {
        if (slot >= 0 && queues[slot] == q) {
            queues[slot] = null;
            freeSlots[freeTop++] = slot;
        }
        if (lastHit == q) {
            lastHit = null;
        }
        flushReposts(); // now, not at the round's end: the conductor may free us as soon as the last queue is gone
        flushSends();
        updateIdle();
    }

    private void updateIdle() {
        // hooks still queued touch nothing native once no queue is live and nothing waits to be posted
        idle = live == 0 && !pollArmed && freeTop == MAX_QUEUES && repostCount == 0 && flushHead == null;
    }

    /** Gives a receive buffer back to the SRQ: in one chain with the others of this round, at its end. */
    void repost(int index) {
        reposts[repostCount++] = index;
        if (!draining) {
            queueRoundEnd();
        }
    }

    /** Posts {@code sq}'s chain at the end of this loop round, with every other queue's. */
    void flushAtRoundEnd(RdmaSendQueue sq) {
        if (sq.flushQueued) {
            return;
        }
        sq.flushQueued = true;
        sq.nextToFlush = flushHead;
        flushHead = sq;
        queueRoundEnd();
    }

    private void queueRoundEnd() {
        if (!roundEndQueued) {
            roundEndQueued = true;
            reactor.atRoundEnd(roundEnd);
        }
    }

    /**
     * The end of a loop round: one ibv_post_send per queue that has WRs chained, one SRQ post for the receives.
     * While polling, the CQ is polled again: a SoftRoCE post runs the protocol in the call, so the completions of
     * what was just posted are often there already, and nothing in the CQ waits for an event the reactor would
     * have to sleep for and be woken by.
     */
    private void roundEnd() {
        roundEndQueued = false;
        flushReposts();
        flushSends();
        if (polling) {
            if (live > 0) {
                for (int i = 0; i < POLL_ROUNDS && drain() > 0; i++) {
                    flushSends();
                }
                queueRoundEnd();
                queueBeforeSleep();
            } else {
                polling = false;
            }
        }
        updateIdle();
    }

    private void startPolling() {
        polling = true;
        queueRoundEnd();
        queueBeforeSleep();
    }

    private void queueBeforeSleep() {
        if (!sleepHookQueued) {
            sleepHookQueued = true;
            reactor.beforeSleep(beforeSleep);
        }
    }

    /**
     * The reactor has nothing else to do: arm the CQ (its channel's poll wakes the reactor at the next
     * completion) and poll once more for what came before the arming. True when that found work.
     */
    private boolean beforeSleep() {
        sleepHookQueued = false;
        if (!polling) {
            return false;
        }
        if (live == 0) {
            polling = false;
            updateIdle();
            return false;
        }
        if (SPIN_NANOS > 0) {
            long now = System.nanoTime();
            if (spinMisses < SPIN_MISSES) {
                if (now - lastFound < SPIN_NANOS) {
                    queueRoundEnd(); // spin: round again, polling, without arming or sleeping
                    queueBeforeSleep();
                    return true;
                }
                spinMisses++;
            }
            armedAt = now;
        }
        emptySinceFound = false; // what comes after the arming was waited for asleep, not polled for
        verbs.ibv_req_notify_cq(cq, 0);
        counters.cqArms++;
        if (drain() > 0) {
            flushSends();
            queueRoundEnd(); // still polling: armed, so an event may come too, which costs one spare wake-up
            queueBeforeSleep();
            return true;
        }
        polling = false;
        updateIdle();
        return false;
    }

    /** Posts every queued send queue's chain. A post that fails ends that queue only. */
    void flushSends() {
        while (flushHead != null) {
            RdmaSendQueue sq = flushHead;
            flushHead = sq.nextToFlush;
            sq.nextToFlush = null;
            sq.flushQueued = false;
            try {
                sq.flush();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, reactor.name() + ": posting a send chain", e);
            }
        }
    }

    private void flushReposts() {
        if (repostCount == 0) {
            return;
        }
        for (int i = 0; i < repostCount; i++) {
            IbvRecvWr.next(recvWr[reposts[i]], 0, i + 1 < repostCount ? recvWr[reposts[i + 1]] : MemorySegment.NULL);
        }
        int rc = verbs.ibv_post_srq_recv(srq, recvWr[reposts[0]], badWr);
        if (rc != 0) {
            LOG.log(System.Logger.Level.ERROR, reactor.name() + ": ibv_post_srq_recv of " + repostCount
                    + " receives: " + Errno.describe(Math.abs(rc)));
        }
        repostCount = 0;
    }

    /** IORING_OP_POLL_ADD on the completion channel fd. */
    private final class CompletionPoll extends RingOperation {
        @Override
        protected boolean prep(SubmissionQueue sq, long userData) {
            return sq.prepPollAdd(channelFd, POLLIN, userData);
        }

        @Override
        protected void complete(int res, int flags) {
            pollArmed = false;
            try {
                if (res >= 0) {
                    try {
                        device.control.ibv_get_cq_event(channel);
                        device.control.ibv_ack_cq_events(cq, 1);
                        counters.cqEvents++;
                        if (SPIN_NANOS > 0 && System.nanoTime() - armedAt < SPIN_NANOS) {
                            spinMisses = 0; // a spin would have caught this one
                        }
                    } catch (ErrnoException e) {
                        if (e.errno() != Errno.EAGAIN) {
                            LOG.log(System.Logger.Level.WARNING, reactor.name() + ": " + e.getMessage());
                        }
                    }
                    // not re-armed here: polled every round while busy, armed when the reactor would sleep
                    drain();
                    startPolling();
                } else if (res != -Errno.ECANCELED) {
                    LOG.log(System.Logger.Level.WARNING, reactor.name() + ": poll on the completion channel: "
                            + Errno.describe(-res));
                }
            } catch (RuntimeException e) {
                // each completion's handler is isolated in dispatch(); this is the CQ itself: log, poll on
                LOG.log(System.Logger.Level.ERROR, reactor.name() + ": draining the RDMA CQ", e);
            } finally {
                if (live > 0 && !pollArmed) {
                    pollArmed = true;
                    reactor.submit(this);
                }
                updateIdle();
            }
        }
    }

    /**
     * Polls the CQ empty, dispatching every completion; the receives it consumed go back in one chain. Returns
     * how many completions it took.
     */
    private int drain() {
        draining = true;
        int total = 0;
        try {
            int n;
            do {
                n = verbs.ibv_poll_cq(cq, BATCH, wc);
                if (n < 0) {
                    LOG.log(System.Logger.Level.ERROR, reactor.name() + ": ibv_poll_cq returned " + n);
                    break;
                }
                counters.completions += n;
                total += n;
                if (SPIN_NANOS > 0) {
                    if (n > 0) {
                        lastFound = System.nanoTime();
                        if (emptySinceFound) {
                            spinMisses = 0; // polling again caught what a wake-up would have brought
                            emptySinceFound = false;
                        }
                    } else {
                        emptySinceFound = true;
                    }
                }
                for (int i = 0; i < n; i++) {
                    dispatch(i * IbvWc.SIZE);
                }
            } while (n == BATCH);
        } finally {
            draining = false;
            flushReposts();
        }
        return total;
    }

    private void dispatch(long at) {
        long wrId = IbvWc.wr_id(wc, at);
        int status = IbvWc.status(wc, at);
        int kind = (int) (wrId >>> 56);
        if (kind == KIND_RECV) {
            int index = (int) wrId;
            if (status != Ibverbs.IBV_WC_SUCCESS) {
                repost(index);
                if (status != Ibverbs.IBV_WC_WR_FLUSH_ERR) {
                    // the SRQ's buffer is the reactor's, the error the QP's: its queue ends, saying why
                    Endpoint failed = byQpNum(IbvWc.qp_num(wc, at));
                    if (failed == null) {
                        LOG.log(System.Logger.Level.WARNING, reactor.name() + ": receive failed on QP "
                                + IbvWc.qp_num(wc, at) + ": " + Ibverbs.describeWcStatus(status));
                    } else {
                        try {
                            failed.receiveFailed(status);
                        } catch (RuntimeException e) {
                            fault(failed, e);
                        }
                    }
                }
                return;
            }
            Endpoint q = byQpNum(IbvWc.qp_num(wc, at));
            if (q == null) {
                repost(index); // a QP already gone
                return;
            }
            try {
                q.received(index, IbvWc.byte_len(wc, at));
            } catch (RuntimeException e) {
                fault(q, e);
            }
            return;
        }
        int slot = (int) (wrId >>> 32) & (MAX_QUEUES - 1);
        Endpoint q = queues[slot];
        if (q == null || generations[slot] != ((int) (wrId >>> 44) & GENERATION_MASK)) {
            LOG.log(System.Logger.Level.WARNING, reactor.name() + ": completion for no queue (wr_id 0x"
                    + Long.toHexString(wrId) + ")");
            return;
        }
        try {
            q.sendCompleted(kind, (int) wrId, status, IbvWc.vendor_err(wc, at));
        } catch (RuntimeException e) {
            fault(q, e);
        }
    }

    /**
     * {@code q} threw while handling one of its completions (wire input it did not expect, a bug): it ends alone
     * and the drain goes on with the next completion. Nothing thrown for one QP may reach the ring's loop, which
     * would take every queue of this reactor with it.
     */
    private void fault(Endpoint q, RuntimeException e) {
        try {
            q.fault(e);
        } catch (RuntimeException again) {
            again.addSuppressed(e);
            LOG.log(System.Logger.Level.ERROR, reactor.name() + ": ending " + q + " after a failure failed too", again);
        }
    }

    private Endpoint byQpNum(int qpNum) {
        Endpoint q = lastHit;
        if (q != null && q.qpNum() == qpNum) {
            return q;
        }
        for (Endpoint c : queues) {
            if (c != null && c.qpNum() == qpNum) {
                lastHit = c;
                return c;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- conductor, after the last queue

    /** Frees everything once no queue and no ring operation of ours is left; false (and nothing freed) otherwise. */
    boolean destroy() {
        if (!idle) {
            LOG.log(System.Logger.Level.WARNING, reactor.name() + ": RDMA resources still in use at shutdown; left");
            return false;
        }
        unregisterPool(memory, device);
        destroyQuietly(channel, cq, srq, recvMr);
        arena.close();
        return true;
    }

    private static void unregisterPool(MemoryRegistry memory, RdmaDevice device) {
        try {
            memory.unregisterPool(device.pd);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "deregistering the I/O buffers from " + device.name + ": " + e.getMessage());
        }
    }

    private void destroyQuietly(MemorySegment channel, MemorySegment cq, MemorySegment srq, MemorySegment recvMr) {
        try {
            if (recvMr != null) device.control.ibv_dereg_mr(recvMr);
            if (srq != null) device.control.ibv_destroy_srq(srq);
            if (cq != null) device.control.ibv_destroy_cq(cq);
            if (channel != null) device.control.ibv_destroy_comp_channel(channel);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "freeing RDMA resources: " + e.getMessage());
        }
    }
}
