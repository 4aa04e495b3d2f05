package io.sanport.transport.tcp;

import io.sanport.bindings.Errno;
import io.sanport.iop.Reactor;
import io.sanport.iop.RingOperation;
import io.sanport.iop.SubmissionQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A connection's transmit side: a FIFO of {@link SendJob}s and one gather write in flight at a time (stream
 * order). The write is prepared at the end of the reactor's loop round ({@link Reactor#submitDeferred}), so every
 * job queued in that round, and those queued while a write was in flight, leave together in one {@code writev}
 * (nvmet's {@code nvmet_tcp_try_send} over its response list, SPDK's {@code nvme_tcp_qpair_process_send_queue}).
 */
final class SendQueue extends RingOperation {
    /** iovecs in one gathered writev (IOV_MAX is 1024). */
    private static final int GATHER_MAX = 64;

    private final TcpConnection connection;
    private final Reactor reactor;
    private final int fd;
    private final TcpStats.Counters stats;
    private final MemorySegment gather;
    private SendJob head;
    private SendJob tail;
    private boolean sending;
    private long writevs;   // this connection's, for its closing log line
    private long sentBytes; // all bytes written: the sweep compares it to see whether sends progress
    private long sweptBytes;      // sentBytes when the sweep last saw progress
    private long pendingSince;    // when the sweep first saw the current backlog make no progress (0: none)

    SendQueue(TcpConnection connection, Reactor reactor, int fd, TcpStats.Counters stats, Arena arena) {
        super(true); // one of the connection's own slots: a send blocked by the host never holds one I/O needs
        this.connection = connection;
        this.reactor = reactor;
        this.fd = fd;
        this.stats = stats;
        this.gather = arena.allocate(GATHER_MAX * SendJob.IOV_SIZE, 8);
    }

    /** A write is in flight: the connection may not be freed yet. */
    boolean sending() { return sending; }

    long writevs() { return writevs; }

    /**
     * The sweep, every tick: how long (ns) jobs have been queued without one byte of them being written (0 when
     * the queue is empty or moved since the last call). Sampled by the sweep, so the send path pays nothing.
     */
    long stalledFor(long now) {
        if (head == null || sentBytes != sweptBytes) {
            sweptBytes = sentBytes;
            pendingSince = head == null ? 0 : now;
            return 0;
        }
        if (pendingSince == 0) {
            pendingSince = now;
        }
        return now - pendingSince;
    }

    /** Queues {@code job} (ready, not queued already) behind the others and starts a write unless one is in flight. */
    void add(SendJob job) {
        if (job.queued) {
            throw new IllegalStateException(connection + ": " + job + " is queued already");
        }
        job.queued = true;
        job.next = null;
        if (tail == null) {
            head = job;
        } else {
            tail.next = job;
        }
        tail = job;
        arm();
    }

    /** Drops what is queued: the connection is gone. */
    void clear() {
        for (SendJob j = head; j != null; j = j.next) {
            j.queued = false;
        }
        head = null;
        tail = null;
    }

    private void arm() {
        if (sending || head == null || connection.freed()) {
            return;
        }
        if (connection.closing() && !head.last()) {
            return; // closing: only a C2HTermReq still goes out
        }
        sending = true;
        writevs++;
        stats.sends++;
        reactor.submitDeferred(this);
    }

    /** Gathers the unsent iovecs of the queued jobs, in order, into one writev; a C2HTermReq ends the batch. */
    @Override
    protected boolean prep(SubmissionQueue sq, long userData) {
        int n = 0;
        for (SendJob j = head; j != null; j = j.next) {
            int count = j.iovCount();
            if (n + count > GATHER_MAX) {
                break;
            }
            for (int k = 0; k < count; k++) {
                long len = j.length(k);
                if (len > 0) {
                    setIovec(n++, j.base(k), len);
                }
            }
            if (j.last()) {
                break;
            }
        }
        return sq.prepWritev(fd, gather.address(), n, userData);
    }

    private void setIovec(int i, long address, long length) {
        gather.set(ValueLayout.JAVA_LONG, i * SendJob.IOV_SIZE, address);
        gather.set(ValueLayout.JAVA_LONG, i * SendJob.IOV_SIZE + 8, length);
    }

    @Override
    protected void complete(int res, int flags) {
        try {
            TcpConnection.FaultHook hook = TcpConnection.faultHook;
            if (hook != null) {
                hook.on("send", connection.peerPort());
            }
            sent(res);
        } catch (RuntimeException | AssertionError e) {
            sending = false;
            connection.failed("send", e); // this connection ends; the reactor runs on
        }
    }

    private void sent(int res) {
        if (res < 0) {
            sending = false;
            clear();
            connection.sendFailed(res == -Errno.ECANCELED ? null : Errno.describe(-res));
            return;
        }
        // still "sending" while the sent jobs are retired: a release that queues a new job must not gather the
        // jobs not retired yet a second time
        sentBytes += res;
        long n = res;
        while (head != null) {
            SendJob j = head;
            long take = Math.min(n, j.left());
            n -= take;
            if (!j.consume(take)) {
                break; // a short write: the rest goes in the next writev
            }
            head = j.next;
            if (head == null) {
                tail = null;
            }
            j.next = null;
            j.queued = false;
            if (j.last()) {
                sending = false; // the last of the batch: now the shutdown may go ahead
            }
            j.sent();
            if (n == 0 || connection.freed() || !sending) {
                break;
            }
        }
        sending = false;
        arm();
        connection.sendDone();
    }
}
