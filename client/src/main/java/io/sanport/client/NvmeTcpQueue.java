package io.sanport.client;

import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.C2HData;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.Crc32c;
import io.sanport.nvme.tcp.H2CData;
import io.sanport.nvme.tcp.ICReq;
import io.sanport.nvme.tcp.ICResp;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import io.sanport.nvme.tcp.TermReq;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One NVMe/TCP queue pair: a TCP connection with its ICReq/ICResp, N preallocated {@link CommandSlot}s for a queue
 * of N entries, and one reader thread.
 * <p>
 * Send: any thread submits. A submitted capsule joins a lock-free send list; whoever holds {@link #sendLock} sends
 * the whole list with one {@code sendmsg} (one iovec per capsule, in-capsule data and digest), and a submitter that
 * finds the lock taken leaves its capsule to the holder, which looks at the list again after unlocking (flat
 * combining). Commands submitted by callbacks on the reader thread are only listed: the reader sends them all before
 * it next blocks in read(2), so a burst of completions costs one {@code sendmsg} for all the resubmissions.
 * <p>
 * Receive: the reader thread alone. One read(2) fills a per-queue staging buffer with whatever the socket has, and
 * every complete PDU in it is handled before the next read; a header cut by the end of a read is completed by the
 * next. C2HData bytes already staged are copied to the command's buffer ({@link #payloadBytesCopied}); when at least
 * {@link #DIRECT_READ_MIN} bytes of a payload are still on the wire they are read straight into the buffer, with the
 * staging buffer as a second iovec to pick up the next header in the same readv(2). The reader completes commands
 * (CapsuleResp, or C2HData with SUCCESS) and answers R2Ts with H2CData (under the send lock). Callbacks run on the
 * reader thread.
 * <p>
 * Hot path: no allocation per command when digests are off. Slots, PDU headers, iovecs, the staging buffer and the
 * errno capture segments are preallocated; the free-slot list and the send list are lock-free stacks linked through
 * the slots (a lock only parks a submitter that finds all N slots in flight). With a data digest, CRC32C needs one {@code ByteBuffer} view of the data per PDU (the JDK's CRC32C reads
 * only arrays and buffers).
 * <p>
 * Failure: any transport or protocol error ends the queue: the socket is shut down, the reader fails every
 * command in flight with one {@link NvmeTransportException} and later submissions fail at once. The reader is the
 * only thread that writes into a command's buffer, and in-flight commands are failed only after it stopped, so a
 * caller may free its buffer as soon as its command completed, successfully or not.
 */
public final class NvmeTcpQueue extends NvmeQueue {
    /** Linux {@code NVME_TCP_ADMIN_CCSZ}: fabrics and admin commands carry up to 8 KiB in the capsule. */
    static final int ADMIN_IN_CAPSULE_MAX = CapsuleCommand.ADMIN_IN_CAPSULE_MAX;
    private static final int ICRESP_TIMEOUT_MILLIS = 10_000;
    /** Staging buffer for received PDUs: at QD 32 it holds about 15 4-KiB C2HData PDUs per read(2). */
    static final int STAGING_SIZE = 64 << 10;
    /** Payload still on the wire from this size on is read straight into the command's buffer. */
    static final int DIRECT_READ_MIN = 16 << 10;
    /** The staging bytes a direct readv(2) may also fill: the next PDU headers, little of the next payload. */
    private static final int DIRECT_READ_TAIL = 4 << 10;
    /** Linux UIO_MAXIOV. */
    private static final int IOV_MAX = 1024;
    private static final VarHandle PENDING;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(NvmeTcpQueue.class, "pending", CommandSlot.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int qid;
    final int size;
    private final TcpSocket socket;
    private final Arena arena = Arena.ofShared();
    private final boolean headerDigest;
    private final boolean dataDigest;
    private final int digestLength;
    private final long maxH2CData;
    private volatile long inCapsuleMax = ADMIN_IN_CAPSULE_MAX;

    /** Capsules submitted and not yet taken by a sender: a stack linked through {@link CommandSlot#nextPending}. */
    @SuppressWarnings("unused") // via PENDING
    private volatile CommandSlot pending;

    // send side, guarded by sendLock
    private final ReentrantLock sendLock = new ReentrantLock();
    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final int iovMax;
    private final MemorySegment sendState;
    private final MemorySegment sendDataDigest;
    private final Crc32c sendCrc = new Crc32c();

    // receive side, reader thread only
    private final MemorySegment staging;
    /** Unparsed received bytes are staging[rxHead, rxTail). */
    private long rxHead;
    private long rxTail;
    private final MemorySegment rxIov;
    /** The header of the PDU being handled, copied out of staging so the PDU accessors read it at offset 0. */
    private final MemorySegment rx;
    private final ByteBuffer rxView;
    private final MemorySegment rxState;
    private final Crc32c rxCrc = new Crc32c();
    private final MemorySegment h2c;
    private final ByteBuffer h2cView;
    /** While the reader parses: its own submissions (from callbacks) wait for its flush before the next read. */
    private boolean deferSends;
    /** C2HData payload bytes copied out of staging (the rest went straight into command buffers). */
    private volatile long payloadBytesCopied;
    /** read(2)/readv(2) calls of the reader and sendmsg(2) calls for capsules (not H2CData), for tests. */
    private volatile long receiveCalls;
    private volatile long capsuleSendCalls;

    private final Thread reader;
    private final Object failLock = new Object();
    private volatile NvmeTransportException failure;
    private volatile boolean stopped;

    private NvmeTcpQueue(TcpSocket socket, int qid, int size, boolean headerDigest, boolean dataDigest, long maxH2CData) {
        super(size, "reader");
        this.socket = socket;
        this.qid = qid;
        this.size = size;
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.digestLength = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        this.maxH2CData = maxH2CData;
        for (int i = size - 1; i >= 0; i--) {
            slots[i] = new CommandSlot(i, arena);
            pushFree(slots[i]);
        }
        msghdr = arena.allocate(TcpSocket.MSGHDR_SIZE, 8);
        // header, in-capsule data and data digest per capsule; at least one H2CData PDU
        iovMax = Math.min(IOV_MAX, Math.max(4, 3 * size));
        iov = arena.allocate(TcpSocket.IOVEC_SIZE * iovMax, 8);
        sendState = arena.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
        sendDataDigest = arena.allocate(4, 4);
        staging = arena.allocate(STAGING_SIZE, 64);
        rxIov = arena.allocate(TcpSocket.IOVEC_SIZE * 2, 8);
        rx = arena.allocate(TermReq.MAX_PLEN + PduHeader.DIGEST_LENGTH, 8);
        rxView = rx.asByteBuffer();
        rxState = arena.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
        h2c = arena.allocate(H2CData.HLEN + PduHeader.DIGEST_LENGTH + 4, 8);
        h2cView = h2c.asByteBuffer();
        reader = Thread.ofPlatform().daemon().name("nvme-tcp-" + socket.peer() + "-q" + qid).unstarted(this::readLoop);
    }

    /**
     * Opens the TCP connection and exchanges ICReq/ICResp (NVMe/TCP 1.0 §3.6.2.2-3), checking the ICResp the way
     * the Linux host does. The fabrics Connect is the caller's next step.
     *
     * @param size queue entries = command slots (SQSIZE + 1)
     */
    public static NvmeTcpQueue open(InetSocketAddress address, int qid, int size, boolean headerDigest,
                                    boolean dataDigest, int timeoutMillis) throws IOException {
        if (size < 1 || size > CommandSlot.MAX_SLOTS) {
            throw new IllegalArgumentException("queue size " + size + " out of 1.." + CommandSlot.MAX_SLOTS);
        }
        TcpSocket socket = TcpSocket.connect(address, timeoutMillis);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
            MemorySegment req = a.allocate(ICReq.SIZE, 8);
            int dgst = (headerDigest ? ICReq.DIGEST_HEADER : 0) | (dataDigest ? ICReq.DIGEST_DATA : 0);
            PduHeader.set(req, PduHeader.TYPE_IC_REQ, 0, ICReq.HLEN, 0, ICReq.SIZE);
            ICReq.pfv(req, ICReq.PFV_1_0);
            ICReq.hpda(req, 0);
            ICReq.dgst(req, dgst);
            ICReq.maxr2t(req, 0);
            MemorySegment msg = a.allocate(TcpSocket.MSGHDR_SIZE, 8);
            MemorySegment v = a.allocate(TcpSocket.IOVEC_SIZE, 8);
            v.set(JAVA_LONG, 0, req.address());
            v.set(JAVA_LONG, 8, ICReq.SIZE);
            socket.sendmsg(msg, v, 1, st);

            MemorySegment resp = a.allocate(ICResp.SIZE, 8);
            socket.receiveTimeout(Math.min(timeoutMillis, ICRESP_TIMEOUT_MILLIS));
            socket.recvFully(resp.address(), PduHeader.SIZE, st);
            String peer = socket.peer();
            if (PduHeader.type(resp) != PduHeader.TYPE_IC_RESP || PduHeader.plen(resp) != ICResp.SIZE) {
                throw new NvmeTransportException(peer + ": expected an ICResp (type 1, PLEN 128), got type "
                        + PduHeader.type(resp) + " PLEN " + PduHeader.plen(resp));
            }
            socket.recvFully(resp.address() + PduHeader.SIZE, ICResp.SIZE - PduHeader.SIZE, st);
            socket.receiveTimeout(0);
            if (ICResp.pfv(resp) != ICReq.PFV_1_0) {
                throw new NvmeTransportException(peer + ": ICResp PFV " + ICResp.pfv(resp) + ", only 0 is supported");
            }
            if (ICResp.dgst(resp) != dgst) {
                throw new NvmeTransportException(peer + ": asked for digests 0x" + Integer.toHexString(dgst)
                        + " (bit 0 header, bit 1 data), the controller answered 0x" + Integer.toHexString(ICResp.dgst(resp)));
            }
            if (ICResp.cpda(resp) != 0) {
                throw new NvmeTransportException(peer + ": ICResp CPDA " + ICResp.cpda(resp) + ", only 0 is supported");
            }
            long maxh2c = ICResp.maxh2cdata(resp);
            if (maxh2c < ICResp.MIN_MAXH2CDATA || maxh2c % 4 != 0) {
                throw new NvmeTransportException(peer + ": ICResp MAXH2CDATA " + maxh2c + " is not a multiple of 4 >= 4096");
            }
            NvmeTcpQueue q = new NvmeTcpQueue(socket, qid, size, headerDigest, dataDigest, maxh2c);
            q.reader.start();
            return q;
        } catch (IOException | RuntimeException | Error e) {
            socket.close();
            throw e;
        }
    }

    @Override
    int qid() {
        return qid;
    }

    /** Largest write sent inside the capsule; larger ones wait for an R2T. I/O queues: IOCCSZ x 16 - 64. */
    void inCapsuleMax(long bytes) {
        inCapsuleMax = bytes;
    }

    long maxH2CData() {
        return maxH2CData;
    }

    boolean isFailed() {
        return failure != null;
    }

    NvmeTransportException failure() {
        return failure;
    }

    /** C2HData payload bytes this queue copied from its staging buffer rather than reading in place. */
    long payloadBytesCopied() {
        return payloadBytesCopied;
    }

    long receiveCalls() {
        return receiveCalls;
    }

    long capsuleSendCalls() {
        return capsuleSendCalls;
    }

    /** The reader thread, for tests that look at what it allocates. */
    Thread readerThread() {
        return reader;
    }

    @Override
    Thread completionThread() {
        return reader;
    }

    @Override
    void timedOut(CommandSlot slot, long timeoutMillis) {
        fail(new NvmeTransportException(slot.name + " (cid " + slot.cid + ") on queue " + qid + " of "
                + socket.peer() + ": no completion within " + timeoutMillis + " ms"));
        awaitReader();
    }

    @Override
    void send(CommandSlot slot) {
        MemorySegment capsule = slot.capsule;
        MemorySegment sqe = slot.sqe;
        long length = slot.dataLength;
        boolean inCapsule = slot.hostToController && length > 0
                && length <= (qid == 0 || isFabrics(sqe) ? Math.max(inCapsuleMax, ADMIN_IN_CAPSULE_MAX) : inCapsuleMax);
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
        if (deferSends && Thread.currentThread() == reader) {
            return; // sent with the others before the reader next blocks
        }
        flush();
    }

    /**
     * Sends every listed capsule unless another thread is sending, which then sends ours: a sender looks at the list
     * again after unlocking, and a submitter lists its capsule before trying the lock, so none is left behind.
     */
    private void flush() {
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
                complete(failed, CommandSlot.QUEUED, 0, 0, failure);
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
        while (fifo != null && failure == null) {
            CommandSlot slot = fifo;
            fifo = slot.nextPending;
            slot.nextPending = null;
            if (count + 3 > iovMax) {
                count = transmit(count, slot);
            }
            MemorySegment capsule = slot.capsule;
            if (headerDigest) {
                capsule.set(U32, CapsuleCommand.HLEN, sendCrc.digest(slot.capsuleView, 0, CapsuleCommand.HLEN));
            }
            iovec(count++, capsule.address(), CapsuleCommand.HLEN + digestLength);
            if (slot.inCapsule) {
                iovec(count++, slot.dataAddress, slot.dataLength);
                if (dataDigest) {
                    slot.dataDigest.set(U32, 0, dataCrc(sendCrc, slot.dataAddress, slot.dataLength));
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
            fail(new NvmeTransportException("queue " + qid + " of " + socket.peer() + ": sending "
                    + (next == null ? "capsules" : "capsules before " + next.name) + " failed: " + e.getMessage(), e));
        }
        return 0;
    }

    private static boolean isFabrics(MemorySegment sqe) {
        return SubmissionQueueEntry.opcode(sqe) == io.sanport.nvme.fabrics.FabricsCommand.OPCODE;
    }

    private void iovec(int i, long address, long length) {
        iov.set(JAVA_LONG, i * TcpSocket.IOVEC_SIZE, address);
        iov.set(JAVA_LONG, i * TcpSocket.IOVEC_SIZE + 8, length);
    }

    private static int dataCrc(Crc32c crc, long address, long length) {
        return crc.digest(MemorySegment.ofAddress(address).reinterpret(length), 0, length);
    }

    /**
     * Completes a command once: the reader on a CapsuleResp, the failing reader for everything in flight, or the
     * sender for capsules still listed when the queue failed. Callbacks get the slot back in the free list first, so they
     * may submit again.
     */
    private void complete(CommandSlot slot, int statusWord, long result, Throwable failed) {
        complete(slot, CommandSlot.IN_FLIGHT, statusWord, result, failed);
    }

    @Override
    void completing(CommandSlot slot) {
    }

    // ---- receive side: the reader thread ----

    private void readLoop() {
        Throwable cause;
        try {
            deferSends = true;
            while (true) {
                receivePdu();
            }
        } catch (Throwable t) {
            cause = t;
        }
        deferSends = false;
        NvmeTransportException failed;
        synchronized (failLock) {
            if (failure == null) {
                failure = cause instanceof NvmeTransportException nte ? nte
                        : new NvmeTransportException("connection of queue " + qid + " to " + socket.peer() + " lost: "
                        + cause.getMessage(), cause);
            }
            failed = failure;
        }
        socket.shutdown();
        // a sender still inside sendmsg reads its buffer: let it finish (it fails fast on the shut-down socket);
        // after it, nothing more turns IN_FLIGHT, and listed capsules are failed by whoever takes the list
        sendLock.lock();
        sendLock.unlock();
        flush();
        failInFlight(failed);
        stopped = true;
    }

    /**
     * Makes at least {@code n} unparsed bytes (a header, a digest; far less than the staging buffer) available in
     * staging, reading as often as it takes.
     */
    private void stage(int n) throws IOException {
        while (rxTail - rxHead < n) {
            fill();
        }
    }

    /**
     * One read(2) into the staging buffer of whatever the socket has. The reader's own submissions go out first:
     * it is about to block, and their completions are what it will wait for.
     */
    private void fill() throws IOException {
        flush();
        long unparsed = rxTail - rxHead;
        if (rxHead > 0) {
            // only a header cut by the last read is left (payload is consumed at once): a few bytes to move
            if (unparsed > 0) {
                MemorySegment.copy(staging, rxHead, staging, 0, unparsed);
            }
            rxHead = 0;
            rxTail = unparsed;
        }
        receiveCalls = receiveCalls + 1;
        rxTail += socket.read(staging.address() + rxTail, STAGING_SIZE - rxTail, rxState);
    }

    private void receivePdu() throws IOException {
        stage((int) PduHeader.SIZE);
        int type = Byte.toUnsignedInt(staging.get(U8, rxHead + PduHeader.OFFSET_TYPE));
        int flags = Byte.toUnsignedInt(staging.get(U8, rxHead + PduHeader.OFFSET_FLAGS));
        int hlen = Byte.toUnsignedInt(staging.get(U8, rxHead + PduHeader.OFFSET_HLEN));
        long plen = Integer.toUnsignedLong(staging.get(U32, rxHead + PduHeader.OFFSET_PLEN));
        if (type == PduHeader.TYPE_C2H_TERM_REQ) {
            if (hlen != TermReq.HLEN || plen < TermReq.HLEN || plen > TermReq.MAX_PLEN) {
                throw protocol("C2HTermReq with HLEN " + hlen + " PLEN " + plen);
            }
            takeHeader((int) plen);
            throw new NvmeTransportException("controller " + socket.peer() + " terminated queue " + qid + ": "
                    + termReason(TermReq.fes(rx)) + " (FES 0x" + Integer.toHexString(TermReq.fes(rx)) + ", FEI 0x"
                    + Integer.toHexString(TermReq.fei(rx)) + ")");
        }
        int expected = PduHeader.expectedHlen(type);
        if (type != PduHeader.TYPE_CAPSULE_RESP && type != PduHeader.TYPE_C2H_DATA && type != PduHeader.TYPE_R2T) {
            throw protocol("unexpected PDU type 0x" + Integer.toHexString(type));
        }
        if (hlen != expected) {
            throw protocol("PDU type 0x" + Integer.toHexString(type) + " with HLEN " + hlen + ", expected " + expected);
        }
        if ((flags & ~PduHeader.allowedFlags(type)) != 0) {
            throw protocol("PDU type 0x" + Integer.toHexString(type) + " with flags 0x" + Integer.toHexString(flags));
        }
        takeHeader(hlen + digestLength);
        if (headerDigest) {
            if ((flags & PduHeader.FLAG_HDGSTF) == 0) {
                throw protocol("header digest negotiated but HDGSTF clear on PDU type 0x" + Integer.toHexString(type));
            }
            int want = rxCrc.digest(rxView, 0, hlen);
            int got = rx.get(U32, hlen);
            if (want != got) {
                throw new NvmeTransportException("queue " + qid + " of " + socket.peer() + ": header digest error on PDU type 0x"
                        + Integer.toHexString(type) + " (received 0x" + Integer.toHexString(got) + ", computed 0x"
                        + Integer.toHexString(want) + ")");
            }
        }
        switch (type) {
            case PduHeader.TYPE_CAPSULE_RESP -> {
                if (plen != hlen + digestLength) {
                    throw protocol("CapsuleResp with PLEN " + plen);
                }
                int cid = Short.toUnsignedInt(rx.get(U16, CapsuleResponse.OFFSET_CQE + CompletionQueueEntry.OFFSET_CID));
                CommandSlot slot = inFlight(cid, "CapsuleResp");
                int status = Short.toUnsignedInt(rx.get(U16, CapsuleResponse.OFFSET_CQE + CompletionQueueEntry.OFFSET_STATUS))
                        & ~Status.PHASE;
                if (Status.isSuccess(status) && slot.dataStatus != 0) {
                    status = slot.dataStatus;
                }
                complete(slot, status, rx.get(U64, CapsuleResponse.OFFSET_CQE + CompletionQueueEntry.OFFSET_DW0), null);
            }
            case PduHeader.TYPE_C2H_DATA -> receiveData(flags, plen);
            case PduHeader.TYPE_R2T -> answerR2T();
            default -> throw protocol("unexpected PDU type 0x" + Integer.toHexString(type));
        }
    }

    /** Moves the next {@code length} bytes (a PDU header and its digest) from staging to {@link #rx}. */
    private void takeHeader(int length) throws IOException {
        stage(length);
        MemorySegment.copy(staging, rxHead, rx, 0, length);
        rxHead += length;
    }

    private void receiveData(int flags, long plen) throws IOException {
        int cid = C2HData.cccid(rx);
        CommandSlot slot = inFlight(cid, "C2HData");
        long offset = C2HData.datao(rx);
        long length = C2HData.datal(rx);
        int pdo = PduHeader.pdo(rx);
        boolean digest = (flags & PduHeader.FLAG_DDGSTF) != 0;
        if (dataDigest != digest) {
            throw protocol("C2HData DDGSTF " + digest + " but data digest " + (dataDigest ? "" : "not ") + "negotiated");
        }
        long headerEnd = C2HData.HLEN + digestLength;
        if (slot.hostToController || length == 0 || offset != slot.received || offset + length > slot.dataLength
                || pdo < headerEnd || plen != pdo + length + (digest ? PduHeader.DIGEST_LENGTH : 0)) {
            throw protocol("C2HData for cid " + cid + " (" + slot.name + ", " + slot.dataLength + " bytes, "
                    + slot.received + " received) with DATAO " + offset + " DATAL " + length + " PDO " + pdo + " PLEN " + plen);
        }
        if (pdo > headerEnd) {
            int pad = (int) (pdo - headerEnd); // < 256: PDO is one byte
            stage(pad);
            rxHead += pad;
        }
        receivePayload(slot, offset, length);
        slot.received += length;
        if (digest) {
            stage(PduHeader.DIGEST_LENGTH);
            int got = staging.get(U32, rxHead);
            rxHead += PduHeader.DIGEST_LENGTH;
            if (dataCrc(rxCrc, slot.dataAddress + offset, length) != got) {
                // like the Linux host: the command fails with Data Transfer Error, the connection lives on
                slot.dataStatus = Status.word(Status.DATA_XFER_ERROR, false);
            }
        }
        if ((flags & PduHeader.FLAG_SUCCESS) != 0) {
            if ((flags & PduHeader.FLAG_LAST_PDU) == 0) {
                throw protocol("C2HData with SUCCESS but not LAST_PDU");
            }
            complete(slot, slot.dataStatus, 0, null);
        }
    }

    /**
     * Puts {@code length} payload bytes at {@code offset} of the command's buffer: copied while they are in
     * staging, read in place once {@link #DIRECT_READ_MIN} or more are still to come.
     */
    private void receivePayload(CommandSlot slot, long offset, long length) throws IOException {
        while (length > 0) {
            long staged = rxTail - rxHead;
            if (staged == 0) {
                if (length >= DIRECT_READ_MIN) {
                    readDirect(slot.dataAddress + offset, length);
                    return;
                }
                fill();
                staged = rxTail - rxHead;
            }
            long n = Math.min(staged, length);
            MemorySegment.copy(staging, rxHead, slot.data, offset, n);
            rxHead += n;
            offset += n;
            length -= n;
            payloadBytesCopied = payloadBytesCopied + n;
        }
    }

    /**
     * Reads exactly {@code length} bytes to {@code address} (the staging buffer is empty), with the start of the
     * staging buffer as a second iovec so the readv(2) that completes the payload also brings the next header.
     */
    private void readDirect(long address, long length) throws IOException {
        flush();
        rxHead = 0;
        rxTail = 0;
        rxIov.set(JAVA_LONG, TcpSocket.IOVEC_SIZE, staging.address());
        rxIov.set(JAVA_LONG, TcpSocket.IOVEC_SIZE + 8, DIRECT_READ_TAIL);
        while (length > 0) {
            rxIov.set(JAVA_LONG, 0, address);
            rxIov.set(JAVA_LONG, 8, length);
            receiveCalls = receiveCalls + 1;
            long n = socket.readv(rxIov, 2, rxState);
            if (n > length) {
                rxTail = n - length;
                n = length;
            }
            address += n;
            length -= n;
        }
    }

    /** One R2T at a time per command (we announce MAXR2T 0): send [R2TO, R2TO+R2TL) in MAXH2CDATA pieces. */
    private void answerR2T() throws IOException {
        int cid = R2T.cccid(rx);
        CommandSlot slot = inFlight(cid, "R2T");
        long offset = R2T.r2to(rx);
        long length = R2T.r2tl(rx);
        int ttag = R2T.ttag(rx);
        if (!slot.hostToController || slot.inCapsule || length == 0 || offset + length > slot.dataLength) {
            throw protocol("R2T for cid " + cid + " (" + slot.name + ", " + slot.dataLength + " bytes"
                    + (slot.inCapsule ? " in capsule" : "") + ") with R2TO " + offset + " R2TL " + length);
        }
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
                H2CData.cccid(h2c, cid);
                H2CData.ttag(h2c, ttag);
                H2CData.datao(h2c, offset);
                H2CData.datal(h2c, chunk);
                h2c.set(U32, 20, 0);
                if (headerDigest) {
                    h2c.set(U32, H2CData.HLEN, sendCrc.digest(h2cView, 0, H2CData.HLEN));
                }
                iovec(0, h2c.address(), pdo);
                iovec(1, slot.dataAddress + offset, chunk);
                int count = 2;
                if (dataDigest) {
                    sendDataDigest.set(U32, 0, dataCrc(sendCrc, slot.dataAddress + offset, chunk));
                    iovec(count++, sendDataDigest.address(), PduHeader.DIGEST_LENGTH);
                }
                socket.sendmsg(msghdr, iov, count, sendState);
                offset += chunk;
            }
        } finally {
            sendLock.unlock();
        }
        flush(); // capsules listed while we held the lock
    }

    private CommandSlot inFlight(int cid, String pdu) throws NvmeTransportException {
        int index = cid & CommandSlot.INDEX_MASK;
        CommandSlot slot = index < slots.length ? slots[index] : null;
        if (slot == null || slot.cid != cid || slot.state() != CommandSlot.IN_FLIGHT) {
            throw protocol(pdu + " for cid " + cid + ", which is not in flight");
        }
        return slot;
    }

    private NvmeTransportException protocol(String what) {
        return new NvmeTransportException("queue " + qid + " of " + socket.peer() + ": protocol error: " + what);
    }

    private static String termReason(int fes) {
        return switch (fes) {
            case TermReq.FES_INVALID_HEADER_FIELD -> "invalid PDU header field";
            case TermReq.FES_PDU_SEQUENCE_ERROR -> "PDU sequence error";
            case TermReq.FES_HEADER_DIGEST_ERROR -> "header digest error";
            case TermReq.FES_DATA_OUT_OF_RANGE -> "data transfer out of range";
            case TermReq.FES_DATA_LIMIT_EXCEEDED -> "data transfer limit exceeded";
            case TermReq.FES_UNSUPPORTED_PARAMETER -> "unsupported parameter";
            default -> "unknown reason";
        };
    }

    // ---- teardown ----

    /** Ends the queue with {@code cause}; the reader fails everything in flight. Idempotent. */
    void fail(NvmeTransportException cause) {
        synchronized (failLock) {
            if (failure == null) {
                failure = cause;
            }
        }
        socket.shutdown();
    }

    private void awaitReader() {
        boolean interrupted = false;
        while (reader.isAlive()) {
            try {
                reader.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the connection (what the Linux host does to tear a queue down); commands in flight fail. */
    @Override
    public void close() {
        fail(new NvmeTransportException("queue " + qid + " of " + socket.peer() + " was closed by the host"));
        if (Thread.currentThread() != reader) {
            awaitReader();
        }
        socket.close();
        if (stopped) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "NvmeTcpQueue[" + socket.peer() + " qid " + qid + ", " + size + " entries]";
    }
}
