package io.sanport.transport.tcp;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.hostdriver.contract.ContractTransport;
import io.sanport.hostdriver.contract.TransportContract;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.C2HData;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The transport contract over NVMe/TCP on 127.0.0.1: real sockets, the target's listener, {@link RawHost} PDUs. */
class TcpContractTest extends TransportContract {

    @Override
    protected ContractTransport open() throws Exception {
        return new Tcp();
    }

    static final class Tcp implements ContractTransport {
        final IoProcessor iop;
        final Target target;
        final int port;

        Tcp() throws Exception {
            iop = IoProcessor.start(1, new ReactorConfig(64, 128 * 1024, 32), List.of(BlockDevices.open("ram:16M")));
            try {
                target = Target.start(TargetConfig.parse(ContractTransport.config("tcp", "0"), "tcp-contract.json"),
                        new TargetOptions(0, 50, 5000), iop);
            } catch (Exception e) {
                iop.close();
                throw e;
            }
            port = target.port(1).boundPort();
        }

        @Override public Target target() { return target; }
        @Override public String digestsUnsupported() { return null; }

        @Override
        public Connection connect(int qid, int sqsize, boolean headerDigest, boolean dataDigest) throws IOException {
            RawHost h = RawHost.connect(port, headerDigest, dataDigest);
            h.hostnqn = HOSTNQN;
            return new TcpHost(h);
        }

        @Override
        public void close() throws Exception {
            try {
                target.close();
            } finally {
                iop.close();
            }
        }
    }

    /** In-capsule data in the CapsuleCmd; other writes answer the target's R2Ts; reads arrive as C2HData. */
    static final class TcpHost implements ContractTransport.Connection {
        final RawHost h;
        final Map<Integer, byte[]> writes = new HashMap<>();
        final Map<Integer, ByteArrayOutputStream> reads = new HashMap<>();

        TcpHost(RawHost h) {
            this.h = h;
        }

        @Override
        public void submitRaw(MemorySegment sqe, byte[] inCapsule) throws IOException {
            h.send(h.capsule(sqe, inCapsule.length == 0 ? null : inCapsule));
        }

        @Override
        public void submit(MemorySegment sqe, byte[] write, boolean inCapsule, int readLength) throws IOException {
            long at = SubmissionQueueEntry.OFFSET_DPTR;
            int cid = SubmissionQueueEntry.cid(sqe);
            if (write != null && inCapsule) {
                SglDescriptor.set(sqe, at, 0, write.length, SglDescriptor.ID_DATA_OFFSET);
                h.send(h.capsule(sqe, write));
                return;
            }
            SglDescriptor.set(sqe, at, 0, write != null ? write.length : readLength, SglDescriptor.ID_TCP_TRANSPORT);
            if (write != null) {
                writes.put(cid, write);
            }
            h.send(h.capsule(sqe, null));
        }

        @Override
        public ContractTransport.Completion next(long timeoutMillis) throws IOException {
            h.socket.setSoTimeout((int) Math.max(1, timeoutMillis));
            try {
                while (true) {
                    MemorySegment pdu = h.readPdu();
                    switch (PduHeader.type(pdu)) {
                        case PduHeader.TYPE_R2T -> {
                            byte[] write = writes.get(R2T.cccid(pdu));
                            RawHost.check(write != null, "R2T for cid " + R2T.cccid(pdu) + " without data to write");
                            h.h2cData(R2T.cccid(pdu), R2T.ttag(pdu), write, (int) R2T.r2to(pdu), (int) R2T.r2tl(pdu));
                        }
                        case PduHeader.TYPE_C2H_DATA -> {
                            int pdo = PduHeader.pdo(pdu);
                            int len = (int) C2HData.datal(pdu);
                            if (h.ddgst) {
                                RawHost.check(h.crc.verify(pdu, pdo, len), "C2HData data digest");
                            }
                            reads.computeIfAbsent(C2HData.cccid(pdu), k -> new ByteArrayOutputStream())
                                    .write(pdu.asSlice(pdo, len).toArray(ValueLayout.JAVA_BYTE));
                            RawHost.check((PduHeader.flags(pdu) & PduHeader.FLAG_SUCCESS) == 0,
                                    "SUCCESS without SQ flow control disabled");
                        }
                        case PduHeader.TYPE_CAPSULE_RESP -> {
                            MemorySegment cqe = pdu.asSlice(CapsuleResponse.OFFSET_CQE, CompletionQueueEntry.SIZE);
                            int cid = CompletionQueueEntry.cid(cqe);
                            writes.remove(cid);
                            ByteArrayOutputStream d = reads.remove(cid);
                            return new ContractTransport.Completion(cid, CompletionQueueEntry.sqid(cqe),
                                    CompletionQueueEntry.sqhd(cqe), CompletionQueueEntry.dw0(cqe),
                                    CompletionQueueEntry.dw1(cqe), CompletionQueueEntry.status(cqe),
                                    d == null ? new byte[0] : d.toByteArray());
                        }
                        default -> throw new IOException("unexpected PDU type " + PduHeader.type(pdu));
                    }
                }
            } catch (SocketTimeoutException e) {
                return null;
            }
        }

        /** A CapsuleCmd whose HLEN is wrong. */
        @Override
        public void sendMalformed() throws IOException {
            byte[] pdu = h.capsule(RawHost.sqe(AdminOpcode.KEEP_ALIVE), null);
            pdu[2] = 70;
            h.send(pdu);
        }

        /** EOF (after the C2HTermReq) or a reset. */
        @Override
        public boolean closedByTarget(long timeoutMillis) throws IOException {
            h.socket.setSoTimeout((int) Math.max(1, timeoutMillis));
            try {
                while (h.in.read() >= 0) {
                    // the C2HTermReq, then EOF
                }
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (SocketException reset) {
                return true;
            }
        }

        @Override
        public void close() throws IOException {
            h.close();
        }
    }
}
