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
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static io.sanport.nvme.Wire.U32;

/**
 * One NVMe/TCP queue pair: a TCP connection with its ICReq/ICResp, N preallocated {@link CommandSlot}s for a queue
 * of N entries, and one reader thread.
 * <p>
 * Threads: any thread submits; the capsule (and in-capsule data) goes out under {@link #sendLock} with one
 * {@code sendmsg}. The reader thread alone receives: it completes commands (CapsuleResp, or C2HData with SUCCESS),
 * reads C2HData straight into the command's buffer and answers R2Ts with H2CData (also under the send lock).
 * Callbacks run on the reader thread.
 * <p>
 * Hot path: no allocation per command when digests are off. Slots, PDU headers, iovecs and the errno capture
 * segments are preallocated; the free-slot list is an array queue. With a data digest, CRC32C needs one
 * {@code ByteBuffer} view of the data per PDU (the JDK's CRC32C reads only arrays and buffers).
 * <p>
 * Failure: any transport or protocol error ends the queue: the socket is shut down, the reader fails every
 * command in flight with one {@link NvmeTransportException} and later submissions fail at once. The reader is the
 * only thread that writes into a command's buffer, and in-flight commands are failed only after it stopped, so a
 * caller may free its buffer as soon as its command completed, successfully or not.
 */
public final class NvmeTcpQueue implements AutoCloseable {
    /** Linux {@code NVME_TCP_ADMIN_CCSZ}: fabrics and admin commands carry up to 8 KiB in the capsule. */
    static final int ADMIN_IN_CAPSULE_MAX = CapsuleCommand.ADMIN_IN_CAPSULE_MAX;
    private static final int ICRESP_TIMEOUT_MILLIS = 10_000;

    final int qid;
    final int size;
    private final TcpSocket socket;
    private final Arena arena = Arena.ofShared();
    private final CommandSlot[] slots;
    private final ArrayBlockingQueue<CommandSlot> free;
    private final boolean headerDigest;
    private final boolean dataDigest;
    private final int digestLength;
    private final long maxH2CData;
    private volatile long inCapsuleMax = ADMIN_IN_CAPSULE_MAX;

    // send side, guarded by sendLock
    private final ReentrantLock sendLock = new ReentrantLock();
    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final MemorySegment sendState;
    private final MemorySegment sendDataDigest;
    private final Crc32c sendCrc = new Crc32c();

    // receive side, reader thread only
    private final MemorySegment rx;
    private final ByteBuffer rxView;
    private final MemorySegment rxState;
    private final Crc32c rxCrc = new Crc32c();
    private final MemorySegment h2c;
    private final ByteBuffer h2cView;
    private final MemorySegment scratch;

    private final Thread reader;
    private final Object failLock = new Object();
    private volatile NvmeTransportException failure;
    private volatile boolean stopped;

    private NvmeTcpQueue(TcpSocket socket, int qid, int size, boolean headerDigest, boolean dataDigest, long maxH2CData) {
        this.socket = socket;
        this.qid = qid;
        this.size = size;
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.digestLength = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        this.maxH2CData = maxH2CData;
        this.slots = new CommandSlot[size];
        this.free = new ArrayBlockingQueue<>(size);
        for (int i = 0; i < size; i++) {
            slots[i] = new CommandSlot(i, arena);
            free.add(slots[i]);
        }
        msghdr = arena.allocate(TcpSocket.MSGHDR_SIZE, 8);
        iov = arena.allocate(TcpSocket.IOVEC_SIZE * 4, 8);
        sendState = arena.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
        sendDataDigest = arena.allocate(4, 4);
        rx = arena.allocate(TermReq.MAX_PLEN + PduHeader.DIGEST_LENGTH, 8);
        rxView = rx.asByteBuffer();
        rxState = arena.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
        h2c = arena.allocate(H2CData.HLEN + PduHeader.DIGEST_LENGTH + 4, 8);
        h2cView = h2c.asByteBuffer();
        scratch = arena.allocate(256, 8);
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
            v.set(U64_NATIVE, 0, req.address());
            v.set(U64_NATIVE, 8, ICReq.SIZE);
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

    private static final java.lang.foreign.ValueLayout.OfLong U64_NATIVE = java.lang.foreign.ValueLayout.JAVA_LONG;

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

    /** A free slot, waiting for one if all N are in flight (commands are parked, never failed, for lack of a slot). */
    CommandSlot acquire(String name) throws IOException {
        CommandSlot slot;
        try {
            slot = free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a free command slot on queue " + qid);
        }
        slot.prepare(name);
        return slot;
    }

    /** A free slot or null (keep-alive: skip a beat rather than wait). */
    CommandSlot tryAcquire(String name) {
        CommandSlot slot = free.poll();
        if (slot != null) {
            slot.prepare(name);
        }
        return slot;
    }

    /** Returns a slot that was acquired but never submitted (the submitter failed to build its command). */
    void cancel(CommandSlot slot) {
        if (slot.state() == CommandSlot.PREPARED) {
            release(slot);
        }
    }

    private void release(CommandSlot slot) {
        slot.clear();
        slot.state(CommandSlot.FREE);
        free.add(slot);
    }

    /** Sends the command; it completes through {@code callback} on the reader thread, failures included. */
    void submit(CommandSlot slot, IoCallback callback) {
        slot.callback = callback;
        send(slot);
    }

    /**
     * Sends the command and waits for its completion.
     *
     * @return CQE DW1:DW0
     * @throws NvmeException          non-zero status
     * @throws NvmeTransportException the queue failed, or no completion within {@code timeoutMillis}, which
     *                                ends the queue as a Linux host's timeout does (error recovery)
     */
    long execute(CommandSlot slot, long timeoutMillis) throws IOException {
        if (Thread.currentThread() == reader) {
            throw new IllegalStateException("blocking command on the reader thread of queue " + qid + " would deadlock");
        }
        slot.waiter = Thread.currentThread();
        send(slot);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (slot.state() != CommandSlot.DONE) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail(new NvmeTransportException(slot.name + " (cid " + slot.cid + ") on queue " + qid + " of "
                        + socket.peer() + ": no completion within " + timeoutMillis + " ms"));
                awaitReader();
                deadline = Long.MAX_VALUE;
                continue;
            }
            LockSupport.parkNanos(this, left);
        }
        int status = slot.statusWord;
        long result = slot.result;
        Throwable failed = slot.failure;
        String name = slot.name;
        release(slot);
        if (failed != null) {
            throw new NvmeTransportException(failed.getMessage(), failed);
        }
        if (!Status.isSuccess(status)) {
            throw new NvmeException(name, status, (int) result);
        }
        return result;
    }

    private void send(CommandSlot slot) {
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
        slot.state(CommandSlot.IN_FLIGHT);
        sendLock.lock();
        try {
            NvmeTransportException failed = failure;
            if (failed != null) {
                complete(slot, 0, 0, failed);
                return;
            }
            if (headerDigest) {
                capsule.set(U32, CapsuleCommand.HLEN, sendCrc.digest(slot.capsuleView, 0, CapsuleCommand.HLEN));
            }
            iovec(0, capsule.address(), CapsuleCommand.HLEN + digestLength);
            int count = 1;
            if (inCapsule) {
                iovec(count++, slot.dataAddress, length);
                if (dataDigest) {
                    sendDataDigest.set(U32, 0, dataCrc(sendCrc, slot.dataAddress, length));
                    iovec(count++, sendDataDigest.address(), PduHeader.DIGEST_LENGTH);
                }
            }
            socket.sendmsg(msghdr, iov, count, sendState);
        } catch (IOException e) {
            fail(new NvmeTransportException("queue " + qid + " of " + socket.peer() + ": sending " + slot.name
                    + " failed: " + e.getMessage(), e));
        } finally {
            sendLock.unlock();
        }
    }

    private static boolean isFabrics(MemorySegment sqe) {
        return SubmissionQueueEntry.opcode(sqe) == io.sanport.nvme.fabrics.FabricsCommand.OPCODE;
    }

    private void iovec(int i, long address, long length) {
        iov.set(U64_NATIVE, i * TcpSocket.IOVEC_SIZE, address);
        iov.set(U64_NATIVE, i * TcpSocket.IOVEC_SIZE + 8, length);
    }

    private static int dataCrc(Crc32c crc, long address, long length) {
        return crc.digest(MemorySegment.ofAddress(address).reinterpret(length), 0, length);
    }

    /**
     * Completes a command once: the reader on a CapsuleResp, the failing reader for everything in flight, or the
     * submitter when the queue had already failed. Callbacks get the slot back in the free list first, so they
     * may submit again.
     */
    private void complete(CommandSlot slot, int statusWord, long result, Throwable failed) {
        if (!slot.transition(CommandSlot.IN_FLIGHT, CommandSlot.COMPLETING)) {
            return;
        }
        IoCallback callback = slot.callback;
        if (callback != null) {
            release(slot);
            try {
                callback.complete(statusWord, result, failed);
            } catch (Throwable t) {
                Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), t);
            }
        } else {
            Thread waiter = slot.waiter;
            slot.statusWord = statusWord;
            slot.result = result;
            slot.failure = failed;
            slot.state(CommandSlot.DONE);
            LockSupport.unpark(waiter);
        }
    }

    // ---- receive side: the reader thread ----

    private void readLoop() {
        Throwable cause;
        try {
            while (true) {
                receivePdu();
            }
        } catch (Throwable t) {
            cause = t;
        }
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
        // a sender still inside sendmsg reads its buffer: let it finish (it fails fast on the shut-down socket)
        sendLock.lock();
        sendLock.unlock();
        for (CommandSlot slot : slots) {
            if (slot.state() == CommandSlot.IN_FLIGHT) {
                complete(slot, 0, 0, failed);
            }
        }
        stopped = true;
    }

    private void receivePdu() throws IOException {
        socket.recvFully(rx.address(), PduHeader.SIZE, rxState);
        int type = PduHeader.type(rx);
        int flags = PduHeader.flags(rx);
        int hlen = PduHeader.hlen(rx);
        long plen = PduHeader.plen(rx);
        if (type == PduHeader.TYPE_C2H_TERM_REQ) {
            if (hlen != TermReq.HLEN || plen < TermReq.HLEN || plen > TermReq.MAX_PLEN) {
                throw protocol("C2HTermReq with HLEN " + hlen + " PLEN " + plen);
            }
            socket.recvFully(rx.address() + PduHeader.SIZE, plen - PduHeader.SIZE, rxState);
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
        socket.recvFully(rx.address() + PduHeader.SIZE, hlen - PduHeader.SIZE + digestLength, rxState);
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
                MemorySegment cqe = rx.asSlice(CapsuleResponse.OFFSET_CQE, CompletionQueueEntry.SIZE);
                int cid = CompletionQueueEntry.cid(cqe);
                CommandSlot slot = inFlight(cid, "CapsuleResp");
                int status = CompletionQueueEntry.status(cqe) & ~Status.PHASE;
                if (Status.isSuccess(status) && slot.dataStatus != 0) {
                    status = slot.dataStatus;
                }
                complete(slot, status, CompletionQueueEntry.result64(cqe), null);
            }
            case PduHeader.TYPE_C2H_DATA -> receiveData(flags, plen);
            case PduHeader.TYPE_R2T -> answerR2T();
            default -> throw protocol("unexpected PDU type 0x" + Integer.toHexString(type));
        }
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
        for (long pad = pdo - headerEnd; pad > 0; ) {
            long n = Math.min(pad, scratch.byteSize());
            socket.recvFully(scratch.address(), n, rxState);
            pad -= n;
        }
        long address = slot.dataAddress + offset;
        socket.recvFully(address, length, rxState);
        slot.received += length;
        if (digest) {
            socket.recvFully(scratch.address(), PduHeader.DIGEST_LENGTH, rxState);
            if (dataCrc(rxCrc, address, length) != scratch.get(U32, 0)) {
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
