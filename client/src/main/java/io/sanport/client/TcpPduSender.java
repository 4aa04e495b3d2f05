package io.sanport.client;

import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.Crc32c;
import io.sanport.nvme.tcp.H2CData;
import io.sanport.nvme.tcp.PduHeader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

import static io.sanport.nvme.Wire.U32;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The send side of an {@link NvmeTcpQueue}: CapsuleCmd PDUs with their in-capsule data, and H2CData PDUs answering
 * R2Ts.
 * <p>
 * Any thread submits. A submitted capsule joins a lock-free send list; whoever holds {@link #sendLock} sends the
 * whole list with one {@code sendmsg} (one iovec per capsule, in-capsule data and digest), and a submitter that
 * finds the lock taken leaves its capsule to the holder, which looks at the list again after unlocking (flat
 * combining). Commands submitted by callbacks on the reader thread are only listed: the reader sends them all before
 * it next blocks in read(2) ({@link #flush}), so a burst of completions costs one {@code sendmsg} for all the
 * resubmissions. R2Ts are answered the same way: the reader lists the H2CData a command owes ({@link #listR2T}) and
 * goes on parsing the PDUs it has already read (completions, more R2Ts), then sends the H2CData of every R2T with the
 * capsules its callbacks listed in one {@code sendmsg} before it blocks in read(2). Only the reader sends H2CData:
 * a command's buffer is read by a send only while the reader, which alone completes commands, is not parsing. The
 * PDU headers, iovecs and errno capture are preallocated; both lists are linked through the slots.
 */
final class TcpPduSender {
    /** Linux {@code NVME_TCP_ADMIN_CCSZ}: fabrics and admin commands carry up to 8 KiB in the capsule. */
    static final int ADMIN_IN_CAPSULE_MAX = CapsuleCommand.ADMIN_IN_CAPSULE_MAX;
    /** Linux UIO_MAXIOV. */
    private static final int IOV_MAX = 1024;
    /** One H2CData PDU header with room for its digest, 8-byte aligned. */
    private static final int H2C_STRIDE = 32;
    private static final VarHandle PENDING;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(TcpPduSender.class, "pending", CommandSlot.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final NvmeTcpQueue queue;
    private final TcpSocket socket;
    private final boolean headerDigest;
    private final boolean dataDigest;
    private final int digestLength;
    private final long maxH2CData;
    private volatile long inCapsuleMax = ADMIN_IN_CAPSULE_MAX;

    /** Capsules submitted and not yet taken by a sender: a stack linked through {@link CommandSlot#nextPending}. */
    @SuppressWarnings("unused") // via PENDING
    private volatile CommandSlot pending;

    // guarded by sendLock
    private final ReentrantLock sendLock = new ReentrantLock();
    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final int iovMax;
    private final MemorySegment sendState;
    private final Crc32c crc = new Crc32c();
    /** H2CData headers (and header digests) of one sendmsg, then their data digests; only the reader sends H2CData. */
    private final MemorySegment h2c;
    private final MemorySegment[] h2cHeaders;
    private final MemorySegment h2cDataDigests;
    private final ByteBuffer h2cView;
    private final int h2cMax;
    /** sendmsg(2) calls (capsules and H2CData), for tests. */
    private volatile long sendCalls;

    // the reader's alone: commands whose R2T it has not answered yet, first to last, linked by CommandSlot#nextH2C
    private CommandSlot h2cFirst;
    private CommandSlot h2cLast;
    /** While the reader parses: its own submissions (from callbacks) wait for its flush before the next read. */
    private boolean deferSends;

    TcpPduSender(NvmeTcpQueue queue, TcpSocket socket, Arena arena, boolean headerDigest, boolean dataDigest,
                 long maxH2CData) {
        this.queue = queue;
        this.socket = socket;
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.digestLength = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        this.maxH2CData = maxH2CData;
        msghdr = arena.allocate(TcpSocket.MSGHDR_SIZE, 8);
        // header, in-capsule data and data digest per capsule; at least one H2CData PDU
        iovMax = Math.min(IOV_MAX, Math.max(4, 3 * queue.size));
        iov = arena.allocate(TcpSocket.IOVEC_SIZE * iovMax, 8);
        sendState = arena.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
        // an H2CData PDU takes up to 3 iovecs (header, data, data digest)
        h2cMax = iovMax / 3;
        h2c = arena.allocate((long) H2C_STRIDE * h2cMax, 8);
        h2cDataDigests = arena.allocate(PduHeader.DIGEST_LENGTH * h2cMax, 4);
        h2cView = h2c.asByteBuffer();
        h2cHeaders = new MemorySegment[h2cMax];
        for (int i = 0; i < h2cMax; i++) {
            h2cHeaders[i] = h2c.asSlice((long) i * H2C_STRIDE, H2C_STRIDE);
        }
    }

    /** Largest write sent inside the capsule; larger ones wait for an R2T. I/O queues: IOCCSZ x 16 - 64. */
    void inCapsuleMax(long bytes) {
        inCapsuleMax = bytes;
    }

    long sendCalls() {
        return sendCalls;
    }

    /** The reader defers its own submissions while it parses, and stops deferring when it ends. */
    void deferReaderSends(boolean defer) {
        deferSends = defer;
    }

    /** Builds the CapsuleCmd PDU header and the SGL of a PREPARED slot, lists it and sends the list. */
    void send(CommandSlot slot) {
        MemorySegment capsule = slot.capsule;
        MemorySegment sqe = slot.sqe;
        long length = slot.dataLength;
        boolean inCapsule = slot.hostToController && length > 0
                && length <= (queue.qid == 0 || isFabrics(sqe) ? Math.max(inCapsuleMax, ADMIN_IN_CAPSULE_MAX) : inCapsuleMax);
        slot.inCapsule = inCapsule;
        SglDescriptor.set(sqe, SubmissionQueueEntry.OFFSET_DPTR, 0, length,
                inCapsule ? SglDescriptor.ID_DATA_OFFSET : SglDescriptor.ID_TCP_TRANSPORT);
        int flags = headerDigest ? PduHeader.FLAG_HDGSTF : 0;
        long plen = CapsuleCommand.HLEN + digestLength;
        int pdo = 0;
        if (inCapsule) {
            pdo = (int) plen;
            plen += length + (dataDigest ? PduHeader.DIGEST_LENGTH : 0);
            flags |= dataDigest ? PduHeader.FLAG_DDGSTF : 0;
        }
        PduHeader.set(capsule, PduHeader.TYPE_CAPSULE_CMD, flags, CapsuleCommand.HLEN, pdo, plen);
        slot.state(CommandSlot.QUEUED);
        CommandSlot head;
        do {
            head = (CommandSlot) PENDING.getVolatile(this);
            slot.nextPending = head;
        } while (!PENDING.compareAndSet(this, head, slot));
        if (deferSends && Thread.currentThread() == queue.readerThread()) {
            return; // sent with the others before the reader next blocks
        }
        flush();
    }

    /**
     * Sends every listed capsule unless another thread is sending, which then sends ours: a sender looks at the list
     * again after unlocking, and a submitter lists its capsule before trying the lock, so none is left behind.
     */
    void flush() {
        if (Thread.currentThread() == queue.readerThread() && h2cFirst != null) { // h2cFirst is the reader's alone
            // the controller waits for this data: wait for a sender on another thread rather than leave it
            sendLock.lock();
            sendLocked();
        }
        while (PENDING.getVolatile(this) != null && sendLock.tryLock()) {
            sendLocked();
        }
    }

    /** Sends under the lock the caller took, unlocks, and fails the capsules left unsent by a failed queue. */
    private void sendLocked() {
        CommandSlot failed;
        try {
            failed = sendPending();
        } finally {
            sendLock.unlock();
        }
        // callbacks run outside the send lock: they may submit again
        while (failed != null) {
            CommandSlot next = failed.nextPending;
            failed.nextPending = null;
            queue.complete(failed, CommandSlot.QUEUED, 0, 0, queue.failure());
            failed = next;
        }
    }

    /**
     * Takes the send list and sends it in submission order, then (on the reader) the H2CData of the R2Ts it listed,
     * with as few {@code sendmsg} calls as the iovec limit allows; under the send lock. Once the queue failed,
     * nothing more is sent: the capsules left are returned, linked, for the caller to fail after unlocking.
     */
    private CommandSlot sendPending() {
        int count = 0;
        CommandSlot stack = (CommandSlot) PENDING.getAndSet(this, null);
        CommandSlot fifo = null;
        while (stack != null) {
            CommandSlot next = stack.nextPending;
            stack.nextPending = fifo;
            fifo = stack;
            stack = next;
        }
        while (fifo != null && queue.failure() == null) {
            CommandSlot slot = fifo;
            fifo = slot.nextPending;
            slot.nextPending = null;
            if (count + 3 > iovMax) {
                count = transmit(count, slot.name);
            }
            MemorySegment capsule = slot.capsule;
            if (headerDigest) {
                capsule.set(U32, CapsuleCommand.HLEN, crc.digest(slot.capsuleView, 0, CapsuleCommand.HLEN));
            }
            iovec(count++, capsule.address(), CapsuleCommand.HLEN + digestLength);
            if (slot.inCapsule) {
                iovec(count++, slot.dataAddress, slot.dataLength);
                if (dataDigest) {
                    slot.dataDigest.set(U32, 0, NvmeTcpQueue.dataDigest(crc, slot.dataAddress, slot.dataLength));
                    iovec(count++, slot.dataDigest.address(), PduHeader.DIGEST_LENGTH);
                }
            }
            // before the capsule leaves: its completion may come as soon as it did
            slot.state(CommandSlot.IN_FLIGHT);
        }
        if (Thread.currentThread() == queue.readerThread()) {
            // after the capsules: they are small, and the controller can start on them while the data streams in
            count = listH2C(count);
        }
        transmit(count, null);
        return fifo;
    }

    /** One sendmsg of the first {@code count} iovecs; a failure ends the queue (the reader fails what is in flight). */
    private int transmit(int count, String next) {
        if (count == 0) {
            return 0;
        }
        sendCalls = sendCalls + 1; // under the send lock
        try {
            socket.sendmsg(msghdr, iov, count, sendState);
        } catch (IOException e) {
            queue.fail(new NvmeTransportException("queue " + queue.qid + " of " + socket.peer() + ": sending "
                    + (next == null ? "PDUs" : "PDUs before " + next) + " failed: " + e.getMessage(), e));
        }
        return 0;
    }

    /**
     * Lists the answer to an R2T (the reader, at most one per command: we announce MAXR2T 0): H2CData PDUs of
     * [offset, offset + length) of the command's data, sent by {@link #flush} before the reader next reads.
     */
    void listR2T(CommandSlot slot, int ttag, long offset, long length) {
        slot.r2tTag = ttag;
        slot.r2tOffset = offset;
        slot.r2tEnd = offset + length; // R2TL > 0 (checked by the receiver): listed until all of it is sent
        slot.nextH2C = null;
        if (h2cLast == null) {
            h2cFirst = slot;
        } else {
            h2cLast.nextH2C = slot;
        }
        h2cLast = slot;
    }

    /** The reader after it failed: what it listed is never sent (the failed commands' buffers go back to callers). */
    void dropR2Ts() {
        while (h2cFirst != null) {
            CommandSlot slot = h2cFirst;
            h2cFirst = slot.nextH2C;
            slot.nextH2C = null;
            slot.r2tEnd = slot.r2tOffset; // sent, or never to be
        }
        h2cLast = null;
    }

    /**
     * Puts the listed R2Ts' H2CData PDUs, in MAXH2CDATA pieces, into the iovecs after the first {@code count}
     * (under the send lock, the reader only), sending whenever the iovecs or headers run out; returns the iovecs
     * filled and not sent yet. A failed queue sends nothing more.
     */
    private int listH2C(int count) {
        int pdus = 0;
        while (h2cFirst != null && queue.failure() == null) {
            CommandSlot slot = h2cFirst;
            while (slot.r2tOffset < slot.r2tEnd && queue.failure() == null) {
                if (count + 3 > iovMax || pdus == h2cMax) {
                    count = transmit(count, slot.name);
                    pdus = 0;
                }
                long offset = slot.r2tOffset;
                long chunk = Math.min(slot.r2tEnd - offset, maxH2CData);
                boolean last = chunk == slot.r2tEnd - offset;
                int flags = (headerDigest ? PduHeader.FLAG_HDGSTF : 0) | (dataDigest ? PduHeader.FLAG_DDGSTF : 0)
                        | (last ? PduHeader.FLAG_LAST_PDU : 0);
                int pdo = H2CData.HLEN + digestLength;
                MemorySegment header = h2cHeaders[pdus];
                PduHeader.set(header, PduHeader.TYPE_H2C_DATA, flags, H2CData.HLEN, pdo,
                        pdo + chunk + (dataDigest ? PduHeader.DIGEST_LENGTH : 0));
                H2CData.cccid(header, slot.cid);
                H2CData.ttag(header, slot.r2tTag);
                H2CData.datao(header, offset);
                H2CData.datal(header, chunk);
                header.set(U32, 20, 0);
                if (headerDigest) {
                    header.set(U32, H2CData.HLEN, crc.digest(h2cView, pdus * H2C_STRIDE, H2CData.HLEN));
                }
                iovec(count++, header.address(), pdo);
                iovec(count++, slot.dataAddress + offset, chunk);
                if (dataDigest) {
                    long d = (long) pdus * PduHeader.DIGEST_LENGTH;
                    h2cDataDigests.set(U32, d, NvmeTcpQueue.dataDigest(crc, slot.dataAddress + offset, chunk));
                    iovec(count++, h2cDataDigests.address() + d, PduHeader.DIGEST_LENGTH);
                }
                pdus++;
                slot.r2tOffset = offset + chunk;
            }
            h2cFirst = slot.nextH2C;
            slot.nextH2C = null;
            slot.r2tEnd = slot.r2tOffset; // sent, or never to be
        }
        if (h2cFirst == null) {
            h2cLast = null;
        }
        return count;
    }

    /**
     * Waits for a sender still inside sendmsg (it reads its buffers, and fails fast on the shut-down socket); after
     * it, nothing more turns IN_FLIGHT.
     */
    void awaitSendmsg() {
        sendLock.lock();
        sendLock.unlock();
    }

    private static boolean isFabrics(MemorySegment sqe) {
        return SubmissionQueueEntry.opcode(sqe) == FabricsCommand.OPCODE;
    }

    private void iovec(int i, long address, long length) {
        iov.set(JAVA_LONG, i * TcpSocket.IOVEC_SIZE, address);
        iov.set(JAVA_LONG, i * TcpSocket.IOVEC_SIZE + 8, length);
    }
}
