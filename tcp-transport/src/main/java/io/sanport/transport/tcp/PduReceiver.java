package io.sanport.transport.tcp;

import static io.sanport.nvme.Wire.U32;

import io.sanport.bindings.Errno;
import io.sanport.bindings.libc.Libc;
import io.sanport.hostdriver.Request;
import io.sanport.hostdriver.RateLimitedLog;
import io.sanport.iop.Reactor;
import io.sanport.iop.RingOperation;
import io.sanport.iop.SubmissionQueue;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.H2CData;
import io.sanport.nvme.tcp.ICReq;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.TermReq;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A connection's receive side: the PDU parser (nvmet's {@code nvmet_tcp_try_recv_pdu} / {@code _data} /
 * {@code _ddgst}). One RECV at a time into a 64 KiB staging buffer takes whatever the socket holds (no
 * MSG_WAITALL), and every complete PDU in it is parsed before the next RECV, so a burst of pipelined capsules
 * costs one ring operation (SPDK's {@code nvme_tcp_read_data} into its receive buffer). The parser fills one
 * expected part at a time from the staging buffer: the 8-byte common header, the rest of the header (+ header
 * digest), then the data into the command's registered pool buffer, then the data digest; a part split across
 * RECVs is completed by the next one. Data still on the wire when at least {@link #DIRECT_MIN} bytes of it are
 * missing is received straight into the pool buffer (MSG_WAITALL, exact length), so large writes are not copied.
 * A malformed PDU ends the connection with a C2HTermReq ({@link TcpConnection#terminate}).
 */
final class PduReceiver extends RingOperation {
    private static final System.Logger LOG = System.getLogger("sanport.tcp");
    /** A host chooses its digests: one warning per second for the target, the rest counted. */
    private static final RateLimitedLog DIGEST_ERRORS = new RateLimitedLog(LOG, 1000);

    private enum Rx {
        /** Waiting for the 128-byte ICReq. */
        IC_REQ,
        /** The 8-byte common header of the next PDU. */
        COMMON,
        /** The rest of the header and its digest. */
        HEADER,
        /** PDU data into a command's buffer. */
        DATA,
        /** The 4-byte data digest after the data. */
        DATA_DIGEST,
        /** Discarding the data of a command refused before its data was read. */
        DRAIN,
        /** A capsule's data waits for its command to get a buffer; the staging buffer keeps what follows. */
        PAUSED,
        /** No more receiving: closing or terminated. */
        STOPPED
    }

    /** Receive buffer: a 4 KiB read's capsules for a whole queue depth of 128 fit in one RECV (128 x 72 B). */
    static final int STAGE_SIZE = 64 * 1024;
    /**
     * Until its queue is sized at Connect a connection receives through a small buffer (ICReq, Connect: the
     * parser handles any PDU through any buffer size): an idle or half-open socket costs a page, not 64 KiB.
     */
    static final int SMALL_STAGE_SIZE = 4 * 1024;
    /** Data still on the wire from this size on goes straight into the command's buffer instead of staging. */
    static final int DIRECT_MIN = 16 * 1024;

    private final TcpConnection connection;
    private final Reactor reactor;
    private final int fd;
    private final TcpStats.Counters stats;
    private final MemorySegment pdu;        // the header of the PDU being parsed (+ digest), or a data digest
    private final ByteBuffer pduView;
    private final Arena arena;
    private MemorySegment stage;    // SMALL_STAGE_SIZE, then STAGE_SIZE once the queue is sized
    private boolean growStage;
    private final Runnable resumeTask = this::resume; // parses on after a pause, once the core has returned

    // the part expected next goes to target at offset (null: dropped), want bytes
    private Rx state = Rx.IC_REQ;
    private MemorySegment target;
    private long offset;
    private int want;
    private int got;
    private int stageStart;         // staged bytes not parsed yet: [stageStart, stageEnd)
    private int stageEnd;
    private boolean direct;         // the RECV posted goes straight into target
    private boolean receiving;
    private boolean inHandler;

    // the PDU being parsed
    private int type;
    private int hlen;
    private long plen;
    private TcpCommand command;     // whose data is being received
    private long dataOffset;        // where in its buffer this PDU's data starts
    private int dataLength;         // this PDU's data length
    private long drainLeft;

    // this connection's own counts, for its closing log line
    private long capsules;
    private long recvs;

    PduReceiver(TcpConnection connection, Reactor reactor, int fd, TcpStats.Counters stats, Arena arena) {
        super(true); // one of the connection's own slots: an idle host's receive never holds one I/O needs
        this.connection = connection;
        this.reactor = reactor;
        this.fd = fd;
        this.stats = stats;
        this.pdu = arena.allocate(256, 8);
        this.pduView = pdu.asByteBuffer();
        this.arena = arena;
        this.stage = arena.allocate(SMALL_STAGE_SIZE, 64);
    }

    /** Posts the first RECV: the ICReq. */
    void start() {
        expect(Rx.IC_REQ, pdu, 0, ICReq.HLEN);
        arm();
    }

    /** The queue is sized (Connect): the next RECV goes to a full-size staging buffer. */
    void growStage() {
        growStage = stage.byteSize() < STAGE_SIZE;
    }

    int stageSize() { return (int) stage.byteSize(); }

    /** Reads no more PDUs (the connection is terminating or closing). */
    void stop() {
        state = Rx.STOPPED;
    }

    /** A RECV is in flight: the connection may not be freed yet. */
    boolean receiving() { return receiving; }

    long capsules() { return capsules; }
    long recvs() { return recvs; }

    /** The type of the PDU being parsed, for the log. */
    int pduType() { return type; }

    /** The first {@code bytes} of the header being parsed, the offending PDU header a C2HTermReq carries. */
    MemorySegment header(int bytes) {
        return pdu.asSlice(0, Math.min(bytes, 128));
    }

    /**
     * The core gave {@code c} its buffer: its in-capsule data is next in the stream. Called from inside
     * {@code start} (the parser carries on into the buffer), or later, when the capsule paused the parser for
     * a buffer: the staged bytes are then parsed on once the core returns, with no ring round trip.
     */
    void inCapsuleData(TcpCommand c) {
        boolean paused = state == Rx.PAUSED;
        command = c;
        dataOffset = 0;
        dataLength = c.request.inCapsuleLength();
        expect(Rx.DATA, c.request.buffer(), 0, dataLength);
        if (paused) {
            connection.queue().runSoon(resumeTask);
        }
    }

    /** The next part of a PDU: {@code length} bytes to {@code to} at {@code at} (null: discard them). */
    private void expect(Rx next, MemorySegment to, long at, int length) {
        state = next;
        target = to;
        offset = at;
        want = length;
        got = 0;
    }

    private void expectHeader() {
        expect(Rx.COMMON, pdu, 0, (int) PduHeader.SIZE);
    }

    /** Posts the receive the state asks for, unless one is in flight or the handler will post it. */
    private void arm() {
        if (receiving || inHandler || connection.closing() || state == Rx.PAUSED || state == Rx.STOPPED) {
            return;
        }
        if (growStage) {
            // no RECV is in flight here: what is staged and not parsed yet moves to the start of the new buffer
            growStage = false;
            MemorySegment grown = arena.allocate(STAGE_SIZE, 64);
            MemorySegment.copy(stage, stageStart, grown, 0, stageEnd - stageStart);
            stageEnd -= stageStart;
            stageStart = 0;
            stage = grown;
        } else if (stageStart == stageEnd) {
            stageStart = 0;
            stageEnd = 0;
        } else if (stageStart > 0) {
            MemorySegment.copy(stage, stageStart, stage, 0, stageEnd - stageStart);
            stageEnd -= stageStart;
            stageStart = 0;
        }
        direct = state == Rx.DATA && stageStart == stageEnd && want - got >= DIRECT_MIN;
        recvs++;
        stats.recvs++;
        if (direct) {
            stats.directRecvs++;
        }
        receiving = true;
        reactor.submit(this);
    }

    @Override
    protected boolean prep(SubmissionQueue sq, long userData) {
        if (direct) {
            // the data's exact remainder, so nothing of the next PDU lands in the command's buffer
            return sq.prepRecv(fd, target.address() + offset + got, want - got, Libc.MSG_WAITALL, userData);
        }
        return sq.prepRecv(fd, stage.address() + stageEnd, (int) stage.byteSize() - stageEnd, 0, userData);
    }

    @Override
    protected void complete(int res, int flags) {
        receiving = false;
        try {
            TcpConnection.FaultHook hook = TcpConnection.faultHook;
            if (hook != null) {
                hook.on("receive", connection.peerPort());
            }
            received(res);
        } catch (RuntimeException | AssertionError e) {
            connection.failed("receive", e); // this connection ends; the reactor runs on
        }
    }

    private void received(int res) {
        if (connection.closing()) {
            connection.finishIfIdle();
            return;
        }
        if (res <= 0) {
            if (res == -Errno.EIO) {
                // only the kernel's TLS fails a TCP receive so: the peer sent a record that is not application
                // data; Linux 6.12's kTLS has no KeyUpdate, so (as in Linux's nvme-tcp) the connection ends
                LOG.log(System.Logger.Level.INFO, () -> connection + ": receive failed: " + Errno.describe(Errno.EIO)
                        + ": under kTLS a TLS alert, close_notify or KeyUpdate ends the connection");
            } else if (res < 0 && res != -Errno.ECANCELED) {
                LOG.log(System.Logger.Level.DEBUG, () -> connection + ": receive failed: " + Errno.describe(-res));
            }
            connection.shutdown(); // 0: the host closed the connection
            return;
        } else if (direct) {
            got += res;
            stats.payloadBytesDirect += res;
        } else {
            stageEnd += res;
        }
        handle();
    }

    /** Parses what is staged after a pause ended (the command's buffer came), then receives on. */
    private void resume() {
        if (connection.closing() || inHandler || receiving) {
            return; // closing; or a parse or receive of ours is under way and carries on from the new state
        }
        try {
            handle();
        } catch (RuntimeException | AssertionError e) {
            connection.failed("receive", e);
        }
    }

    private void handle() {
        inHandler = true;
        try {
            parse();
        } catch (RuntimeException | AssertionError e) {
            connection.failed("receive", e);
        } finally {
            inHandler = false;
        }
        arm();
    }

    /**
     * Moves staged bytes into the part expected next and handles each part as it completes, until the staging
     * buffer is empty, a capsule waits for a buffer, or the connection stops.
     */
    private void parse() {
        while (!connection.closing() && state != Rx.PAUSED && state != Rx.STOPPED) {
            int n = Math.min(stageEnd - stageStart, want - got);
            if (n > 0) {
                if (target != null) {
                    MemorySegment.copy(stage, stageStart, target, offset + got, n);
                }
                if (state == Rx.DATA) {
                    stats.payloadBytesCopied += n;
                }
                stageStart += n;
                got += n;
            }
            if (got < want) {
                return;
            }
            received();
        }
    }

    /** A full part of a PDU has arrived; decide what comes next. */
    private void received() {
        switch (state) {
            case IC_REQ -> {
                if (connection.initialize(pdu)) {
                    expectHeader();
                }
            }
            case COMMON -> common();
            case HEADER -> header();
            case DATA -> data();
            case DATA_DIGEST -> dataDone(connection.digest(command.request.buffer(), dataOffset, dataLength)
                    == pdu.get(U32, 0));
            case DRAIN -> drain();
            case PAUSED, STOPPED -> { }
        }
    }

    private void reject(int fes, int fei, int headerBytes) {
        connection.terminate(fes, fei, headerBytes);
    }

    /** The common header: type, flags, HLEN, PDO and PLEN are checked before the rest is read. */
    private void common() {
        type = PduHeader.type(pdu);
        int flags = PduHeader.flags(pdu);
        hlen = PduHeader.hlen(pdu);
        int pdo = PduHeader.pdo(pdu);
        plen = PduHeader.plen(pdu);
        boolean headerDigest = connection.headerDigest();
        boolean dataDigest = connection.dataDigest();
        int hd = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        int dd = dataDigest ? PduHeader.DIGEST_LENGTH : 0;
        if (type == PduHeader.TYPE_H2C_TERM_REQ) {
            LOG.log(System.Logger.Level.INFO, () -> connection + ": the host terminated the connection");
            connection.shutdown();
            return;
        }
        if (type == PduHeader.TYPE_IC_REQ) {
            reject(TermReq.FES_PDU_SEQUENCE_ERROR, (int) PduHeader.OFFSET_TYPE, 8);
            return;
        }
        if (type != PduHeader.TYPE_CAPSULE_CMD && type != PduHeader.TYPE_H2C_DATA) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_TYPE, 8);
            return;
        }
        if (hlen != PduHeader.expectedHlen(type)) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_HLEN, 8);
            return;
        }
        if ((flags & ~PduHeader.allowedFlags(type)) != 0 || ((flags & PduHeader.FLAG_HDGSTF) != 0) != headerDigest) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_FLAGS, 8);
            return;
        }
        // PLEN is a u32 read into a long, HLEN and PDO are u8: no sum below can wrap; each length is compared
        // with what is left after the offset it starts at
        long headerEnd = hlen + hd;
        boolean hasData = plen > headerEnd;
        if (plen < headerEnd || (hasData && plen - headerEnd > connection.maxDataPerPdu() + dd)) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PLEN, 8);
            return;
        }
        if (hasData && (pdo != headerEnd || plen - headerEnd <= dd)) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, pdo != headerEnd
                    ? (int) PduHeader.OFFSET_PDO : (int) PduHeader.OFFSET_PLEN, 8);
            return;
        }
        if (!hasData && pdo > plen) {
            // no data, yet its offset points past the PDU: the host's framing is broken (strict, as SPDK)
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PDO, 8);
            return;
        }
        if (hasData && ((flags & PduHeader.FLAG_DDGSTF) != 0) != dataDigest) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_FLAGS, 8);
            return;
        }
        if (type == PduHeader.TYPE_H2C_DATA && !hasData) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PLEN, 8);
            return;
        }
        expect(Rx.HEADER, pdu, PduHeader.SIZE, hlen - (int) PduHeader.SIZE + hd);
    }

    private void header() {
        int hd = connection.headerDigest() ? PduHeader.DIGEST_LENGTH : 0;
        int dd = connection.dataDigest() ? PduHeader.DIGEST_LENGTH : 0;
        if (hd != 0 && connection.crc().digest(pduView, 0, hlen) != pdu.get(U32, hlen)) {
            reject(TermReq.FES_HEADER_DIGEST_ERROR, 0, hlen + hd);
            return;
        }
        int length = plen > hlen + hd ? (int) (plen - hlen - hd - dd) : 0;
        if (type == PduHeader.TYPE_CAPSULE_CMD) {
            capsule(length);
        } else {
            h2cData(length);
        }
    }

    /** A CapsuleCmd: its command goes to the core, which decides where its in-capsule data goes. */
    private void capsule(int length) {
        Request r = connection.queue().acquire();
        if (r == null) {
            // more commands than SQSIZE + 1 outstanding: the host broke flow control
            reject(TermReq.FES_PDU_SEQUENCE_ERROR, 0, hlen);
            return;
        }
        capsules++;
        stats.capsules++;
        TcpCommand c = connection.command(r.tag());
        MemorySegment.copy(pdu, CapsuleCommand.OFFSET_SQE, r.sqe(), 0, SubmissionQueueEntry.SIZE);
        c.capsule(length);
        expectHeader();
        connection.queue().start(r);
        if (length == 0) {
            return;
        }
        switch (c.state()) {
            case RECV_IN_CAPSULE -> { } // receiveData() aimed the parser at the command's buffer
            case WITH_CORE -> {
                command = c;
                state = Rx.PAUSED; // it waits for a buffer: receiveData() resumes the parser
            }
            case FREE, RECV_H2C, SEND_RESPONSE -> {
                // refused before its data moved: read the data (and its digest) off the wire and drop it
                drainLeft = length + (connection.dataDigest() ? PduHeader.DIGEST_LENGTH : 0);
                drain();
            }
        }
    }

    private void drain() {
        if (drainLeft == 0) {
            expectHeader();
            return;
        }
        int n = (int) Math.min(drainLeft, Integer.MAX_VALUE);
        drainLeft -= n;
        expect(Rx.DRAIN, null, 0, n);
    }

    /** An H2CData PDU answering an R2T: checked against its command, then received into its buffer. */
    private void h2cData(int length) {
        int ttag = H2CData.ttag(pdu);
        if (ttag >= connection.commands()) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) H2CData.OFFSET_TTAG, hlen);
            return;
        }
        TcpCommand c = connection.command(ttag);
        long datao = H2CData.datao(pdu);
        long datal = H2CData.datal(pdu);
        if (!c.expectsH2CData(H2CData.cccid(pdu))) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) H2CData.OFFSET_TTAG, hlen);
        } else if (datao != c.received()) {
            reject(TermReq.FES_PDU_SEQUENCE_ERROR, (int) H2CData.OFFSET_DATAO, hlen);
        } else if (datal != length) {
            reject(TermReq.FES_INVALID_HEADER_FIELD, (int) H2CData.OFFSET_DATAL, hlen);
        } else if (datal > connection.maxTransfer()) {
            reject(TermReq.FES_DATA_LIMIT_EXCEEDED, (int) H2CData.OFFSET_DATAL, hlen);
        } else if (datal > c.request.dataLength() - datao) { // datao == received <= dataLength: no wrap
            reject(TermReq.FES_DATA_OUT_OF_RANGE, (int) H2CData.OFFSET_DATAL, hlen);
        } else {
            c.dataComing();
            command = c;
            dataOffset = datao;
            dataLength = length;
            expect(Rx.DATA, c.request.buffer(), datao, length);
        }
    }

    private void data() {
        if (connection.dataDigest()) {
            expect(Rx.DATA_DIGEST, pdu, 0, PduHeader.DIGEST_LENGTH);
            return;
        }
        dataDone(true);
    }

    private void dataDone(boolean intact) {
        TcpCommand c = command;
        command = null;
        expectHeader();
        if (!intact) {
            DIGEST_ERRORS.warn(() -> connection + ": data digest error in " + c.request);
            c.dataCorrupted();
            return;
        }
        c.dataArrived(dataOffset + dataLength);
    }
}
