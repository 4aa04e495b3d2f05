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
 * resubmissions. The PDU headers, iovecs and errno capture are preallocated; the send list is linked through the
 * slots.
 */
final class TcpPduSender {
    /** Linux {@code NVME_TCP_ADMIN_CCSZ}: fabrics and admin commands carry up to 8 KiB in the capsule. */
    static final int ADMIN_IN_CAPSULE_MAX = CapsuleCommand.ADMIN_IN_CAPSULE_MAX;
    /** Linux UIO_MAXIOV. */
    private static final int IOV_MAX = 1024;
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
    private final MemorySegment h2cDataDigest;
    private final Crc32c crc = new Crc32c();
    /** The H2CData header and its digest; only the reader sends H2CData. */
    private final MemorySegment h2c;
    private final ByteBuffer h2cView;
    /** sendmsg(2) calls for capsules (not H2CData), for tests. */
    private volatile long capsuleSendCalls;
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
        h2cDataDigest = arena.allocate(4, 4);
        h2c = arena.allocate(H2CData.HLEN + PduHeader.DIGEST_LENGTH + 4, 8);
        h2cView = h2c.asByteBuffer();
    }

    /** Largest write sent inside the capsule; larger ones wait for an R2T. I/O queues: IOCCSZ x 16 - 64. */
    void inCapsuleMax(long bytes) {
        inCapsuleMax = bytes;
    }

    long capsuleSendCalls() {
        return capsuleSendCalls;
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
        while (PENDING.getVolatile(this) != null && sendLock.tryLock()) {
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
    }

    /**
     * Takes the send list and sends it in submission order with as few {@code sendmsg} calls as the iovec limit
     * allows; under the send lock. Once the queue failed, nothing more is sent: the capsules left are returned,
     * linked, for the caller to fail after unlocking.
     */
    private CommandSlot sendPending() {
        CommandSlot stack = (CommandSlot) PENDING.getAndSet(this, null);
        CommandSlot fifo = null;
        while (stack != null) {
            CommandSlot next = stack.nextPending;
            stack.nextPending = fifo;
            fifo = stack;
            stack = next;
        }
        int count = 0;
        while (fifo != null && queue.failure() == null) {
            CommandSlot slot = fifo;
            fifo = slot.nextPending;
            slot.nextPending = null;
            if (count + 3 > iovMax) {
                count = transmit(count, slot);
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
        transmit(count, null);
        return fifo;
    }

    /** One sendmsg of the first {@code count} iovecs; a failure ends the queue (the reader fails what is in flight). */
    private int transmit(int count, CommandSlot next) {
        if (count == 0) {
            return 0;
        }
        capsuleSendCalls = capsuleSendCalls + 1; // under the send lock
        try {
            socket.sendmsg(msghdr, iov, count, sendState);
        } catch (IOException e) {
            queue.fail(new NvmeTransportException("queue " + queue.qid + " of " + socket.peer() + ": sending "
                    + (next == null ? "capsules" : "capsules before " + next.name) + " failed: " + e.getMessage(), e));
        }
        return 0;
    }

    /**
     * Answers an R2T (the reader, one at a time per command: we announce MAXR2T 0): sends [offset, offset + length)
     * of the command's data in MAXH2CDATA pieces, then the capsules listed meanwhile.
     */
    void answerR2T(CommandSlot slot, int ttag, long offset, long length) throws IOException {
        long end = offset + length;
        sendLock.lock();
        try {
            while (offset < end) {
                long chunk = Math.min(end - offset, maxH2CData);
                boolean last = offset + chunk == end;
                int flags = (headerDigest ? PduHeader.FLAG_HDGSTF : 0) | (dataDigest ? PduHeader.FLAG_DDGSTF : 0)
                        | (last ? PduHeader.FLAG_LAST_PDU : 0);
                int pdo = H2CData.HLEN + digestLength;
                PduHeader.set(h2c, PduHeader.TYPE_H2C_DATA, flags, H2CData.HLEN, pdo,
                        pdo + chunk + (dataDigest ? PduHeader.DIGEST_LENGTH : 0));
                H2CData.cccid(h2c, slot.cid);
                H2CData.ttag(h2c, ttag);
                H2CData.datao(h2c, offset);
                H2CData.datal(h2c, chunk);
                h2c.set(U32, 20, 0);
                if (headerDigest) {
                    h2c.set(U32, H2CData.HLEN, crc.digest(h2cView, 0, H2CData.HLEN));
                }
                iovec(0, h2c.address(), pdo);
                iovec(1, slot.dataAddress + offset, chunk);
                int count = 2;
                if (dataDigest) {
                    h2cDataDigest.set(U32, 0, NvmeTcpQueue.dataDigest(crc, slot.dataAddress + offset, chunk));
                    iovec(count++, h2cDataDigest.address(), PduHeader.DIGEST_LENGTH);
                }
                socket.sendmsg(msghdr, iov, count, sendState);
                offset += chunk;
            }
        } finally {
            sendLock.unlock();
        }
        flush(); // capsules listed while we held the lock
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
