package io.sanport.transport.tcp;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.nvme.tcp.C2HData;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.Crc32c;
import io.sanport.nvme.tcp.H2CData;
import io.sanport.nvme.tcp.ICReq;
import io.sanport.nvme.tcp.ICResp;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static io.sanport.nvme.Wire.U32;

/**
 * A deliberately plain NVMe/TCP host for tests: blocking java.net sockets, heap segments, the nvme/ wire
 * structures, one PDU at a time. It does what the Linux 6.1 host does on the wire (ICReq, Connect with 1024
 * bytes in-capsule, the property handshake, SGL 0x01 / 0x5A, R2T + H2CData, C2HData) and can also send PDUs
 * the Linux host never would.
 */
final class RawHost implements AutoCloseable {
    static final String HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:0b3c1c9c-7d6a-4c1c-9d2e-1f0e6a1c2b3d";

    /** One completion, with the data a read returned. */
    record Completion(int cid, int dw0, int dw1, int sqhd, int sqid, int status, byte[] data) {
        int code() { return Status.code(status); }
        boolean dnr() { return Status.dnr(status); }
        boolean ok() { return Status.isSuccess(status); }
        @Override
        public String toString() { return "cid " + cid + " dw0 0x" + Integer.toHexString(dw0) + " " + Status.describe(status); }
    }

    final Socket socket;
    final InputStream in;
    final OutputStream out;
    final boolean hdgst;
    final boolean ddgst;
    final Crc32c crc = new Crc32c();
    long maxh2cdata;
    int cid = 1;
    int cntlid = -1;
    String hostnqn = HOSTNQN;

    private RawHost(Socket socket, boolean hdgst, boolean ddgst) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.hdgst = hdgst;
        this.ddgst = ddgst;
    }

    /** TCP connect only: no ICReq yet. */
    static RawHost open(int port, boolean hdgst, boolean ddgst) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return new RawHost(s, hdgst, ddgst);
    }

    /**
     * TCP connect from {@code local} (any 127.x address is this machine: another host address to the target) and
     * the ICReq / ICResp exchange; {@code receiveBuffer} bytes of socket receive buffer when above 0 (a small one
     * closes the window soon when the host stops reading).
     */
    static RawHost connectFrom(String local, int port, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.bind(new InetSocketAddress(local, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        RawHost h = wrap(s);
        h.initialize();
        return h;
    }

    /** A host on a socket already connected (set up by the caller: buffer sizes...); no ICReq yet. */
    static RawHost wrap(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        return new RawHost(s, false, false);
    }

    static RawHost connect(int port) throws IOException {
        return connect(port, false, false);
    }

    /** TCP connect and the ICReq / ICResp exchange. */
    static RawHost connect(int port, boolean hdgst, boolean ddgst) throws IOException {
        RawHost h = open(port, hdgst, ddgst);
        h.initialize();
        return h;
    }

    void initialize() throws IOException {
        MemorySegment req = MemorySegment.ofArray(new byte[ICReq.HLEN]);
        PduHeader.set(req, PduHeader.TYPE_IC_REQ, 0, ICReq.HLEN, 0, ICReq.HLEN);
        ICReq.pfv(req, 0);
        ICReq.dgst(req, (hdgst ? ICReq.DIGEST_HEADER : 0) | (ddgst ? ICReq.DIGEST_DATA : 0));
        send(req.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        MemorySegment resp = MemorySegment.ofArray(readFully(ICResp.HLEN));
        check(PduHeader.type(resp) == PduHeader.TYPE_IC_RESP, "ICResp type");
        check(PduHeader.plen(resp) == ICResp.HLEN, "ICResp PLEN");
        check(ICResp.pfv(resp) == 0 && ICResp.cpda(resp) == 0, "ICResp PFV/CPDA");
        check(ICResp.dgst(resp) == ICReq.dgst(req), "ICResp must echo the digests asked for");
        maxh2cdata = ICResp.maxh2cdata(resp);
        check(maxh2cdata >= 4096 && maxh2cdata % 4 == 0, "MAXH2CDATA " + maxh2cdata);
    }

    // ---------------------------------------------------------------- raw PDUs

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    byte[] readFully(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new EOFException("connection closed after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** One whole PDU as received; header digest checked. */
    MemorySegment readPdu() throws IOException {
        byte[] common = readFully(8);
        MemorySegment c = MemorySegment.ofArray(common);
        long plen = PduHeader.plen(c);
        check(plen >= 8 && plen < (1 << 24), "PLEN " + plen);
        byte[] all = new byte[(int) plen];
        System.arraycopy(common, 0, all, 0, 8);
        byte[] rest = readFully((int) plen - 8);
        System.arraycopy(rest, 0, all, 8, rest.length);
        MemorySegment pdu = MemorySegment.ofArray(all);
        int type = PduHeader.type(pdu);
        if (type != PduHeader.TYPE_C2H_TERM_REQ) {
            check(((PduHeader.flags(pdu) & PduHeader.FLAG_HDGSTF) != 0) == hdgst, "HDGSTF on type " + type);
            if (hdgst) {
                check(crc.verify(pdu, 0, PduHeader.hlen(pdu)), "header digest of type " + type);
            }
        }
        return pdu;
    }

    /** A CapsuleCmd PDU for {@code sqe} with optional in-capsule data. */
    byte[] capsule(MemorySegment sqe, byte[] inCapsule) {
        int hd = hdgst ? 4 : 0;
        int dataLen = inCapsule == null ? 0 : inCapsule.length;
        int dd = ddgst && dataLen > 0 ? 4 : 0;
        int plen = CapsuleCommand.HLEN + hd + dataLen + dd;
        MemorySegment p = MemorySegment.ofArray(new byte[plen]);
        int flags = (hdgst ? PduHeader.FLAG_HDGSTF : 0) | (dd > 0 ? PduHeader.FLAG_DDGSTF : 0);
        PduHeader.set(p, PduHeader.TYPE_CAPSULE_CMD, flags, CapsuleCommand.HLEN, dataLen > 0 ? CapsuleCommand.HLEN + hd : 0, plen);
        MemorySegment.copy(sqe, 0, p, CapsuleCommand.OFFSET_SQE, 64);
        if (hdgst) {
            crc.put(p, 0, CapsuleCommand.HLEN);
        }
        if (dataLen > 0) {
            MemorySegment.copy(MemorySegment.ofArray(inCapsule), 0, p, CapsuleCommand.HLEN + hd, dataLen);
            if (ddgst) {
                crc.put(p, CapsuleCommand.HLEN + hd, dataLen);
            }
        }
        return p.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    static MemorySegment sqe(int opcode) {
        MemorySegment s = MemorySegment.ofArray(new byte[64]);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        return s;
    }

    // ---------------------------------------------------------------- commands

    /**
     * Sends one command and waits for its completion. {@code write} goes in-capsule when {@code inCapsule},
     * else by R2T; {@code readLength} bytes are expected back by C2HData.
     */
    Completion execute(MemorySegment sqe, byte[] write, boolean inCapsule, int readLength) throws IOException {
        int id = nextCid();
        SubmissionQueueEntry.cid(sqe, id);
        long at = SubmissionQueueEntry.OFFSET_DPTR;
        if (write != null && inCapsule) {
            SglDescriptor.set(sqe, at, 0, write.length, SglDescriptor.ID_DATA_OFFSET);
            send(capsule(sqe, write));
        } else {
            SglDescriptor.set(sqe, at, 0, write != null ? write.length : readLength, SglDescriptor.ID_TCP_TRANSPORT);
            send(capsule(sqe, null));
        }
        return await(id, write, readLength);
    }

    /** Sends an SQE as it is (SGL included) and waits for its completion. */
    Completion executeRaw(MemorySegment sqe, byte[] inCapsule) throws IOException {
        int id = nextCid();
        SubmissionQueueEntry.cid(sqe, id);
        send(capsule(sqe, inCapsule));
        return await(id, null, 0);
    }

    int nextCid() {
        int id = cid;
        cid = cid == 0xFFF ? 1 : cid + 1;
        if (id == 31) { // the Linux host keeps CID 31 for the AER
            return nextCid();
        }
        return id;
    }

    final Map<Integer, Completion> early = new HashMap<>(); // completions read while waiting for another

    /** Reads PDUs until the completion of {@code id}, answering R2Ts with {@code write}'s bytes. */
    Completion await(int id, byte[] write, int readLength) throws IOException {
        Completion done = early.remove(id);
        if (done != null) {
            return done;
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (true) {
            MemorySegment pdu = readPdu();
            int type = PduHeader.type(pdu);
            int hd = hdgst ? 4 : 0;
            switch (type) {
                case PduHeader.TYPE_R2T -> {
                    check(R2T.cccid(pdu) == id, "R2T for cid " + R2T.cccid(pdu) + " while waiting for " + id);
                    check(write != null, "R2T for a command without data to write");
                    h2cData(id, R2T.ttag(pdu), write, (int) R2T.r2to(pdu), (int) R2T.r2tl(pdu));
                }
                case PduHeader.TYPE_C2H_DATA -> {
                    check(C2HData.cccid(pdu) == id, "C2HData for cid " + C2HData.cccid(pdu));
                    int pdo = PduHeader.pdo(pdu);
                    int len = (int) C2HData.datal(pdu);
                    check(pdo == C2HData.HLEN + hd, "C2HData PDO " + pdo);
                    check(C2HData.datao(pdu) == data.size(), "C2HData in order");
                    check(((PduHeader.flags(pdu) & PduHeader.FLAG_DDGSTF) != 0) == ddgst, "DDGSTF");
                    if (ddgst) {
                        check(crc.verify(pdu, pdo, len), "C2HData data digest");
                    }
                    data.write(pdu.asSlice(pdo, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                    if ((PduHeader.flags(pdu) & PduHeader.FLAG_SUCCESS) != 0) {
                        return new Completion(id, 0, 0, 0, 0, 0, data.toByteArray());
                    }
                }
                case PduHeader.TYPE_CAPSULE_RESP -> {
                    MemorySegment cqe = pdu.asSlice(CapsuleResponse.OFFSET_CQE, 16);
                    Completion c = new Completion(CompletionQueueEntry.cid(cqe), CompletionQueueEntry.dw0(cqe),
                            CompletionQueueEntry.dw1(cqe), CompletionQueueEntry.sqhd(cqe), CompletionQueueEntry.sqid(cqe),
                            CompletionQueueEntry.status(cqe), data.toByteArray());
                    if (c.cid() == id) {
                        return c;
                    }
                    early.put(c.cid(), c);
                }
                default -> throw new IOException("unexpected PDU type " + type + " while waiting for cid " + id);
            }
        }
    }

    /** Reads PDUs until {@code n} completions arrived, in any order, gathering C2HData per command. */
    Map<Integer, Completion> collect(int n) throws IOException {
        Map<Integer, ByteArrayOutputStream> data = new HashMap<>();
        Map<Integer, Completion> done = new HashMap<>();
        while (done.size() < n) {
            MemorySegment pdu = readPdu();
            switch (PduHeader.type(pdu)) {
                case PduHeader.TYPE_C2H_DATA -> {
                    int pdo = PduHeader.pdo(pdu);
                    data.computeIfAbsent(C2HData.cccid(pdu), k -> new ByteArrayOutputStream())
                            .write(pdu.asSlice(pdo, C2HData.datal(pdu)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
                case PduHeader.TYPE_CAPSULE_RESP -> {
                    MemorySegment cqe = pdu.asSlice(CapsuleResponse.OFFSET_CQE, 16);
                    int id = CompletionQueueEntry.cid(cqe);
                    ByteArrayOutputStream d = data.remove(id);
                    done.put(id, new Completion(id, CompletionQueueEntry.dw0(cqe), CompletionQueueEntry.dw1(cqe),
                            CompletionQueueEntry.sqhd(cqe), CompletionQueueEntry.sqid(cqe),
                            CompletionQueueEntry.status(cqe), d == null ? new byte[0] : d.toByteArray()));
                }
                default -> throw new IOException("unexpected PDU type " + PduHeader.type(pdu));
            }
        }
        return done;
    }

    /** H2CData PDUs for [offset, offset + length) of {@code write}, at most MAXH2CDATA each. */
    void h2cData(int id, int ttag, byte[] write, int offset, int length) throws IOException {
        int hd = hdgst ? 4 : 0;
        int dd = ddgst ? 4 : 0;
        int done = 0;
        while (done < length) {
            int n = (int) Math.min(length - done, maxh2cdata);
            int plen = H2CData.HLEN + hd + n + dd;
            MemorySegment p = MemorySegment.ofArray(new byte[plen]);
            int flags = (hdgst ? PduHeader.FLAG_HDGSTF : 0) | (ddgst ? PduHeader.FLAG_DDGSTF : 0)
                    | (done + n == length ? PduHeader.FLAG_LAST_PDU : 0);
            PduHeader.set(p, PduHeader.TYPE_H2C_DATA, flags, H2CData.HLEN, H2CData.HLEN + hd, plen);
            H2CData.cccid(p, id);
            H2CData.ttag(p, ttag);
            H2CData.datao(p, offset + done);
            H2CData.datal(p, n);
            if (hdgst) {
                crc.put(p, 0, H2CData.HLEN);
            }
            MemorySegment.copy(MemorySegment.ofArray(write), offset + done, p, H2CData.HLEN + hd, n);
            if (ddgst) {
                crc.put(p, H2CData.HLEN + hd, n);
            }
            send(p.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            done += n;
        }
    }

    // ---------------------------------------------------------------- fabrics

    Completion connect(int qid, int sqsize, long katoMs, int cntlid, String subnqn) throws IOException {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, sqsize);
        ConnectCommand.kato(s, katoMs);
        byte[] data = new byte[1024];
        MemorySegment d = MemorySegment.ofArray(data);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(hostnqn.getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, subnqn);
        ConnectData.hostnqn(d, hostnqn);
        Completion c = execute(s, data, true, 0);
        if (c.ok() && qid == 0) {
            this.cntlid = c.dw0() & 0xFFFF;
        }
        return c;
    }

    long propertyGet(int offset, boolean eight) throws IOException {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
        PropertyGetCommand.attrib(s, eight ? 1 : 0);
        PropertyGetCommand.ofst(s, offset);
        Completion c = ok(execute(s, null, false, 0));
        return Integer.toUnsignedLong(c.dw0()) | (long) c.dw1() << 32;
    }

    void propertySet(int offset, int value) throws IOException {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(s, offset);
        PropertySetCommand.value(s, value);
        ok(execute(s, null, false, 0));
    }

    /** The admin queue bring-up of the Linux 6.1 host: Connect, CAP, CC (EN=0), CC read-back, CC (EN=1), poll CSTS. */
    void adminQueue(String subnqn, long katoMs) throws IOException {
        ok(connect(0, 31, katoMs, ConnectData.CNTLID_DYNAMIC, subnqn));
        long cap = propertyGet(Property.CAP, true);
        check(Property.capMqes(cap) >= 31 && Property.capMpsmin(cap) == 0, "CAP 0x" + Long.toHexString(cap));
        propertySet(Property.CC, 0x00460000);
        check(propertyGet(Property.CC, false) == 0x00460000, "CC read-back");
        propertySet(Property.CC, 0x00460001);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((propertyGet(Property.CSTS, false) & Property.CSTS_RDY) == 0) {
            check(System.nanoTime() < deadline, "CSTS.RDY within 5 s");
        }
        check(propertyGet(Property.VS, false) == Property.VS_1_3, "VS");
    }

    /** Delete-controller: CC.SHN = normal, poll CSTS.SHST = complete. */
    void shutdownController() throws IOException {
        propertySet(Property.CC, 0x00464001);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (Property.cstsShst((int) propertyGet(Property.CSTS, false)) != 2) {
            check(System.nanoTime() < deadline, "CSTS.SHST complete within 5 s");
        }
    }

    // ---------------------------------------------------------------- admin

    byte[] identify(int cns, int nsid) throws IOException {
        MemorySegment s = sqe(AdminOpcode.IDENTIFY);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.cdw10(s, cns);
        return ok(execute(s, null, false, 4096)).data();
    }

    Completion setFeature(int fid, int cdw11) throws IOException {
        MemorySegment s = sqe(AdminOpcode.SET_FEATURES);
        SubmissionQueueEntry.cdw10(s, fid);
        SubmissionQueueEntry.cdw11(s, cdw11);
        return execute(s, null, false, 0);
    }

    int setNumberOfQueues(int n) throws IOException {
        return ok(setFeature(FeatureId.NUM_QUEUES, FeatureId.numQueues(n - 1, n - 1))).dw0();
    }

    Completion getLogPage(int lid, int nsid, int length, long offset) throws IOException {
        MemorySegment s = sqe(AdminOpcode.GET_LOG_PAGE);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.cdw10(s, lid);
        SubmissionQueueEntry.logPageLength(s, length);
        SubmissionQueueEntry.cdw12(s, (int) offset);
        SubmissionQueueEntry.cdw13(s, (int) (offset >>> 32));
        return execute(s, null, false, length);
    }

    Completion keepAlive() throws IOException {
        return execute(sqe(AdminOpcode.KEEP_ALIVE), null, false, 0);
    }

    // ---------------------------------------------------------------- I/O

    Completion write(int nsid, long slba, byte[] data, int lbaSize, boolean inCapsule) throws IOException {
        MemorySegment s = sqe(IoOpcode.WRITE);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, data.length / lbaSize - 1);
        return execute(s, data, inCapsule, 0);
    }

    Completion read(int nsid, long slba, int blocks, int lbaSize) throws IOException {
        MemorySegment s = sqe(IoOpcode.READ);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, blocks - 1);
        return execute(s, null, false, blocks * lbaSize);
    }

    Completion flush(int nsid) throws IOException {
        MemorySegment s = sqe(IoOpcode.FLUSH);
        SubmissionQueueEntry.nsid(s, nsid);
        return execute(s, null, false, 0);
    }

    static Completion ok(Completion c) throws IOException {
        if (!c.ok()) {
            throw new IOException("command failed: " + c);
        }
        return c;
    }

    static void check(boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException("protocol check failed: " + what);
        }
    }

    static int u32(byte[] b, int offset) {
        return MemorySegment.ofArray(b).get(U32, offset);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
