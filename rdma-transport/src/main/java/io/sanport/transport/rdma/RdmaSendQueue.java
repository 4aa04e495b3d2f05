package io.sanport.transport.rdma;

import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.Verbs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The data mover of one QP: what its send queue carries and the credits it has for it (nvmet's
 * {@code sq_wr_avail} and {@code rsp_wr_wait_list}). Host writes: an RDMA READ of the keyed data into the
 * request's pool buffer. Host reads and every completion: the response SEND, behind the RDMA WRITE of the data.
 * A WR takes a send-queue credit until its work completion (or flush) comes back; an RDMA READ also takes one of
 * the READ depth the host granted (ORD). A command that finds too few waits in a FIFO, never fails: responses
 * first when credits return (they free slots), then READs.
 *
 * <p>Posting: what a loop round decides is linked into one chain and posted with one {@code ibv_post_send} at the
 * end of the round ({@link RdmaReactor#flushSends}): one doorbell (for SoftRoCE one system call, in which the
 * kernel runs the requester) for all of it. Signalling: READs and SENDs are signaled, a WRITE is not (as nvmet's
 * rdma_rw context): an RC send queue completes in order, so its SEND's completion says the WRITE is done and
 * gives back both credits. {@link #outstanding} counts the signaled WRs posted: when it is 0 nothing of this QP
 * is left in the CQ (an unsignaled WRITE that fails completes, in error, before its SEND's flush). Reactor thread
 * only.
 */
final class RdmaSendQueue {
    private final RdmaQueue owner;
    private final RdmaReactor rr;
    private final Verbs verbs;
    private final MemorySegment qp;
    private final int poolLkey;
    private final RdmaStats.Counters counters;
    private final MemorySegment badWr;
    private int free;
    private int readFree;
    private int outstanding;
    private RdmaCommand readHead, readTail;
    private RdmaCommand sendHead, sendTail;
    /** Commands whose WRs are chained for the round's post, in chain order (each holds a credit: depth bounds them). */
    private final RdmaCommand[] pending;
    private int pendingCount;
    private MemorySegment chainTail;
    /** On the reactor's list of send queues to post at the end of this round. */
    boolean flushQueued;
    RdmaSendQueue nextToFlush;

    RdmaSendQueue(RdmaQueue owner, RdmaReactor rr, MemorySegment qp, int depth, int readDepth, Arena arena) {
        this.owner = owner;
        this.rr = rr;
        this.verbs = rr.verbs;
        this.qp = qp;
        this.poolLkey = rr.poolLkey;
        this.counters = rr.counters;
        this.badWr = arena.allocate(ValueLayout.ADDRESS);
        this.free = depth;
        this.readFree = readDepth;
        this.pending = new RdmaCommand[depth];
    }

    /** Signaled WRs posted (or chained to be) whose work completion has not come back yet. */
    int outstanding() {
        return outstanding;
    }

    /** Reads {@code c}'s keyed data from the host, now or when credits return. */
    void read(RdmaCommand c) {
        if (readHead != null || free < 1 || readFree < 1) {
            counters.parkedForCredits++;
            c.nextWaiting = null;
            if (readTail != null) readTail.nextWaiting = c; else readHead = c;
            readTail = c;
            return;
        }
        postRead(c);
    }

    /** Sends {@code c}'s response (after its data, for a successful read), now or when credits return. */
    void respond(RdmaCommand c) {
        if (sendHead != null || free < c.responseWrCount()) {
            counters.parkedForCredits++;
            c.nextWaiting = null;
            if (sendTail != null) sendTail.nextWaiting = c; else sendHead = c;
            sendTail = c;
            return;
        }
        postResponse(c);
    }

    /**
     * A WR of kind {@code kind} for {@code c} completed or was flushed: a READ gives back its credits, a SEND
     * those of the whole response (its WRITE too). A WRITE completes only in error; the SEND after it settles.
     */
    void completed(int kind, RdmaCommand c) {
        if (kind == RdmaReactor.KIND_READ) {
            outstanding--;
            free++;
            readFree++;
        } else if (kind == RdmaReactor.KIND_SEND) {
            outstanding--;
            free += c.sqCredits;
        }
    }

    /** Posts waiting commands while credits last: responses first (they free slots), then RDMA READs. */
    void resume() {
        while (sendHead != null && free >= sendHead.responseWrCount()) {
            RdmaCommand c = sendHead;
            sendHead = c.nextWaiting;
            if (sendHead == null) sendTail = null;
            postResponse(c);
        }
        while (readHead != null && free >= 1 && readFree >= 1) {
            RdmaCommand c = readHead;
            readHead = c.nextWaiting;
            if (readHead == null) readTail = null;
            postRead(c);
        }
    }

    /**
     * The QP is going to ERR (after {@link #flush}): nothing waiting will be posted (the core releases those
     * requests).
     */
    void clear() {
        readHead = readTail = sendHead = sendTail = null;
        outstanding -= pendingCount;
        dropPending();
    }

    private void postRead(RdmaCommand c) {
        MemorySegment wr = c.readWr(owner.wrId(RdmaReactor.KIND_READ, c.tag), poolLkey);
        free--;
        readFree--;
        outstanding++;
        counters.rdmaReads++;
        counters.rdmaReadBytes += c.request.dataLength();
        chain(c, wr, wr);
    }

    private void postResponse(RdmaCommand c) {
        int wrs = c.responseWrCount();
        MemorySegment first = c.responseWrs(owner.wrId(RdmaReactor.KIND_SEND, c.tag),
                owner.wrId(RdmaReactor.KIND_WRITE, c.tag), poolLkey);
        // counted before the post: the host may see the response (and a test read the counters) before it returns
        counters.sends++;
        if (wrs == 2) {
            counters.rdmaWrites++;
            counters.rdmaWriteBytes += c.request.dataLength();
        }
        if (c.sgl.invalidate) {
            counters.sendsWithInvalidate++;
        }
        c.sqCredits = wrs;
        free -= wrs;
        outstanding++;
        chain(c, first, c.sendWr());
    }

    /** Links {@code c}'s WRs ({@code first} .. {@code last}, whose next is NULL) behind the round's chain. */
    private void chain(RdmaCommand c, MemorySegment first, MemorySegment last) {
        if (pendingCount == 0) {
            rr.flushAtRoundEnd(this);
        } else {
            IbvSendWr.next(chainTail, 0, first);
        }
        pending[pendingCount++] = c;
        chainTail = last;
    }

    /** Posts the round's chain with one {@code ibv_post_send}. */
    void flush() {
        if (pendingCount == 0) {
            return;
        }
        counters.postSends++;
        int rc;
        try {
            rc = verbs.ibv_post_send(qp, pending[0].firstWr(), badWr);
        } catch (RuntimeException e) {
            outstanding -= pendingCount; // never posted twice: taken as not posted at all, and the queue ends
            dropPending();
            owner.fault(e);
            return;
        }
        if (rc != 0) {
            // from the bad WR on nothing went: those signaled WRs will never complete. A WRITE that went before
            // its SEND failed may still complete in error; the reactor drops it once this queue is gone.
            long bad = badWr.get(ValueLayout.ADDRESS, 0).address();
            int i = 0;
            while (i < pendingCount && !pending[i].holds(bad)) {
                i++;
            }
            if (i == pendingCount) {
                i = 0; // a bad WR not ours: take it that nothing went rather than wait for what never comes
            }
            outstanding -= pendingCount - i;
            int chained = pendingCount;
            dropPending();
            owner.postFailed("a chain of " + chained + " commands' work requests", rc); // clears the FIFOs
            return;
        }
        dropPending();
    }

    private void dropPending() {
        for (int i = 0; i < pendingCount; i++) {
            pending[i] = null;
        }
        pendingCount = 0;
        chainTail = null;
    }
}
