package io.sanport.hostdriver;

import io.sanport.hostdriver.contract.ContractTransport;
import io.sanport.hostdriver.contract.TransportContract;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The transport contract over the loop transport: the core as any fabric sees it, without a fabric. */
class LoopContractTest extends TransportContract {

    @Override
    protected ContractTransport open() throws Exception {
        return new Loop();
    }

    /** A target with a "loop" port; its connections are {@link LoopConnection}s. */
    static final class Loop implements ContractTransport {
        final IoProcessor iop;
        final Target target;

        Loop() throws Exception {
            this(new TargetOptions(0, 50, 5000));
        }

        Loop(TargetOptions options) throws Exception {
            iop = IoProcessor.start(1, new ReactorConfig(64, 128 * 1024, 32), List.of(BlockDevices.open("ram:16M")));
            try {
                target = Target.start(TargetConfig.parse(ContractTransport.config("loop", "0"), "loop-contract.json"),
                        options, iop);
            } catch (Exception e) {
                iop.close();
                throw e;
            }
        }

        @Override public Target target() { return target; }
        @Override public String digestsUnsupported() { return "the loop transport has no PDUs to digest"; }

        @Override
        public Connection connect(int qid, int sqsize, boolean headerDigest, boolean dataDigest) throws Exception {
            return new LoopHost(LoopTransport.connect(target.port(1)));
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

    /** Capsules as byte arrays; data not in the capsule in host memory named by a keyed SGL. */
    static final class LoopHost implements ContractTransport.Connection {
        final LoopConnection connection;
        final Map<Integer, MemorySegment> reads = new HashMap<>();

        LoopHost(LoopConnection connection) {
            this.connection = connection;
        }

        @Override
        public void submitRaw(MemorySegment sqe, byte[] inCapsule) {
            byte[] capsule = new byte[(int) SubmissionQueueEntry.SIZE + inCapsule.length];
            MemorySegment.copy(sqe, 0, MemorySegment.ofArray(capsule), 0, SubmissionQueueEntry.SIZE);
            System.arraycopy(inCapsule, 0, capsule, (int) SubmissionQueueEntry.SIZE, inCapsule.length);
            connection.send(capsule);
        }

        @Override
        public void submit(MemorySegment sqe, byte[] write, boolean inCapsule, int readLength) {
            long at = SubmissionQueueEntry.OFFSET_DPTR;
            byte[] capsule;
            if (write != null && inCapsule) {
                SglDescriptor.set(sqe, at, 0, write.length, SglDescriptor.ID_DATA_OFFSET);
                capsule = new byte[(int) SubmissionQueueEntry.SIZE + write.length];
                System.arraycopy(write, 0, capsule, (int) SubmissionQueueEntry.SIZE, write.length);
            } else {
                capsule = new byte[(int) SubmissionQueueEntry.SIZE];
                MemorySegment data = write != null ? MemorySegment.ofArray(write.clone())
                        : readLength > 0 ? MemorySegment.ofArray(new byte[readLength]) : null;
                if (data == null) {
                    SglDescriptor.setKeyed(sqe, at, 0, 0, 0, SglDescriptor.ID_KEYED);
                } else {
                    SglDescriptor.setKeyed(sqe, at, data.address(), (int) data.byteSize(), connection.register(data),
                            SglDescriptor.ID_KEYED);
                }
                if (readLength > 0) {
                    reads.put(SubmissionQueueEntry.cid(sqe), data);
                }
            }
            MemorySegment.copy(sqe, 0, MemorySegment.ofArray(capsule), 0, SubmissionQueueEntry.SIZE);
            connection.send(capsule);
        }

        @Override
        public ContractTransport.Completion next(long timeoutMillis) throws InterruptedException {
            byte[] b = connection.completion(timeoutMillis, TimeUnit.MILLISECONDS);
            if (b == null) {
                return null;
            }
            MemorySegment cqe = MemorySegment.ofArray(b);
            int cid = CompletionQueueEntry.cid(cqe);
            MemorySegment data = reads.remove(cid);
            return new ContractTransport.Completion(cid, CompletionQueueEntry.sqid(cqe), CompletionQueueEntry.sqhd(cqe),
                    CompletionQueueEntry.dw0(cqe), CompletionQueueEntry.dw1(cqe), CompletionQueueEntry.status(cqe),
                    data == null ? new byte[0] : data.toArray(ValueLayout.JAVA_BYTE));
        }

        @Override
        public void sendMalformed() {
            connection.send(new byte[32]); // half an SQE
        }

        @Override
        public boolean closedByTarget(long timeoutMillis) throws InterruptedException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (!connection.closed() && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            return connection.closed();
        }

        @Override
        public void close() {
            connection.close();
        }
    }
}
