package io.sanport.hostdriver;

import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemorySegment;

/**
 * One command slot of a queue pair, preallocated per queue entry and reused (nvmet's {@code nvmet_req}, SPDK's
 * {@code spdk_nvmf_request}). It carries the SQE, the CQE fields, the status and the field that caused it, and
 * the data buffer from the reactor's pool. Transport-agnostic: each transport wraps it in a command object of its
 * own that holds the wire state (TcpCommand, RdmaCommand, as nvmet's {@code nvmet_tcp_cmd} / {@code nvmet_rdma_rsp}
 * hold an {@code nvmet_req}). Confined to the queue's reactor thread.
 */
public final class Request {

    /** Where a request is; {@link QueuePair#process} advances it until the state stops changing. */
    public enum State {
        /** The SQE has arrived; nothing checked yet. */
        NEW,
        /** Checked and needs a data buffer; waits in the queue when the reactor's pool is empty. */
        NEED_BUFFER,
        /** The transport is moving the host's data into the buffer (in-capsule, R2T + H2CData, RDMA READ). */
        TRANSFERRING_FROM_HOST,
        /** All data is here; the command can run. */
        READY_TO_EXECUTE,
        /** Running: an I/O on the reactor's ring, or an AER held until an event. */
        EXECUTING,
        /** The transport sends the data of a successful controller-to-host command, then the completion. */
        TRANSFERRING_TO_HOST,
        /** The transport sends the completion (no data, or the command failed). */
        COMPLETING,
        /** Unused: free for the next SQE. */
        FREE
    }

    final QueuePair queue;
    final int tag;
    final MemorySegment sqe;
    Object local;           // the LocalTransport's per-slot state (the ring's IoRequest), made once
    State state = State.FREE;

    // the completion
    int status;          // SCT<<8 | SC (Status constants)
    boolean dnr;         // Do Not Retry even where the code alone would allow a retry (a failed flush)
    int errorLocation;   // byte offset in the SQE (or Connect data) of the offending field, 0xFFFF if none
    int dw0;
    int dw1;

    // the data
    long dataLength;        // bytes SGL1 describes
    int inCapsuleLength;    // bytes of in-capsule data the transport holds for this command
    boolean hostToController;
    int bufferIndex = -1;
    MemorySegment buffer;   // the whole registered pool buffer (preallocated segment), or null without data

    // execution
    Namespace ns;
    int step;               // progress of multi-step commands (DSM ranges, shutdown flushes)
    Request nextWaiting;    // the reactor's NEED_BUFFER FIFO, or its host-paced one
    long parkedAt;          // when it parked (the reactor's count of parks): which of the two FIFOs goes first
    boolean woken;          // taken off a FIFO: may take a buffer ahead of those still waiting
    boolean hostPaced;      // its buffer waits for data the host has still to send: counted against the quotas
    Controller pacedOn;     // the controller that count is charged to (null: a Connect, before any controller)
    boolean hostHeld;       // a read's buffer: counted against its host's share until the host has taken the data
    boolean inDevice;       // an I/O of this request is on the ring: its buffer stays until it completes
    boolean endsController; // an authentication failure: the controller ends once this completion is sent
    long startedAt;         // the reactor's clock (Reactor.clock) when its SQE arrived: its latency in the metrics
    boolean held;           // an AER held until an event: not in the port's outstanding commands

    final Runnable resume;  // continues this request from the reactor's run queue (made once per slot)

    Request(QueuePair queue, int tag, MemorySegment sqe) {
        this.queue = queue;
        this.tag = tag;
        this.sqe = sqe;
        this.resume = () -> queue.process(this);
    }

    public QueuePair queue() { return queue; }

    /** Index of this slot in its queue: the transport's key (TTAG on TCP). */
    public int tag() { return tag; }

    public State state() { return state; }

    /** The 64-byte SQE, filled by the transport before {@link QueuePair#start}. */
    public MemorySegment sqe() { return sqe; }

    public int cid() { return SubmissionQueueEntry.cid(sqe); }
    public int opcode() { return SubmissionQueueEntry.opcode(sqe); }

    /** Status code (SCT<<8|SC) of the completion. */
    public int status() { return status; }

    /** The CQE status word: the code, with DNR when a retry cannot help. */
    public int statusWord() { return Status.word(status, dnr || !Status.retryable(status)); }

    public int dw0() { return dw0; }
    public int dw1() { return dw1; }

    public long dataLength() { return dataLength; }
    public void dataLength(long v) { dataLength = v; }

    public int inCapsuleLength() { return inCapsuleLength; }
    public void inCapsuleLength(int v) { inCapsuleLength = v; }

    /** Whether the data flows host to controller (write, Connect, Set Features with data, DSM). */
    public boolean hostToController() { return hostToController; }

    /**
     * The registered pool buffer holding the data in its first {@link #dataLength()} bytes (the pool's own
     * segment: taking it allocates nothing).
     */
    public MemorySegment buffer() { return buffer; }

    /** The data as a segment of exactly {@link #dataLength()} bytes (control path: it allocates a slice). */
    public MemorySegment data() { return buffer.asSlice(0, dataLength); }


    /** Whether the completion goes after data to the host: a successful command that returns data. */
    public boolean sendsData() {
        return status == Status.SUCCESS && !hostToController && dataLength > 0;
    }

    /** Sets the outcome: status code and the offset of the field at fault. */
    void fail(int code, int location) {
        status = code;
        errorLocation = location;
    }

    /** Called by the {@link LocalTransport} when this request's block I/O finished with {@code status}. */
    public void ioComplete(int status) {
        queue.ioComplete(this, status);
    }

    /**
     * Fills the 16-byte completion {@code cqe} for this request: result dwords, SQHD, SQID, CID and the status
     * word. The one place the target writes a CQE; both transports send what it wrote.
     */
    public void fillCompletion(MemorySegment cqe) {
        CompletionQueueEntry.dw0(cqe, dw0);
        CompletionQueueEntry.dw1(cqe, dw1);
        CompletionQueueEntry.sqhd(cqe, queue.sqhd());
        CompletionQueueEntry.sqid(cqe, Math.max(queue.qid(), 0));
        CompletionQueueEntry.cid(cqe, cid());
        CompletionQueueEntry.status(cqe, statusWord());
    }

    void reset() {
        status = 0;
        held = false;
        dnr = false;
        errorLocation = 0xFFFF;
        dw0 = 0;
        dw1 = 0;
        dataLength = 0;
        inCapsuleLength = 0;
        hostToController = false;
        buffer = null;
        ns = null;
        step = 0;
        nextWaiting = null;
        woken = false;
        inDevice = false;
        endsController = false;
    }

    @Override
    public String toString() {
        return "request " + tag + " cid " + cid() + " opcode 0x" + Integer.toHexString(opcode()) + " " + state;
    }
}
