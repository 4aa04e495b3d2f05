package io.sanport.transport.tcp;

import static io.sanport.nvme.Wire.U32;

import io.sanport.hostdriver.Request;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.C2HData;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import java.lang.foreign.MemorySegment;

/**
 * One command slot of an NVMe/TCP queue (nvmet's {@code struct nvmet_tcp_cmd}): the core's {@link Request} of the
 * same tag, where the command is on the wire ({@link State}), how much of the host's data is in, and its
 * preallocated transmit area (R2T or C2HData header, data digest, CapsuleResp) and iovecs. Made once per slot
 * when the queue is sized; reused for every command of that slot.
 */
final class TcpCommand extends SendJob {

    /** Where the command is on the wire. */
    enum State {
        /** No command in this slot. */
        FREE,
        /** With the core: being checked, waiting for a buffer or executing; no data moving. */
        WITH_CORE,
        /** {@code receiveData}: the in-capsule data, next in the stream, goes into the buffer. */
        RECV_IN_CAPSULE,
        /** {@code receiveData}: an R2T is queued or sent; H2CData PDUs fill the buffer. */
        RECV_H2C,
        /** {@code sendResponse}: C2HData (if any) and CapsuleResp are queued; the slot is released once they are sent. */
        SEND_RESPONSE
    }

    // transmit area: [0, 28) C2HData or R2T header + digest, [32, 36) data digest, [40, 68) CapsuleResp + digest
    static final int TX_SIZE = 128;
    private static final int TX_DATA_HDR = 0;
    private static final int TX_DDGST = 32;
    private static final int TX_RESP = 40;
    /** C2HData header, data, data digest, CapsuleResp. */
    static final int IOV_COUNT = 4;

    private final TcpConnection connection;
    final Request request;
    private final MemorySegment header;      // R2T or C2HData + header digest
    private final MemorySegment dataDigest;
    private final MemorySegment response;    // CapsuleResp + header digest
    private final MemorySegment cqe;
    private State state = State.FREE;
    private long received;                   // bytes of the host's data in the buffer (nvmet rbytes_done)
    private long dataDueFrom;                // RECV_*: when the data was asked for, or the last H2CData came

    /** {@code tx} is {@link #TX_SIZE} bytes, {@code iov} room for {@link #IOV_COUNT} iovecs. */
    TcpCommand(TcpConnection connection, Request request, MemorySegment tx, MemorySegment iov) {
        super(iov);
        this.connection = connection;
        this.request = request;
        this.header = tx.asSlice(TX_DATA_HDR, C2HData.SIZE + 4);
        this.dataDigest = tx.asSlice(TX_DDGST, 4);
        this.response = tx.asSlice(TX_RESP, CapsuleResponse.SIZE + 4);
        this.cqe = response.asSlice(CapsuleResponse.OFFSET_CQE, CompletionQueueEntry.SIZE);
    }

    State state() { return state; }

    /** Bytes of the host's data received so far: where the next H2CData must start. */
    long received() { return received; }

    /** A CapsuleCmd took this slot; its SQE is in the request; {@code inCapsule} data bytes follow it. */
    void capsule(int inCapsule) {
        request.inCapsuleLength(inCapsule);
        received = 0;
        state = State.WITH_CORE;
    }

    /**
     * SGL1 of the SQE: in-capsule data (Data Block, Offset) or data to fetch with R2T (Transport SGL); nvmet's
     * {@code nvmet_tcp_map_data}.
     */
    int mapData() {
        MemorySegment sqe = request.sqe();
        long at = SubmissionQueueEntry.OFFSET_DPTR;
        int id = SglDescriptor.identifier(sqe, at);
        long length = SglDescriptor.length(sqe, at);
        if (id == SglDescriptor.identifier(SglDescriptor.TYPE_DATA_BLOCK, SglDescriptor.SUBTYPE_OFFSET)) {
            if (SglDescriptor.address(sqe, at) != 0 || length > TcpTransport.maxInCapsule()) {
                return Status.SGL_INVALID_OFFSET;
            }
            if (length != request.inCapsuleLength()) {
                return Status.SGL_INVALID_DATA;
            }
        } else if (id == SglDescriptor.ID_TCP_TRANSPORT) {
            if (request.inCapsuleLength() != 0) {
                return Status.SGL_INVALID_DATA;
            }
        } else {
            return Status.SGL_INVALID_TYPE;
        }
        request.dataLength(length);
        return Status.SUCCESS;
    }

    /** The core has a buffer for the host's data: take it from the stream, or ask for it with one R2T. */
    void receiveData() {
        if (request.inCapsuleLength() > 0) {
            state = State.RECV_IN_CAPSULE;
            dataDueFrom = connection.clock(); // a host may announce data (PLEN) it never sends
            connection.receiver().inCapsuleData(this);
            return;
        }
        // one R2T for all of it, as nvmet: the host answers with H2CData PDUs of up to MAXH2CDATA each
        state = State.RECV_H2C;
        dataDueFrom = connection.clock();
        boolean hdgst = connection.headerDigest();
        int hd = hdgst ? PduHeader.DIGEST_LENGTH : 0;
        PduHeader.set(header, PduHeader.TYPE_R2T, hdgst ? PduHeader.FLAG_HDGSTF : 0, R2T.HLEN, 0, R2T.HLEN + hd);
        R2T.cccid(header, request.cid());
        R2T.ttag(header, request.tag());
        R2T.r2to(header, 0);
        R2T.r2tl(header, request.dataLength());
        header.set(U32, 20, 0);
        if (hdgst) {
            connection.crc().put(header, 0, R2T.HLEN);
        }
        iovec(0, header.address(), R2T.HLEN + hd);
        ready(1, R2T.HLEN + hd);
        connection.sendQueue().add(this);
    }

    /** Whether an H2CData PDU for {@code cccid} may fill this command's buffer. */
    boolean expectsH2CData(int cccid) {
        return state == State.RECV_H2C && cccid == request.cid();
    }

    /** An H2CData PDU for this command passed its checks: the host is still sending. */
    void dataComing() {
        dataDueFrom = connection.clock();
    }

    /** Whether the host owes this command data (it holds a pool buffer) for longer than {@code due} ns. */
    boolean awaitingDataSince(long now, long due) {
        return (state == State.RECV_H2C || state == State.RECV_IN_CAPSULE) && now - dataDueFrom > due;
    }

    /** The receiver put the host's data up to {@code end} into the buffer; all of it goes to the core. */
    void dataArrived(long end) {
        received = end;
        if (received == request.dataLength()) {
            state = State.WITH_CORE;
            connection.queue().dataReceived(request);
        }
    }

    /** A data digest did not match: the core completes the command with a transfer error. */
    void dataCorrupted() {
        state = State.WITH_CORE;
        connection.queue().dataFailed(request, Status.DATA_XFER_ERROR);
    }

    /** Queues the completion: the CapsuleResp, after a C2HData PDU for a successful read. */
    void sendResponse() {
        state = State.SEND_RESPONSE;
        Request r = request;
        boolean hdgst = connection.headerDigest();
        int hd = hdgst ? PduHeader.DIGEST_LENGTH : 0;
        PduHeader.set(response, PduHeader.TYPE_CAPSULE_RESP, hdgst ? PduHeader.FLAG_HDGSTF : 0,
                CapsuleResponse.HLEN, 0, CapsuleResponse.HLEN + hd);
        r.fillCompletion(cqe);
        if (hdgst) {
            connection.crc().put(response, 0, CapsuleResponse.HLEN);
        }
        if (!r.sendsData()) {
            iovec(0, response.address(), CapsuleResponse.HLEN + hd);
            ready(1, CapsuleResponse.HLEN + hd);
            connection.sendQueue().add(this);
            return;
        }
        // nvmet and SPDK use SUCCESS (no CapsuleResp) only when the host disabled SQ flow control
        boolean success = connection.queue().sqFlowDisabled() && r.dw0() == 0 && r.dw1() == 0;
        boolean ddgst = connection.dataDigest();
        int dd = ddgst ? PduHeader.DIGEST_LENGTH : 0;
        long length = r.dataLength();
        int flags = PduHeader.FLAG_LAST_PDU | (success ? PduHeader.FLAG_SUCCESS : 0)
                | (hdgst ? PduHeader.FLAG_HDGSTF : 0) | (ddgst ? PduHeader.FLAG_DDGSTF : 0);
        PduHeader.set(header, PduHeader.TYPE_C2H_DATA, flags, C2HData.HLEN, C2HData.HLEN + hd,
                C2HData.HLEN + hd + length + dd);
        C2HData.cccid(header, r.cid());
        C2HData.ttag(header, 0);
        C2HData.datao(header, 0);
        C2HData.datal(header, length);
        header.set(U32, 20, 0);
        if (hdgst) {
            connection.crc().put(header, 0, C2HData.HLEN);
        }
        int n = 0;
        iovec(n++, header.address(), C2HData.HLEN + hd);
        iovec(n++, r.buffer().address(), length);
        if (ddgst) {
            dataDigest.set(U32, 0, connection.digest(r.buffer(), 0, (int) length));
            iovec(n++, dataDigest.address(), 4);
        }
        long total = C2HData.HLEN + hd + length + dd;
        if (!success) {
            iovec(n++, response.address(), CapsuleResponse.HLEN + hd);
            total += CapsuleResponse.HLEN + hd;
        }
        ready(n, total);
        connection.sendQueue().add(this);
    }

    /** The R2T is sent (the host now sends H2CData), or the completion is: the slot goes back to the core. */
    @Override
    void sent() {
        if (state == State.SEND_RESPONSE) {
            state = State.FREE;
            connection.queue().release(request);
        }
    }

    @Override
    public String toString() {
        return "nvme-tcp command " + request + " " + state;
    }
}
