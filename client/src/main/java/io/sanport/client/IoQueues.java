package io.sanport.client;

import io.sanport.nvme.DsmRange;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SubmissionQueueEntry;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The I/O queues of one association and the I/O path over them, for {@link RemoteNamespace}: commands are spread
 * over the queues round-robin; each is a slot acquired, its SQE built in place, then submitted (callback, no
 * allocation) or executed (blocking). A failed queue refuses new commands at once.
 * <p>
 * A command submitted from a queue's own completion thread (a callback resubmitting) stays on that queue while it
 * has a free slot: the reader sends it in one batch with the others before it blocks, where a command handed to
 * another queue's blocked reader costs its own sendmsg and a lock shared by two threads. Round-robin resubmission
 * made two queues slower than one (issue 16).
 */
final class IoQueues {
    private final RemoteController controller;
    private final long timeoutMillis;
    /** Filled while the association comes up, read-only after. */
    private final List<NvmeQueue> queues = new ArrayList<>();
    private final AtomicInteger next = new AtomicInteger();

    IoQueues(RemoteController controller, long timeoutMillis) {
        this.controller = controller;
        this.timeoutMillis = timeoutMillis;
    }

    void add(NvmeQueue q) {
        queues.add(q);
    }

    /** The queues, in QID order. */
    List<NvmeQueue> queues() {
        return queues;
    }

    int count() {
        return queues.size();
    }

    long payloadBytesCopied() {
        long n = 0;
        for (NvmeQueue q : queues) {
            n += q.payloadBytesCopied();
        }
        return n;
    }

    /** Ends every queue with {@code cause} (the association is dead). */
    void fail(NvmeTransportException cause) {
        queues.forEach(q -> q.fail(cause));
    }

    void close() {
        for (NvmeQueue q : queues) {
            q.close();
        }
    }

    private NvmeQueue next() throws NvmeTransportException {
        int n = queues.size();
        if (n == 0) {
            throw new IllegalStateException(controller + " has no I/O queues");
        }
        NvmeQueue q = queues.get(Math.floorMod(next.getAndIncrement(), n));
        NvmeTransportException failed = q.failure();
        if (failed != null) {
            throw new NvmeTransportException(failed.getMessage(), failed);
        }
        return q;
    }

    private CommandSlot prepare(NvmeQueue q, String name, int opcode, int nsid, long slba, int cdw12,
                                MemorySegment data, boolean toController) throws IOException {
        return fill(q, q.acquire(name), opcode, nsid, slba, cdw12, data, toController);
    }

    private static CommandSlot fill(NvmeQueue q, CommandSlot slot, int opcode, int nsid, long slba, int cdw12,
                                    MemorySegment data, boolean toController) {
        try {
            MemorySegment sqe = slot.sqe;
            SubmissionQueueEntry.opcode(sqe, opcode);
            SubmissionQueueEntry.nsid(sqe, nsid);
            SubmissionQueueEntry.slba(sqe, slba);
            SubmissionQueueEntry.cdw12(sqe, cdw12);
            if (data != null) {
                slot.data(data, toController);
            }
            return slot;
        } catch (RuntimeException e) {
            q.cancel(slot);
            throw e;
        }
    }

    /** Submits an I/O command; {@code callback} runs once on the queue's completion thread. */
    void submit(String name, int opcode, int nsid, long slba, int cdw12, MemorySegment data, boolean toController,
                IoCallback callback) throws IOException {
        NvmeQueue own = own();
        if (own != null && own.failure() == null) {
            CommandSlot slot = own.tryAcquire(name);
            if (slot != null) {
                own.submit(fill(own, slot, opcode, nsid, slba, cdw12, data, toController), callback);
                return;
            }
        }
        NvmeQueue q = next();
        q.submit(prepare(q, name, opcode, nsid, slba, cdw12, data, toController), callback);
    }

    /** The queue whose completion thread is calling, or null. */
    private NvmeQueue own() {
        Thread current = Thread.currentThread();
        for (int i = 0, n = queues.size(); i < n; i++) {
            NvmeQueue q = queues.get(i);
            if (q.completionThread() == current) {
                return q;
            }
        }
        return null;
    }

    /** Executes an I/O command and waits for it; returns CQE DW1:DW0. */
    long execute(String name, int opcode, int nsid, long slba, int cdw12, MemorySegment data, boolean toController)
            throws IOException {
        NvmeQueue q = next();
        return q.execute(prepare(q, name, opcode, nsid, slba, cdw12, data, toController), timeoutMillis);
    }

    /** Dataset Management with the Deallocate attribute over {@code ranges} (pairs of slba, blocks). */
    void deallocate(int nsid, long[] ranges) throws IOException {
        int n = ranges.length / 2;
        if (n < 1 || n > DsmRange.MAX_RANGES || ranges.length % 2 != 0) {
            throw new IllegalArgumentException("1.." + DsmRange.MAX_RANGES + " (slba, blocks) pairs expected");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(DsmRange.SIZE * n, 16);
            for (int i = 0; i < n; i++) {
                MemorySegment r = list.asSlice(i * DsmRange.SIZE, DsmRange.SIZE);
                DsmRange.slba(r, ranges[2 * i]);
                DsmRange.nlb(r, ranges[2 * i + 1]);
            }
            NvmeQueue q = next();
            CommandSlot slot = prepare(q, "Dataset Management (deallocate)", IoOpcode.DSM, nsid, 0, 0, list, true);
            SubmissionQueueEntry.cdw10(slot.sqe, n - 1);
            SubmissionQueueEntry.cdw11(slot.sqe, SubmissionQueueEntry.DSM_AD);
            q.execute(slot, timeoutMillis);
        }
    }
}
