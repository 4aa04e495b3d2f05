package io.sanport.transport.rdma;

import io.sanport.bindings.verbs.Verbs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The data mover of one QP: what its send queue carries and the credits it has for it (nvmet's
 * {@code sq_wr_avail} and {@code rsp_wr_wait_list}). Host writes: an RDMA READ of the keyed data into the
 * request's pool buffer. Host reads and every completion: the response SEND, behind the RDMA WRITE of the data
 * in the same {@code ibv_post_send} chain. A WR takes a send-queue credit until its work completion (or flush)
 * comes back; an RDMA READ also takes one of the READ depth the host granted (ORD). A command that finds too few
 * waits in a FIFO, never fails: responses first when credits return (they free slots), then READs. Every WR
 * is signaled, so {@link #outstanding} counts exactly the completions still to come. Reactor thread only.
 */
final class RdmaSendQueue {
    private final RdmaQueue owner;
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

    RdmaSendQueue(RdmaQueue owner, RdmaReactor rr, MemorySegment qp, int depth, int readDepth, Arena arena) {
        this.owner = owner;
        this.verbs = rr.verbs;
        this.qp = qp;
        this.poolLkey = rr.poolLkey;
        this.counters = rr.counters;
        this.badWr = arena.allocate(ValueLayout.ADDRESS);
        this.free = depth;
        this.readFree = readDepth;
    }

    /** WRs posted whose work completion has not come back yet. */
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

    /** A WR of kind {@code kind} completed or was flushed: its credits come back. */
    void completed(int kind) {
        outstanding--;
        free++;
        if (kind == RdmaReactor.KIND_READ) {
            readFree++;
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

    /** The QP is going to ERR: nothing waiting will be posted (the core releases those requests). */
    void clear() {
        readHead = readTail = sendHead = sendTail = null;
    }

    private void postRead(RdmaCommand c) {
        MemorySegment wr = c.readWr(owner.wrId(RdmaReactor.KIND_READ, c.tag), poolLkey);
        int rc = verbs.ibv_post_send(qp, wr, badWr);
        if (rc != 0) {
            owner.postFailed("an RDMA READ", rc); // clears the FIFOs
            return;
        }
        free--;
        readFree--;
        outstanding++;
        counters.rdmaReads++;
        counters.rdmaReadBytes += c.request.dataLength();
    }

    private void postResponse(RdmaCommand c) {
        int posted = c.responseWrCount();
        MemorySegment first = c.responseWrs(owner.wrId(RdmaReactor.KIND_SEND, c.tag),
                owner.wrId(RdmaReactor.KIND_WRITE, c.tag), poolLkey);
        // counted before the post: the host may see the response (and a test read the counters) before it returns
        counters.sends++;
        if (posted == 2) {
            counters.rdmaWrites++;
            counters.rdmaWriteBytes += c.request.dataLength();
        }
        if (c.sgl.invalidate) {
            counters.sendsWithInvalidate++;
        }
        int rc = verbs.ibv_post_send(qp, first, badWr);
        if (rc != 0) {
            // the WRITE before a failed SEND went: its completion (a flush) is still to come
            if (posted == 2 && c.isSend(badWr.get(ValueLayout.ADDRESS, 0).address())) {
                free--;
                outstanding++;
            }
            owner.postFailed("a response", rc); // clears the FIFOs
            return;
        }
        free -= posted;
        outstanding += posted;
    }
}
