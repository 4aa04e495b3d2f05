package io.sanport.client;

import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.PduHeader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * One preallocated command of a queue: its CapsuleCmd PDU (header, SQE, room for the header digest), the data
 * buffer it moves and how it completes. A queue of N entries owns exactly N slots; the slot index is the low bits
 * of the CID and a 4-bit generation the high bits, so a late or duplicated completion cannot hit the next user of
 * the slot (the Linux host does the same with its blk-mq tag).
 */
final class CommandSlot {
    /** Free, in the queue's free list. */
    static final int FREE = 0;
    /** Owned by a submitter that is building the SQE. */
    static final int PREPARED = 1;
    /** Submitted, its capsule waiting in the queue's send list for the next sendmsg. */
    static final int QUEUED = 2;
    /** Capsule sent (or being sent): waiting for R2T, C2HData and the CapsuleResp. */
    static final int IN_FLIGHT = 3;
    /** Won the race to complete: exactly one of reader, failing queue or sender gets here per command. */
    static final int COMPLETING = 4;
    /** A blocking submitter's result is ready for it to collect. */
    static final int DONE = 5;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CommandSlot.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int INDEX_BITS = 12;
    static final int INDEX_MASK = (1 << INDEX_BITS) - 1;
    static final int MAX_SLOTS = 1 << INDEX_BITS;

    final int index;
    /** PDU header + SQE + header digest. */
    final MemorySegment capsule;
    /** The in-capsule data digest, sent as the capsule's last iovec. */
    final MemorySegment dataDigest;
    final MemorySegment sqe;
    final ByteBuffer capsuleView;
    int cid;
    private int generation;

    @SuppressWarnings("unused") // via STATE
    private volatile int state;

    // the data the command moves; the segment reference keeps an automatic arena's memory alive while in flight
    MemorySegment data;
    long dataAddress;
    long dataLength;
    boolean hostToController;
    boolean inCapsule;
    /** C2HData bytes received so far; they must arrive in order. */
    long received;
    /** Non-zero when a data digest failed: the command completes with this status word. */
    int dataStatus;
    /** What the command is, for messages ("Read", "Identify"). */
    String name;

    /** Below this one on the queue's free stack: index + 1, 0 at the bottom. */
    volatile int nextFree;
    /** Next capsule in the queue's send list (a stack while queued, a FIFO once taken by the sender). */
    CommandSlot nextPending;

    // the reader's alone: an R2T it has listed and not answered yet (TcpPduSender#listR2T)
    int r2tTag;
    /** Next byte to send and end of the R2T's range: equal once all of it is sent (or dropped). */
    long r2tOffset;
    long r2tEnd;
    CommandSlot nextH2C;

    /** Whether an R2T's H2CData is listed and not all sent yet. */
    boolean h2cListed() {
        return r2tOffset < r2tEnd;
    }

    IoCallback callback;
    Thread waiter;
    int statusWord;
    long result;
    Throwable failure;

    CommandSlot(int index, Arena arena) {
        this.index = index;
        MemorySegment pdu = arena.allocate(CapsuleCommand.HLEN + 2 * PduHeader.DIGEST_LENGTH, 8);
        this.capsule = pdu.asSlice(0, CapsuleCommand.HLEN + PduHeader.DIGEST_LENGTH);
        this.dataDigest = pdu.asSlice(CapsuleCommand.HLEN + PduHeader.DIGEST_LENGTH, PduHeader.DIGEST_LENGTH);
        this.sqe = capsule.asSlice(CapsuleCommand.OFFSET_SQE, SubmissionQueueEntry.SIZE);
        this.capsuleView = capsule.asByteBuffer();
    }

    int state() {
        return (int) STATE.getVolatile(this);
    }

    void state(int s) {
        STATE.setVolatile(this, s);
    }

    boolean transition(int from, int to) {
        return STATE.compareAndSet(this, from, to);
    }

    /** Takes the slot out of the free list: a fresh CID, a zeroed SQE, no data. */
    void prepare(String name) {
        generation = (generation + 1) & 0xF;
        cid = generation << INDEX_BITS | index;
        sqe.fill((byte) 0);
        SubmissionQueueEntry.cid(sqe, cid);
        SubmissionQueueEntry.flags(sqe, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        this.name = name;
        data = null;
        dataAddress = 0;
        dataLength = 0;
        hostToController = false;
        inCapsule = false;
        received = 0;
        dataStatus = 0;
        callback = null;
        waiter = null;
        statusWord = 0;
        result = 0;
        failure = null;
        state(PREPARED);
    }

    /**
     * Attaches the data buffer. Only native segments: the socket reads into and sends from their address.
     *
     * @throws IllegalArgumentException for a heap segment
     */
    void data(MemorySegment segment, boolean toController) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("I/O buffers must be native segments (e.g. Arena.allocate), not heap arrays");
        }
        data = segment;
        dataAddress = segment.address();
        dataLength = segment.byteSize();
        hostToController = toController;
    }

    /** Forgets references so a free slot keeps no user buffer or callback reachable. */
    void clear() {
        data = null;
        callback = null;
        waiter = null;
        failure = null;
    }
}
