package io.sanport.transport.tcp;

import static io.sanport.nvme.Wire.U32;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Iovec;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;
import io.sanport.iop.RingOperation;
import io.sanport.iop.SubmissionQueue;
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
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.QueuePair;
import io.sanport.hostdriver.Request;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;

/**
 * One NVMe/TCP connection = one queue pair (nvmet's {@code nvmet_tcp_queue}), driven by its reactor's ring.
 *
 * <p>Receive: one RECV at a time into a 64 KiB staging buffer takes whatever the socket holds (no
 * MSG_WAITALL), and every complete PDU in it is parsed before the next RECV, so a burst of pipelined capsules
 * costs one ring operation (SPDK's {@code nvme_tcp_read_data} into its receive buffer, nvmet's
 * {@code nvmet_tcp_try_recv} loop). The parser fills one expected part at a time from the staging buffer:
 * the 8-byte common header, the rest of the header (+ header digest) into {@link #rx}, then the data into the
 * request's registered pool buffer, then the data digest; a part split across RECVs is completed by the next
 * one. Data still on the wire when at least {@link #DIRECT_MIN} bytes of it are missing is received straight
 * into the pool buffer (MSG_WAITALL, exact length), so large writes are not copied. A malformed PDU gets a
 * C2HTermReq and ends this connection only.
 *
 * <p>Send: one gather write in flight at a time per connection (stream order); each job is a request's R2T,
 * or its C2HData header + pool buffer + digest + CapsuleResp, or a connection PDU (ICResp, C2HTermReq), and
 * the jobs queued while a write was in flight leave together in the next {@code writev}. Per-slot headers
 * and iovecs are preallocated: nothing is allocated per I/O.
 */
final class TcpConnection implements RemoteQueue {
    private static final System.Logger LOG = System.getLogger("sanport.tcp");

    private enum Rx {
        /** Waiting for the 128-byte ICReq. */
        IC_REQ,
        /** The 8-byte common header of the next PDU. */
        COMMON,
        /** The rest of the header and its digest. */
        HEADER,
        /** PDU data into a request buffer. */
        DATA,
        /** The 4-byte data digest after the data. */
        DATA_DIGEST,
        /** Discarding bytes of a command that failed before its data was read. */
        DRAIN,
        /** A capsule's data waits for its request to get a buffer; the staging buffer keeps what follows. */
        PAUSED,
        /** No more receiving: closing or terminated. */
        STOPPED
    }

    // per-slot transmit area: [0, 28) C2HData or R2T header + digest, [32, 36) data digest, [40, 68) CapsuleResp + digest
    private static final int TX_STRIDE = 128;
    private static final int TX_DATA_HDR = 0;
    private static final int TX_DDGST = 32;
    private static final int TX_RESP = 40;
    private static final int IOV_PER_JOB = 4;
    private static final long IOV_SIZE = Iovec.LAYOUT.byteSize();
    private static final int CONTROL = -1;
    private static final int KIND_R2T = 1;
    private static final int KIND_RESPONSE = 2;
    private static final int KIND_TERMINATE = 3;
    private static final int KIND_IC_RESP = 4;
    /** Receive buffer: a 4 KiB read's capsules for a whole queue depth of 128 fit in one RECV (128 x 72 B). */
    private static final int STAGE_SIZE = 64 * 1024;
    /** Data still on the wire from this size on goes straight into the request's buffer instead of staging. */
    static final int DIRECT_MIN = 16 * 1024;
    /** iovecs in one coalesced writev (IOV_MAX is 1024). */
    private static final int GATHER_MAX = 64;

    private final TcpTransport transport;
    private final Target target;
    private final Reactor reactor;
    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final QueuePair queue;
    private final BufferPool pool;
    private final ByteBuffer poolView;
    private final Crc32c crc = new Crc32c();
    private final MemorySegment rx = arena.allocate(256, 8);
    private final ByteBuffer rxView = rx.asByteBuffer();
    private final MemorySegment stage = arena.allocate(STAGE_SIZE, 64);
    private final MemorySegment gather = arena.allocate(GATHER_MAX * IOV_SIZE, 8);
    private final MemorySegment control = arena.allocate(TermReq.MAX_PLEN + 8, 8);
    private final MemorySegment controlIov = arena.allocate(IOV_SIZE, 8);
    private final RecvOp recvOp = new RecvOp();
    private final SendOp sendOp = new SendOp();
    private final String localAddress;
    private final TcpStats.Counters stats;
    // this connection's own counts, for the log line when it closes
    private long capsules;
    private long recvs;
    private long sends;

    private MemorySegment tx;
    private MemorySegment iov;
    // per-slot views into tx and iov, made once per install so the data path slices nothing
    private MemorySegment[] txHeader;
    private MemorySegment[] txDigest;
    private MemorySegment[] txResponse;
    private MemorySegment[] txCqe;
    private MemorySegment[] iovs;
    private int[] jobIovCount;
    private int[] jobKind;
    private long[] jobLeft;

    // send FIFO of job ids (a slot tag, or CONTROL), each slot has at most one job queued
    private int[] sendQueue;
    private int sendHead;
    private int sendSize;
    private int controlKind;
    private long controlLeft;
    private boolean sending;

    // receive state: the part expected next goes to rxTarget at rxOffset (null: dropped), rxWant bytes
    private Rx rxState = Rx.IC_REQ;
    private MemorySegment rxTarget;
    private long rxOffset;
    private int rxWant;
    private int rxGot;
    private int stageStart;         // staged bytes not parsed yet: [stageStart, stageEnd)
    private int stageEnd;
    private boolean rxDirect;       // the RECV posted goes straight into rxTarget
    private final Runnable resumeTask = this::resume; // parses on after a pause, once the core has returned
    private boolean receiving;
    private boolean inRecvHandler;
    private int pduType;
    private int pduFlags;
    private int pduHlen;
    private int pduPdo;
    private long pduPlen;
    private Request rxRequest;      // whose data is being received
    private long rxDataOffset;      // where in its buffer this PDU's data starts
    private int rxDataLength;       // this PDU's data length
    private long drainLeft;

    private boolean headerDigest;
    private boolean dataDigest;
    private boolean closing;
    private boolean freed;

    private TcpConnection(TcpTransport transport, Target target, Port port, Reactor reactor, int fd, String local) {
        this.transport = transport;
        this.target = target;
        this.reactor = reactor;
        this.fd = fd;
        this.localAddress = local;
        this.pool = reactor.buffers();
        this.poolView = pool.region().asByteBuffer();
        this.stats = TcpTransport.stats(target).counters(reactor);
        grow(1);
        this.queue = target.newQueue(port, reactor, this);
    }

    /** Runs on {@code reactor}: takes ownership of the accepted socket {@code fd}. */
    static void start(TcpTransport transport, Target target, Port port, Reactor reactor, int fd) {
        String local = "0.0.0.0";
        try (Arena a = Arena.ofConfined()) {
            Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1, "accepted connection");
            MemorySegment addr = a.allocate(SockaddrIn.LAYOUT);
            Libc.getsockname(fd, addr);
            byte[] b = SockaddrIn.sin_addr(addr);
            local = (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "setting up an accepted connection: " + e.getMessage());
        }
        TcpConnection c = new TcpConnection(transport, target, port, reactor, fd, local);
        c.expect(Rx.IC_REQ, c.rx, 0, ICReq.HLEN);
        c.armRecv();
    }

    private void grow(int entries) {
        MemorySegment newTx = arena.allocate((long) entries * TX_STRIDE, 8);
        MemorySegment newIov = arena.allocate(entries * IOV_PER_JOB * IOV_SIZE, 8);
        int[] count = new int[entries];
        int[] kind = new int[entries];
        long[] left = new long[entries];
        int[] fifo = new int[entries + 2];
        if (tx != null) {
            // slot 0 (the Connect) may be mid-send: keep its bytes and job, and the FIFO order
            MemorySegment.copy(tx, 0, newTx, 0, TX_STRIDE);
            count[0] = jobIovCount[0];
            kind[0] = jobKind[0];
            left[0] = jobLeft[0];
            rebase(newIov, newTx);
            for (int i = 0; i < sendSize; i++) {
                fifo[i] = sendQueue[(sendHead + i) % sendQueue.length];
            }
            sendHead = 0;
        }
        tx = newTx;
        iov = newIov;
        txHeader = new MemorySegment[entries];
        txDigest = new MemorySegment[entries];
        txResponse = new MemorySegment[entries];
        txCqe = new MemorySegment[entries];
        iovs = new MemorySegment[entries];
        for (int i = 0; i < entries; i++) {
            long base = (long) i * TX_STRIDE;
            txHeader[i] = tx.asSlice(base + TX_DATA_HDR, C2HData.SIZE + 4);
            txDigest[i] = tx.asSlice(base + TX_DDGST, 4);
            txResponse[i] = tx.asSlice(base + TX_RESP, CapsuleResponse.SIZE + 4);
            txCqe[i] = txResponse[i].asSlice(CapsuleResponse.OFFSET_CQE, CompletionQueueEntry.SIZE);
            iovs[i] = iov.asSlice(i * IOV_PER_JOB * IOV_SIZE, IOV_PER_JOB * IOV_SIZE);
        }
        jobIovCount = count;
        jobKind = kind;
        jobLeft = left;
        sendQueue = fifo;
    }

    /** Slot 0's iovecs point into the old tx area; re-point its header iovecs after a grow. */
    private void rebase(MemorySegment newIov, MemorySegment newTx) {
        MemorySegment.copy(iov, 0, newIov, 0, IOV_PER_JOB * IOV_SIZE);
        long oldBase = tx.address();
        for (int i = 0; i < IOV_PER_JOB; i++) {
            long at = i * IOV_SIZE;
            long base = newIov.get(ValueLayout.JAVA_LONG, at);
            if (base >= oldBase && base < oldBase + TX_STRIDE) {
                newIov.set(ValueLayout.JAVA_LONG, at, newTx.address() + (base - oldBase));
            }
        }
    }

    // ---------------------------------------------------------------- RemoteQueue

    @Override
    public void install(int entries) {
        grow(entries);
    }

    @Override
    public String localAddress() {
        return localAddress;
    }

    @Override
    public int mapData(Request r) {
        MemorySegment sqe = r.sqe();
        long at = SubmissionQueueEntry.OFFSET_DPTR;
        int id = SglDescriptor.identifier(sqe, at);
        long length = SglDescriptor.length(sqe, at);
        if (id == SglDescriptor.identifier(SglDescriptor.TYPE_DATA_BLOCK, SglDescriptor.SUBTYPE_OFFSET)) {
            if (SglDescriptor.address(sqe, at) != 0 || length > TcpTransport.maxInCapsule()) {
                return Status.SGL_INVALID_OFFSET;
            }
            if (length != r.inCapsuleLength()) {
                return Status.SGL_INVALID_DATA;
            }
        } else if (id == SglDescriptor.ID_TCP_TRANSPORT) {
            if (r.inCapsuleLength() != 0) {
                return Status.SGL_INVALID_DATA;
            }
        } else {
            return Status.SGL_INVALID_TYPE;
        }
        r.dataLength(length);
        return Status.SUCCESS;
    }

    @Override
    public void receiveData(Request r) {
        if (r.inCapsuleLength() > 0) {
            // the capsule's data follows its header: the parser moves it into the buffer
            boolean paused = rxState == Rx.PAUSED;
            rxRequest = r;
            rxDataOffset = 0;
            rxDataLength = r.inCapsuleLength();
            expect(Rx.DATA, r.buffer(), 0, rxDataLength);
            if (paused) {
                // its data and what follows may be staged already: parse on once the core returns (no NOP)
                queue.runSoon(resumeTask);
            }
            return;
        }
        // one R2T for all of it, as nvmet: the host answers with H2CData PDUs of up to MAXH2CDATA each
        r.transferred(0);
        int tag = r.tag();
        MemorySegment h = txHeader[tag];
        int hd = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        PduHeader.set(h, PduHeader.TYPE_R2T, headerDigest ? PduHeader.FLAG_HDGSTF : 0, R2T.HLEN, 0, R2T.HLEN + hd);
        R2T.cccid(h, r.cid());
        R2T.ttag(h, tag);
        R2T.r2to(h, 0);
        R2T.r2tl(h, r.dataLength());
        h.set(U32, 20, 0);
        if (headerDigest) {
            crc.put(h, 0, R2T.HLEN);
        }
        MemorySegment v = jobIov(tag);
        iovec(v, 0, h.address(), R2T.HLEN + hd);
        queueJob(tag, KIND_R2T, 1, R2T.HLEN + hd);
    }

    @Override
    public void sendResponse(Request r) {
        int tag = r.tag();
        int hd = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        MemorySegment resp = txResponse[tag];
        PduHeader.set(resp, PduHeader.TYPE_CAPSULE_RESP, headerDigest ? PduHeader.FLAG_HDGSTF : 0,
                CapsuleResponse.HLEN, 0, CapsuleResponse.HLEN + hd);
        r.fillCompletion(txCqe[tag]);
        if (headerDigest) {
            crc.put(resp, 0, CapsuleResponse.HLEN);
        }
        MemorySegment v = jobIov(tag);
        if (!r.sendsData()) {
            iovec(v, 0, resp.address(), CapsuleResponse.HLEN + hd);
            queueJob(tag, KIND_RESPONSE, 1, CapsuleResponse.HLEN + hd);
            return;
        }
        // nvmet and SPDK use SUCCESS (no CapsuleResp) only when the host disabled SQ flow control
        boolean success = queue.sqFlowDisabled() && r.dw0() == 0 && r.dw1() == 0;
        int dd = dataDigest ? PduHeader.DIGEST_LENGTH : 0;
        long length = r.dataLength();
        MemorySegment h = txHeader[tag];
        int flags = PduHeader.FLAG_LAST_PDU | (success ? PduHeader.FLAG_SUCCESS : 0)
                | (headerDigest ? PduHeader.FLAG_HDGSTF : 0) | (dataDigest ? PduHeader.FLAG_DDGSTF : 0);
        PduHeader.set(h, PduHeader.TYPE_C2H_DATA, flags, C2HData.HLEN, C2HData.HLEN + hd, C2HData.HLEN + hd + length + dd);
        C2HData.cccid(h, r.cid());
        C2HData.ttag(h, 0);
        C2HData.datao(h, 0);
        C2HData.datal(h, length);
        h.set(U32, 20, 0);
        if (headerDigest) {
            crc.put(h, 0, C2HData.HLEN);
        }
        int n = 0;
        iovec(v, n++, h.address(), C2HData.HLEN + hd);
        iovec(v, n++, r.buffer().address(), length);
        if (dataDigest) {
            MemorySegment d = txDigest[tag];
            d.set(U32, 0, crc.digest(poolView, (int) (r.buffer().address() - pool.region().address()), (int) length));
            iovec(v, n++, d.address(), 4);
        }
        long total = C2HData.HLEN + hd + length + dd;
        if (!success) {
            iovec(v, n++, resp.address(), CapsuleResponse.HLEN + hd);
            total += CapsuleResponse.HLEN + hd;
        }
        queueJob(tag, KIND_RESPONSE, n, total);
    }

    @Override
    public void disconnect() {
        try {
            if (reactor.inReactor()) {
                shutdown();
            } else {
                reactor.execute(this::shutdown);
            }
        } catch (RejectedExecutionException e) {
            // the reactor is closing: its close cancels what is left
        }
    }

    // ---------------------------------------------------------------- receive

    /** The next part of a PDU: {@code length} bytes to {@code target} at {@code offset} (null: discard them). */
    private void expect(Rx state, MemorySegment target, long offset, int length) {
        rxState = state;
        rxTarget = target;
        rxOffset = offset;
        rxWant = length;
        rxGot = 0;
    }

    /** Posts the receive the state asks for, unless one is in flight or the handler will post it. */
    private void armRecv() {
        if (receiving || inRecvHandler || closing || rxState == Rx.PAUSED || rxState == Rx.STOPPED) {
            return;
        }
        if (stageStart == stageEnd) {
            stageStart = 0;
            stageEnd = 0;
        } else if (stageStart > 0) {
            MemorySegment.copy(stage, stageStart, stage, 0, stageEnd - stageStart);
            stageEnd -= stageStart;
            stageStart = 0;
        }
        rxDirect = rxState == Rx.DATA && stageStart == stageEnd && rxWant - rxGot >= DIRECT_MIN;
        recvs++;
        stats.recvs++;
        if (rxDirect) {
            stats.directRecvs++;
        }
        receiving = true;
        reactor.submit(recvOp);
    }

    private final class RecvOp extends RingOperation {
        @Override
        protected boolean prep(SubmissionQueue sq, long userData) {
            if (rxDirect) {
                // the data's exact remainder, so nothing of the next PDU lands in the request's buffer
                return sq.prepRecv(fd, rxTarget.address() + rxOffset + rxGot, rxWant - rxGot, Libc.MSG_WAITALL,
                        userData);
            }
            return sq.prepRecv(fd, stage.address() + stageEnd, STAGE_SIZE - stageEnd, 0, userData);
        }

        @Override
        protected void complete(int res, int flags) {
            receiving = false;
            if (closing) {
                finishIfIdle();
                return;
            }
            if (res <= 0) {
                if (res < 0 && res != -Errno.ECANCELED) {
                    LOG.log(System.Logger.Level.DEBUG, () -> this + ": receive failed: " + Errno.describe(-res));
                }
                shutdown(); // 0: the host closed the connection
                return;
            } else if (rxDirect) {
                rxGot += res;
                stats.payloadBytesDirect += res;
            } else {
                stageEnd += res;
            }
            inRecvHandler = true;
            try {
                parse();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, TcpConnection.this + ": receive handler failed", e);
                shutdown();
            } finally {
                inRecvHandler = false;
            }
            armRecv();
        }
    }

    /** Parses what is staged after a pause ended (the request's buffer came), then receives on. */
    private void resume() {
        if (closing || inRecvHandler || receiving) {
            return; // closing; or a parse or receive of ours is under way and carries on from the new state
        }
        inRecvHandler = true;
        try {
            parse();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, this + ": receive handler failed", e);
            shutdown();
        } finally {
            inRecvHandler = false;
        }
        armRecv();
    }

    /**
     * Moves staged bytes into the part expected next and handles each part as it completes, until the staging
     * buffer is empty, a capsule waits for a buffer, or the connection stops.
     */
    private void parse() {
        while (!closing && rxState != Rx.PAUSED && rxState != Rx.STOPPED) {
            int n = Math.min(stageEnd - stageStart, rxWant - rxGot);
            if (n > 0) {
                if (rxTarget != null) {
                    MemorySegment.copy(stage, stageStart, rxTarget, rxOffset + rxGot, n);
                }
                if (rxState == Rx.DATA) {
                    stats.payloadBytesCopied += n;
                }
                stageStart += n;
                rxGot += n;
            }
            if (rxGot < rxWant) {
                return;
            }
            received();
        }
    }

    /** A full part of a PDU has arrived; decide what comes next. */
    private void received() {
        switch (rxState) {
            case IC_REQ -> icReq();
            case COMMON -> common();
            case HEADER -> header();
            case DATA -> data();
            case DATA_DIGEST -> dataDigestReceived();
            case DRAIN -> drain();
            case PAUSED, STOPPED -> { }
        }
    }

    private void icReq() {
        int hlen = PduHeader.hlen(rx);
        if (PduHeader.type(rx) != PduHeader.TYPE_IC_REQ) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_TYPE, ICReq.HLEN);
        } else if (hlen != ICReq.HLEN) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_HLEN, ICReq.HLEN);
        } else if (PduHeader.plen(rx) != ICReq.HLEN) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PLEN, ICReq.HLEN);
        } else if (ICReq.pfv(rx) != ICReq.PFV_1_0) {
            terminate(TermReq.FES_UNSUPPORTED_PARAMETER, (int) ICReq.OFFSET_PFV, ICReq.HLEN);
        } else if (ICReq.hpda(rx) != 0) {
            terminate(TermReq.FES_UNSUPPORTED_PARAMETER, (int) ICReq.OFFSET_HPDA, ICReq.HLEN);
        } else {
            int dgst = ICReq.dgst(rx) & (ICReq.DIGEST_HEADER | ICReq.DIGEST_DATA);
            headerDigest = (dgst & ICReq.DIGEST_HEADER) != 0;
            dataDigest = (dgst & ICReq.DIGEST_DATA) != 0;
            MemorySegment c = control.asSlice(0, ICResp.SIZE);
            c.fill((byte) 0);
            PduHeader.set(c, PduHeader.TYPE_IC_RESP, 0, ICResp.HLEN, 0, ICResp.HLEN);
            ICResp.pfv(c, ICReq.PFV_1_0);
            ICResp.cpda(c, 0);
            ICResp.dgst(c, dgst); // the Linux host requires exactly the digests it asked for
            ICResp.maxh2cdata(c, target.maxTransfer());
            queueControl(KIND_IC_RESP, ICResp.HLEN);
            expect(Rx.COMMON, rx, 0, (int) PduHeader.SIZE);
        }
    }

    /** The common header: type, flags, HLEN, PDO and PLEN are checked before the rest is read. */
    private void common() {
        pduType = PduHeader.type(rx);
        pduFlags = PduHeader.flags(rx);
        pduHlen = PduHeader.hlen(rx);
        pduPdo = PduHeader.pdo(rx);
        pduPlen = PduHeader.plen(rx);
        int hd = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        int dd = dataDigest ? PduHeader.DIGEST_LENGTH : 0;
        if (pduType == PduHeader.TYPE_H2C_TERM_REQ) {
            LOG.log(System.Logger.Level.INFO, () -> this + ": the host terminated the connection");
            shutdown();
            return;
        }
        if (pduType == PduHeader.TYPE_IC_REQ) {
            terminate(TermReq.FES_PDU_SEQUENCE_ERROR, (int) PduHeader.OFFSET_TYPE, 8);
            return;
        }
        if (pduType != PduHeader.TYPE_CAPSULE_CMD && pduType != PduHeader.TYPE_H2C_DATA) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_TYPE, 8);
            return;
        }
        if (pduHlen != PduHeader.expectedHlen(pduType)) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_HLEN, 8);
            return;
        }
        if ((pduFlags & ~PduHeader.allowedFlags(pduType)) != 0
                || ((pduFlags & PduHeader.FLAG_HDGSTF) != 0) != headerDigest) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_FLAGS, 8);
            return;
        }
        long headerEnd = pduHlen + hd;
        boolean hasData = pduPlen > headerEnd;
        if (pduPlen < headerEnd || (hasData && pduPlen - headerEnd - dd > (long) TcpTransport.maxInCapsule() + target.maxTransfer())) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PLEN, 8);
            return;
        }
        if (hasData && (pduPdo != headerEnd || pduPlen - headerEnd <= dd)) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, hasData && pduPdo != headerEnd
                    ? (int) PduHeader.OFFSET_PDO : (int) PduHeader.OFFSET_PLEN, 8);
            return;
        }
        if (hasData && ((pduFlags & PduHeader.FLAG_DDGSTF) != 0) != dataDigest) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_FLAGS, 8);
            return;
        }
        if (pduType == PduHeader.TYPE_H2C_DATA && !hasData) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PLEN, 8);
            return;
        }
        expect(Rx.HEADER, rx, PduHeader.SIZE, pduHlen - (int) PduHeader.SIZE + hd);
    }

    private void header() {
        int hd = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        int dd = dataDigest ? PduHeader.DIGEST_LENGTH : 0;
        if (headerDigest && crc.digest(rxView, 0, pduHlen) != rx.get(U32, pduHlen)) {
            terminate(TermReq.FES_HEADER_DIGEST_ERROR, 0, pduHlen + hd);
            return;
        }
        int dataLength = pduPlen > pduHlen + hd ? (int) (pduPlen - pduHlen - hd - dd) : 0;
        if (pduType == PduHeader.TYPE_CAPSULE_CMD) {
            capsule(dataLength);
        } else {
            h2cData(dataLength);
        }
    }

    private void capsule(int dataLength) {
        Request r = queue.acquire();
        if (r == null) {
            // more commands than SQSIZE + 1 outstanding: the host broke flow control
            terminate(TermReq.FES_PDU_SEQUENCE_ERROR, 0, pduHlen);
            return;
        }
        capsules++;
        stats.capsules++;
        MemorySegment.copy(rx, CapsuleCommand.OFFSET_SQE, r.sqe(), 0, SubmissionQueueEntry.SIZE);
        r.inCapsuleLength(dataLength);
        expect(Rx.COMMON, rx, 0, (int) PduHeader.SIZE);
        queue.start(r);
        if (dataLength == 0 || rxState == Rx.DATA) {
            return; // no data, or receiveData() aimed the receive at the request's buffer
        }
        if (r.state() == Request.State.NEED_BUFFER) {
            rxRequest = r;
            rxState = Rx.PAUSED; // receiveData() resumes once the pool gives it a buffer
            return;
        }
        // refused before its data moved: read the data (and its digest) off the wire and drop it
        drainLeft = dataLength + (dataDigest ? PduHeader.DIGEST_LENGTH : 0);
        drain();
    }

    private void drain() {
        if (drainLeft == 0) {
            expect(Rx.COMMON, rx, 0, (int) PduHeader.SIZE);
            return;
        }
        int n = (int) Math.min(drainLeft, Integer.MAX_VALUE);
        drainLeft -= n;
        expect(Rx.DRAIN, null, 0, n);
    }

    private void h2cData(int dataLength) {
        int ttag = H2CData.ttag(rx);
        if (ttag >= queue.capacity()) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) H2CData.OFFSET_TTAG, pduHlen);
            return;
        }
        Request r = queue.request(ttag);
        long datao = H2CData.datao(rx);
        long datal = H2CData.datal(rx);
        if (r.state() != Request.State.TRANSFERRING_FROM_HOST || r.inCapsuleLength() != 0
                || H2CData.cccid(rx) != r.cid()) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) H2CData.OFFSET_TTAG, pduHlen);
        } else if (datao != r.transferred()) {
            terminate(TermReq.FES_PDU_SEQUENCE_ERROR, (int) H2CData.OFFSET_DATAO, pduHlen);
        } else if (datal != dataLength) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) H2CData.OFFSET_DATAL, pduHlen);
        } else if (datal > target.maxTransfer()) {
            terminate(TermReq.FES_DATA_LIMIT_EXCEEDED, (int) H2CData.OFFSET_DATAL, pduHlen);
        } else if (datao + datal > r.dataLength()) {
            terminate(TermReq.FES_DATA_OUT_OF_RANGE, (int) H2CData.OFFSET_DATAL, pduHlen);
        } else {
            rxRequest = r;
            rxDataOffset = datao;
            rxDataLength = dataLength;
            expect(Rx.DATA, r.buffer(), datao, dataLength);
        }
    }

    private void data() {
        if (dataDigest) {
            expect(Rx.DATA_DIGEST, rx, 0, PduHeader.DIGEST_LENGTH);
            return;
        }
        dataDone(true);
    }

    private void dataDigestReceived() {
        Request r = rxRequest;
        int offset = (int) (r.buffer().address() + rxDataOffset - pool.region().address());
        dataDone(crc.digest(poolView, offset, rxDataLength) == rx.get(U32, 0));
    }

    private void dataDone(boolean intact) {
        Request r = rxRequest;
        rxRequest = null;
        expect(Rx.COMMON, rx, 0, (int) PduHeader.SIZE);
        if (!intact) {
            LOG.log(System.Logger.Level.WARNING, this + ": data digest error in " + r);
            queue.dataFailed(r, Status.DATA_XFER_ERROR);
            return;
        }
        r.transferred(rxDataOffset + rxDataLength);
        if (r.transferred() == r.dataLength()) {
            queue.dataReceived(r);
        }
    }

    // ---------------------------------------------------------------- send

    private MemorySegment jobIov(int tag) {
        return iovs[tag];
    }

    private static void iovec(MemorySegment v, int i, long address, long length) {
        v.set(ValueLayout.JAVA_LONG, i * IOV_SIZE, address);
        v.set(ValueLayout.JAVA_LONG, i * IOV_SIZE + 8, length);
    }

    private void queueJob(int tag, int kind, int iovCount, long bytes) {
        jobKind[tag] = kind;
        jobIovCount[tag] = iovCount;
        jobLeft[tag] = bytes;
        enqueue(tag);
    }

    private void queueControl(int kind, long bytes) {
        controlKind = kind;
        controlLeft = bytes;
        iovec(controlIov, 0, control.address(), bytes);
        enqueue(CONTROL);
    }

    private void enqueue(int job) {
        sendQueue[(sendHead + sendSize) % sendQueue.length] = job;
        sendSize++;
        armSend();
    }

    private void armSend() {
        if (sending || sendSize == 0 || freed) {
            return;
        }
        if (closing && (sendQueue[sendHead] != CONTROL || controlKind != KIND_TERMINATE)) {
            return;
        }
        sending = true;
        sends++;
        stats.sends++;
        reactor.submitDeferred(sendOp); // prepared at the end of the loop: every response of this round goes in it
    }

    private final class SendOp extends RingOperation {
        /** Gathers the unsent iovecs of the queued jobs, in order, into one writev; a TermReq ends the batch. */
        @Override
        protected boolean prep(SubmissionQueue sq, long userData) {
            int n = 0;
            for (int i = 0; i < sendSize; i++) {
                int job = sendQueue[(sendHead + i) % sendQueue.length];
                MemorySegment v = job == CONTROL ? controlIov : jobIov(job);
                int count = job == CONTROL ? 1 : jobIovCount[job];
                if (n + count > GATHER_MAX) {
                    break;
                }
                for (int k = 0; k < count; k++) {
                    long len = v.get(ValueLayout.JAVA_LONG, k * IOV_SIZE + 8);
                    if (len > 0) {
                        iovec(gather, n++, v.get(ValueLayout.JAVA_LONG, k * IOV_SIZE), len);
                    }
                }
                if (job == CONTROL && controlKind == KIND_TERMINATE) {
                    break; // nothing follows a C2HTermReq
                }
            }
            return sq.prepWritev(fd, gather.address(), n, userData);
        }

        @Override
        protected void complete(int res, int flags) {
            if (res < 0) {
                sending = false;
                if (res != -Errno.ECANCELED && !closing) {
                    LOG.log(System.Logger.Level.DEBUG, () -> this + ": send failed: " + Errno.describe(-res));
                }
                sendSize = 0;
                shutdown();
                finishIfIdle();
                return;
            }
            // still "sending" while the sent jobs are retired: a release that queues a new job must not gather
            // the jobs not retired yet a second time
            long n = res;
            while (sendSize > 0) {
                int job = sendQueue[sendHead];
                long take = Math.min(n, job == CONTROL ? controlLeft : jobLeft[job]);
                n -= take;
                if (!advance(job, take)) {
                    break; // a short write: the rest goes in the next writev
                }
                sendHead = (sendHead + 1) % sendQueue.length;
                sendSize--;
                if (job == CONTROL && controlKind == KIND_TERMINATE) {
                    sending = false; // the last of the batch: now the shutdown may go ahead
                }
                sent(job);
                if (n == 0 || freed || !sending) {
                    break;
                }
            }
            sending = false;
            armSend();
            if (closing) {
                finishIfIdle();
            }
        }
    }

    /** Consumes {@code n} sent bytes from the job's iovecs; true when the job is done. */
    private boolean advance(int job, long n) {
        MemorySegment v = job == CONTROL ? controlIov : jobIov(job);
        int count = job == CONTROL ? 1 : jobIovCount[job];
        long left = (job == CONTROL ? controlLeft : jobLeft[job]) - n;
        if (job == CONTROL) controlLeft = left; else jobLeft[job] = left;
        for (int i = 0; i < count && n > 0; i++) {
            long len = v.get(ValueLayout.JAVA_LONG, i * IOV_SIZE + 8);
            long take = Math.min(len, n);
            v.set(ValueLayout.JAVA_LONG, i * IOV_SIZE, v.get(ValueLayout.JAVA_LONG, i * IOV_SIZE) + take);
            v.set(ValueLayout.JAVA_LONG, i * IOV_SIZE + 8, len - take);
            n -= take;
        }
        return left <= 0;
    }

    private void sent(int job) {
        if (job == CONTROL) {
            if (controlKind == KIND_TERMINATE) {
                shutdown();
            }
            return;
        }
        if (jobKind[job] == KIND_RESPONSE) {
            queue.release(queue.request(job));
        }
        // an R2T: the host now sends H2CData
    }

    // ---------------------------------------------------------------- teardown

    /**
     * Sends a C2HTermReq carrying the offending header, then closes this connection; no more PDUs are read
     * (NVMe/TCP 1.0 §3.6.2.9).
     */
    private void terminate(int fes, int fei, int headerBytes) {
        LOG.log(System.Logger.Level.WARNING, this + ": malformed PDU (type " + pduType + ", FES " + fes + ", FEI "
                + fei + "), terminating the connection");
        rxState = Rx.STOPPED;
        int plen = TermReq.build(control, PduHeader.TYPE_C2H_TERM_REQ, fes, fei, rx.asSlice(0, Math.min(headerBytes, 128)));
        queueControl(KIND_TERMINATE, plen);
        closingAfterTermination = true;
    }

    private boolean closingAfterTermination;

    /** Stops the socket (a posted receive or send completes at once), then frees when the ring is done with us. */
    private void shutdown() {
        if (closing) {
            return;
        }
        if (closingAfterTermination && sending) {
            return; // the TermReq is on its way; its completion shuts down
        }
        closing = true;
        rxState = Rx.STOPPED;
        try {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
        } catch (ErrnoException e) {
            // already disconnected
        }
        finishIfIdle();
    }

    private void finishIfIdle() {
        if (!closing || receiving || sending || freed) {
            return;
        }
        freed = true;
        sendSize = 0;
        queue.close(this::free);
    }

    private void free() {
        LOG.log(System.Logger.Level.DEBUG, () -> this + ": closed after " + capsules + " capsules, " + recvs
                + " RECVs, " + sends + " writevs");
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, this + ": " + e.getMessage());
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "nvme-tcp " + queue + " fd " + fd;
    }
}
