package io.sanport.transport.rdma;

import io.sanport.hostdriver.RemoteQueue;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.contract.ContractTransport;
import io.sanport.hostdriver.contract.TransportContract;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The transport contract over NVMe/RDMA on the fake verbs provider ({@link RdmaLoopback}): capsules are SENDs
 * into the SRQ, host data moves by RDMA READ/WRITE against the fake host's registered memory.
 */
class RdmaContractTest extends TransportContract {

    @Override
    protected ContractTransport open() throws Exception {
        return new Rdma();
    }

    static final class Rdma implements ContractTransport {
        final RdmaLoopback lo = new RdmaLoopback();
        final Arena arena = Arena.ofShared(); // host memory, registered with the fake host

        Rdma() throws Exception {
        }

        @Override public Target target() { return lo.target; }
        @Override public String subsystemNqn() { return RdmaLoopback.NQN; }
        @Override public String hostNqn() { return RdmaLoopback.HOSTNQN; }
        @Override public String digestsUnsupported() { return "NVMe/RDMA has no header or data digests (the RC QP checks the data)"; }

        @Override
        public Connection connect(int qid, int sqsize, boolean headerDigest, boolean dataDigest) throws Exception {
            return new RdmaHost(lo.connect(qid, sqsize), arena);
        }

        /** Fails when the fake provider saw a bad verbs call from the target, after closing everything. */
        @Override
        public void close() throws Exception {
            List<String> errors = lo.verbs.errors();
            try {
                lo.close();
            } finally {
                arena.close();
            }
            if (!errors.isEmpty()) {
                throw new AssertionError("the fake verbs provider saw bad calls: " + errors);
            }
        }
    }

    /** In-capsule data after the SQE in the SEND; other data in registered host memory named by a keyed SGL. */
    static final class RdmaHost implements ContractTransport.Connection {
        final RdmaLoopback.Connection c;
        final Arena arena;
        final Map<Integer, MemorySegment> reads = new HashMap<>();

        RdmaHost(RdmaLoopback.Connection c, Arena arena) {
            this.c = c;
            this.arena = arena;
        }

        @Override
        public void submitRaw(MemorySegment sqe, byte[] inCapsule) {
            MemorySegment capsule = arena.allocate(SubmissionQueueEntry.SIZE + inCapsule.length);
            MemorySegment.copy(sqe, 0, capsule, 0, SubmissionQueueEntry.SIZE);
            MemorySegment.copy(inCapsule, 0, capsule, ValueLayout.JAVA_BYTE, SubmissionQueueEntry.SIZE, inCapsule.length);
            c.host().send(capsule);
        }

        @Override
        public void submit(MemorySegment sqe, byte[] write, boolean inCapsule, int readLength) {
            long at = SubmissionQueueEntry.OFFSET_DPTR;
            int n = write != null && inCapsule ? write.length : 0;
            if (n > 0) {
                SglDescriptor.set(sqe, at, 0, n, SglDescriptor.ID_DATA_OFFSET);
            } else if (write != null || readLength > 0) {
                MemorySegment data = arena.allocate(write != null ? write.length : readLength, 4096);
                if (write != null) {
                    MemorySegment.copy(write, 0, data, ValueLayout.JAVA_BYTE, 0, write.length);
                } else {
                    reads.put(SubmissionQueueEntry.cid(sqe), data);
                }
                SglDescriptor.setKeyed(sqe, at, data.address(), (int) data.byteSize(), c.host().register(data),
                        SglDescriptor.ID_KEYED);
            } else {
                SglDescriptor.setKeyed(sqe, at, 0, 0, 0, SglDescriptor.ID_KEYED);
            }
            MemorySegment capsule = arena.allocate(SubmissionQueueEntry.SIZE + n);
            MemorySegment.copy(sqe, 0, capsule, 0, SubmissionQueueEntry.SIZE);
            if (n > 0) {
                MemorySegment.copy(write, 0, capsule, ValueLayout.JAVA_BYTE, SubmissionQueueEntry.SIZE, n);
            }
            c.host().send(capsule);
        }

        @Override
        public ContractTransport.Completion next(long timeoutMillis) throws InterruptedException {
            byte[] b = c.host().response(timeoutMillis, TimeUnit.MILLISECONDS);
            if (b == null) {
                return null;
            }
            if (b.length != CompletionQueueEntry.SIZE) {
                throw new AssertionError("a response SEND of " + b.length + " bytes, not one CQE");
            }
            MemorySegment cqe = MemorySegment.ofArray(b);
            int cid = CompletionQueueEntry.cid(cqe);
            MemorySegment data = reads.remove(cid);
            return new ContractTransport.Completion(cid, CompletionQueueEntry.sqid(cqe), CompletionQueueEntry.sqhd(cqe),
                    CompletionQueueEntry.dw0(cqe), CompletionQueueEntry.dw1(cqe), CompletionQueueEntry.status(cqe),
                    data == null ? new byte[0] : data.toArray(ValueLayout.JAVA_BYTE));
        }

        /** A SEND of half an SQE. */
        @Override
        public void sendMalformed() {
            c.host().send(arena.allocate(32));
        }

        /** The target moved the QP to ERR. */
        @Override
        public boolean closedByTarget(long timeoutMillis) throws InterruptedException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (!c.host().inError() && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            return c.host().inError();
        }

        /**
         * The host disconnects: the loopback has no RDMA CM, so this does what its DISCONNECTED event does, through
         * the Remote Transport SPI.
         */
        @Override
        public void close() {
            RemoteQueue q = c.queue();
            q.disconnect();
        }
    }
}
