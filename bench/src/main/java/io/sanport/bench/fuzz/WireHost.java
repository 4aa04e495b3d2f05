package io.sanport.bench.fuzz;

import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.Crc32c;
import io.sanport.nvme.tcp.ICReq;
import io.sanport.nvme.tcp.PduHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.UUID;

/**
 * A blocking NVMe/TCP host that only knows enough to reach the state a fuzz case starts from (ICReq, admin
 * Connect, CC.EN, I/O Connect) and then sends whatever bytes it is given and reads PDUs back by PLEN,
 * checking that what the target sends is framed sanely.
 */
final class WireHost implements AutoCloseable {
    /** How long a read waits before a fuzz case calls the target silent. */
    final int readTimeoutMillis;

    final Socket socket;
    final InputStream in;
    final OutputStream out;
    final boolean hdgst;
    final boolean ddgst;
    final Crc32c crc = new Crc32c();
    final String hostnqn;
    int cntlid = -1;
    private int nextCid = 1;

    WireHost(String address, int port, boolean hdgst, boolean ddgst, String hostnqn, int readTimeoutMillis) throws IOException {
        this.readTimeoutMillis = readTimeoutMillis;
        this.socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(readTimeoutMillis);
            socket.connect(new InetSocketAddress(address, port), 5_000);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.hdgst = hdgst;
        this.ddgst = ddgst;
        this.hostnqn = hostnqn;
    }

    int cid() {
        int c = nextCid;
        nextCid = nextCid == 0xFFF ? 1 : nextCid + 1;
        return c;
    }

    void send(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    // ---------------------------------------------------------------- building valid PDUs

    byte[] icReq() {
        MemorySegment req = MemorySegment.ofArray(new byte[ICReq.HLEN]);
        PduHeader.set(req, PduHeader.TYPE_IC_REQ, 0, ICReq.HLEN, 0, ICReq.HLEN);
        ICReq.pfv(req, 0);
        ICReq.dgst(req, (hdgst ? ICReq.DIGEST_HEADER : 0) | (ddgst ? ICReq.DIGEST_DATA : 0));
        return req.toArray(ValueLayout.JAVA_BYTE);
    }

    /** A CapsuleCmd PDU with the digests this connection negotiated. */
    byte[] capsule(MemorySegment sqe, byte[] inCapsule) {
        int hd = hdgst ? 4 : 0;
        int dataLen = inCapsule == null ? 0 : inCapsule.length;
        int dd = ddgst && dataLen > 0 ? 4 : 0;
        int plen = CapsuleCommand.HLEN + hd + dataLen + dd;
        MemorySegment p = MemorySegment.ofArray(new byte[plen]);
        int flags = (hdgst ? PduHeader.FLAG_HDGSTF : 0) | (dd > 0 ? PduHeader.FLAG_DDGSTF : 0);
        PduHeader.set(p, PduHeader.TYPE_CAPSULE_CMD, flags, CapsuleCommand.HLEN, dataLen > 0 ? CapsuleCommand.HLEN + hd : 0, plen);
        MemorySegment.copy(sqe, 0, p, CapsuleCommand.OFFSET_SQE, 64);
        if (hdgst) crc.put(p, 0, CapsuleCommand.HLEN);
        if (dataLen > 0) {
            MemorySegment.copy(MemorySegment.ofArray(inCapsule), 0, p, CapsuleCommand.HLEN + hd, dataLen);
            if (ddgst) crc.put(p, CapsuleCommand.HLEN + hd, dataLen);
        }
        return p.toArray(ValueLayout.JAVA_BYTE);
    }

    static MemorySegment sqe(int opcode, int cid) {
        MemorySegment s = MemorySegment.ofArray(new byte[64]);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        SubmissionQueueEntry.cid(s, cid);
        // no data: a transport SGL of length 0, as the Linux host sends
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, SglDescriptor.ID_TCP_TRANSPORT);
        return s;
    }

    byte[] connectCapsule(int qid, int sqsize, long katoMs, int cntlid, String subnqn) {
        MemorySegment s = sqe(FabricsCommand.OPCODE, cid());
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, sqsize);
        ConnectCommand.kato(s, katoMs);
        byte[] data = new byte[ConnectCommand.DATA_LENGTH];
        MemorySegment d = MemorySegment.ofArray(data);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(hostnqn.getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, subnqn);
        ConnectData.hostnqn(d, hostnqn);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, data.length, SglDescriptor.ID_DATA_OFFSET);
        return capsule(s, data);
    }

    // ---------------------------------------------------------------- reaching a state

    void initialize() throws IOException {
        send(icReq());
        MemorySegment resp = readPdu();
        if (resp == null || PduHeader.type(resp) != PduHeader.TYPE_IC_RESP) {
            throw new IOException("no ICResp");
        }
    }

    /** Admin Connect and CC.EN = 1; returns when CSTS.RDY would be set (the target enables at once). */
    void adminQueue(String subnqn) throws IOException {
        send(connectCapsule(0, 31, 30_000, ConnectData.CNTLID_DYNAMIC, subnqn));
        cntlid = expectSuccess("admin Connect") & 0xFFFF;
        MemorySegment s = sqe(FabricsCommand.OPCODE, cid());
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(s, Property.CC);
        PropertySetCommand.value(s, 0x00460001);
        send(capsule(s, null));
        expectSuccess("CC.EN");
    }

    void ioQueue(String subnqn, int cntlid) throws IOException {
        send(connectCapsule(1, 31, 0, cntlid, subnqn));
        expectSuccess("I/O Connect");
    }

    private int expectSuccess(String what) throws IOException {
        MemorySegment pdu = readPdu();
        if (pdu == null || PduHeader.type(pdu) != PduHeader.TYPE_CAPSULE_RESP) {
            throw new IOException(what + ": no CapsuleResp");
        }
        MemorySegment cqe = pdu.asSlice(CapsuleResponse.OFFSET_CQE, 16);
        if (!Status.isSuccess(CompletionQueueEntry.status(cqe))) {
            throw new IOException(what + ": " + Status.describe(CompletionQueueEntry.status(cqe)));
        }
        return CompletionQueueEntry.dw0(cqe);
    }

    // ---------------------------------------------------------------- reading

    /**
     * One PDU framed by its PLEN, or null at end of stream. A PLEN no target should send (below 8, or beyond
     * any PDU sanport builds) is a {@link MalformedResponse}.
     */
    MemorySegment readPdu() throws IOException {
        byte[] common = new byte[8];
        int n = in.readNBytes(common, 0, 8);
        if (n == 0) return null;
        if (n < 8) throw new MalformedResponse("the target's stream ended inside a PDU header (" + n + " bytes)");
        long plen = PduHeader.plen(MemorySegment.ofArray(common));
        int hlen = PduHeader.hlen(MemorySegment.ofArray(common));
        if (plen < 8 || plen > (1 << 22) || hlen > plen) {
            throw new MalformedResponse("the target sent a PDU with PLEN " + plen + " HLEN " + hlen);
        }
        byte[] all = new byte[(int) plen];
        System.arraycopy(common, 0, all, 0, 8);
        int rest = in.readNBytes(all, 8, (int) plen - 8);
        if (rest < plen - 8) throw new MalformedResponse("the target's stream ended inside a PDU");
        return MemorySegment.ofArray(all);
    }

    /** Reads what the target still has to say until it closes; false if it neither closes nor talks for the timeout. */
    boolean drainUntilClosed(Outcome outcome, long deadlineNanos) throws IOException {
        while (System.nanoTime() < deadlineNanos) {
            MemorySegment pdu;
            try {
                pdu = readPdu();
            } catch (SocketTimeoutException e) {
                return false;
            } catch (MalformedResponse e) {
                throw e;
            } catch (IOException e) { // reset: the target dropped the connection
                outcome.reset = true;
                return true;
            }
            if (pdu == null) return true;
            outcome.saw(pdu);
        }
        return false;
    }

    /** The target put bytes on the wire that are not NVMe/TCP. */
    static final class MalformedResponse extends IOException {
        MalformedResponse(String m) { super(m); }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
