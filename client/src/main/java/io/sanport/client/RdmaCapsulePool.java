package io.sanport.client;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvRecvWr;
import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.bindings.verbs.Verbs;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * The registered memory of one {@link NvmeRdmaQueue} and the posting of its work requests (Linux
 * {@code nvme_rdma_post_send} / {@code nvme_rdma_post_recv}): per slot the 64-byte SQE plus an 8 KiB data area,
 * and the {@code size} 16-byte receive buffers for CQEs (preposted; the target's response SEND must be exactly one
 * CQE). One MR covers the pool. A command is one signaled SEND of its capsule; the WRs and SGEs are preallocated,
 * one SEND WR per slot. It counts what is posted, so the queue knows when a QP in ERR has drained.
 */
final class RdmaCapsulePool {
    /** Per-slot registered data area: in-capsule writes and bounced small transfers. */
    static final int SMALL_DATA = Capsule.IN_CAPSULE_DATA;
    static final int CAPSULE = (int) SubmissionQueueEntry.SIZE + SMALL_DATA;
    static final int CQE_SIZE = (int) CompletionQueueEntry.SIZE;
    /** wr_id of a RECV: this bit | the receive buffer's index; a SEND's: SEND_TAG | the slot index. */
    static final long RECV_TAG = 1L << 32;
    private static final long SEND_TAG = 2L << 32;

    /** [size capsules of {@link #CAPSULE} bytes][size receive buffers of 16 bytes], registered as {@link #mr}. */
    final MemorySegment pool;
    private final NvmeRdmaQueue queue;
    private final int size;
    private final long recvBase;
    private final MemorySegment[] sendWrs;
    private final MemorySegment[] sendSges;
    private final MemorySegment[] badSends;
    private Verbs verbs;
    private MemorySegment qp;
    private MemorySegment mr;
    private int lkey;
    private int rkey;

    // completion thread only (and the opener before it starts)
    private final MemorySegment recvWr;
    private final MemorySegment recvSge;
    private final MemorySegment badRecv;
    private int postedRecvs;

    private final AtomicInteger outstandingSends = new AtomicInteger();

    RdmaCapsulePool(NvmeRdmaQueue queue, Arena arena, int size) {
        this.queue = queue;
        this.size = size;
        sendWrs = new MemorySegment[size];
        sendSges = new MemorySegment[size];
        badSends = new MemorySegment[size];
        pool = arena.allocate((long) size * CAPSULE + (long) size * CQE_SIZE, 4096);
        recvBase = (long) size * CAPSULE;
        for (int i = 0; i < size; i++) {
            sendWrs[i] = arena.allocate(IbvSendWr.LAYOUT);
            sendSges[i] = arena.allocate(IbvSge.LAYOUT);
            badSends[i] = arena.allocate(ADDRESS);
        }
        recvWr = arena.allocate(IbvRecvWr.LAYOUT);
        recvSge = arena.allocate(IbvSge.LAYOUT);
        badRecv = arena.allocate(ADDRESS);
    }

    /** Registers the pool with the queue's PD and readies one SEND WR per slot for {@code qp}. */
    void register(MemorySegment pd, Verbs verbs, MemorySegment qp) throws ErrnoException {
        this.verbs = verbs;
        this.qp = qp;
        mr = Ibverbs.ibv_reg_mr(pd, pool, Ibverbs.IBV_ACCESS_LOCAL_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ
                | Ibverbs.IBV_ACCESS_REMOTE_WRITE);
        lkey = IbvMr.lkey(mr);
        rkey = IbvMr.rkey(mr);
        for (int i = 0; i < size; i++) {
            IbvSendWr.sg_list(sendWrs[i], 0, sendSges[i], 1);
            IbvSendWr.opcode(sendWrs[i], 0, Ibverbs.IBV_WR_SEND);
            IbvSendWr.send_flags(sendWrs[i], 0, Ibverbs.IBV_SEND_SIGNALED);
            IbvSendWr.wr_id(sendWrs[i], 0, SEND_TAG | i);
        }
    }

    /** The pool's rkey, for data bounced through a slot's area. */
    int rkey() {
        return rkey;
    }

    /** Offset in {@link #pool} of slot {@code index}'s capsule: its SQE, then its data area. */
    static long capsule(int index) {
        return (long) index * CAPSULE;
    }

    /** Offset in {@link #pool} of receive buffer {@code index}. */
    long response(int index) {
        return recvBase + (long) index * CQE_SIZE;
    }

    /** The SEND of slot {@code index} carries the first {@code length} bytes of its capsule. */
    void sendLength(int index, int length) {
        IbvSge.set(sendSges[index], 0, pool.address() + capsule(index), length, lkey);
    }

    /** Posts slot {@code index}'s SEND; returns ibv_post_send's result (0, or an errno). */
    int postSend(int index) {
        outstandingSends.incrementAndGet();
        int rc = verbs.ibv_post_send(qp, sendWrs[index], badSends[index]);
        if (rc != 0) {
            outstandingSends.decrementAndGet();
        }
        return rc;
    }

    /** Posts receive buffer {@code index} for the next response. */
    void postRecv(int index) throws NvmeTransportException {
        IbvSge.set(recvSge, 0, pool.address() + response(index), CQE_SIZE, lkey);
        IbvRecvWr.wr_id(recvWr, 0, RECV_TAG | index);
        IbvRecvWr.sg_list(recvWr, 0, recvSge, 1);
        int rc = verbs.ibv_post_recv(qp, recvWr, badRecv);
        if (rc != 0) {
            throw new NvmeTransportException(queue + ": ibv_post_recv: " + Errno.describe(Math.abs(rc)));
        }
        postedRecvs++;
    }

    /** A RECV came back (completed or flushed). */
    void recvCompleted() {
        postedRecvs--;
    }

    /** A SEND came back (completed or flushed). */
    void sendCompleted() {
        outstandingSends.decrementAndGet();
    }

    /** Every posted work request came back: a QP in ERR has drained. */
    boolean drained() {
        return postedRecvs == 0 && outstandingSends.get() == 0;
    }

    /** Deregisters the pool; the QP is gone. */
    void deregister() throws ErrnoException {
        if (mr != null) {
            Ibverbs.ibv_dereg_mr(mr);
        }
    }
}
